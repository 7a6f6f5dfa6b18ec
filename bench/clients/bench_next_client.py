"""Benchmark: "next client" with 1,000,000 campaign members and 20 agents pulling at once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clients_dev \
        .venv/bin/python bench/clients/bench_next_client.py [--members 1000000] [--pulls 50] [--repeat 3]

Creates a scratch database (bench_clients, see benchdb.py) with one running campaign of
`--members` members (due over the past week; 5 % of the clients live in Asia/Tokyo, out
of calling hours at the benchmark's instant, so the "move a zone to its next opening"
path runs; 1 % became do-not-call after joining), then `--repeat` times: 20 threads, one
per agent, pressing "next client" all at the same moment (a barrier), `--pulls` times;
once all 20 have their client each records a "no answer" (what an agent does), then the
next round. The queue's clock is fixed (a Wednesday 15:00 in Paris). Measures
the latency of each clients.services.campaign_next_member call and checks that no member
was handed twice and no do-not-call client was handed. Exit status 0 when the median p99
is under 50 ms and nothing was handed twice.
"""

import argparse
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchdb  # noqa: E402

AGENTS = 20
TARGET_P99_MS = 50


def bench_instant() -> datetime:
    """The last Wednesday 15:00 in Paris before now: inside calling hours for Paris, at night
    in Tokyo; in the past, so members retried after a "no answer" are never due again."""
    paris = ZoneInfo("Europe/Paris")
    day = datetime.now(paris).date() - timedelta(days=1)
    while day.isoweekday() != 3:
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 15, 0, tzinfo=paris)


def seed(members: int, now: datetime, tokyo_every: int):
    from datetime import time as clock

    from django.db import connection

    from agents.models import Agent, Team
    from agents.services import agent_hire, user_get_or_create
    from clients.models import Campaign

    team, _ = Team.objects.get_or_create(name="Bench outbound", defaults={"kind": Team.Kind.OUTBOUND})
    agents = []
    for i in range(AGENTS):
        user, _ = user_get_or_create(username=f"bench.agent{i}")
        agent = Agent.objects.filter(user=user).first() or agent_hire(
            user=user, employee_number=f"B{i:04d}", team=team, hire_date=now.date()
        )
        agents.append(agent)
    campaign = Campaign.objects.create(
        name="Bench campaign",
        status=Campaign.Status.RUNNING,
        starts_at=now - timedelta(days=30),
        calling_hours_start=clock(9),
        calling_hours_end=clock(20),
        calling_weekdays="12345",
        max_attempts=5,
    )
    campaign.teams.add(team)
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO clients_client (full_name, email, address_line, postal_code, city, country, time_zone,
                current_provider, segment, tags, do_not_call, marketing_consent, notes, created_at, updated_at)
            SELECT 'Client ' || g, '', g || ' rue du Banc', '75011', 'PARIS', 'FR',
                   CASE WHEN g %% %s = 0 THEN 'Asia/Tokyo' ELSE '' END, '', '', '', false, true, '', now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [tokyo_every, members],
        )
        cursor.execute(
            """
            INSERT INTO clients_campaignmember (campaign_id, client_id, state, attempts, next_attempt_at,
                last_outcome_kind)
            SELECT %s, id, 'queued', 0, %s - (random() * interval '7 days'), ''
            FROM clients_client WHERE full_name LIKE 'Client %%'
            """,
            [campaign.pk, now],
        )
        # Do-not-call requests recorded behind the queue's back: the claim must still skip them.
        cursor.execute(
            "UPDATE clients_client SET do_not_call = true WHERE full_name LIKE %s AND id %% 100 = 7", ["Client %"]
        )
        cursor.execute("ANALYZE clients_client")
        cursor.execute("ANALYZE clients_campaignmember")
    print(f"Seeded {members} members in {time.perf_counter() - start:.1f} s")
    return campaign, agents


def run_round(campaign, agents, pulls: int, now: datetime) -> dict:
    from django.db import connection

    from clients.services import campaign_next_member, outcome_record

    latencies: list[float] = []
    handed: list[int] = []
    dnc_handed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(agents))

    def agent_loop(agent):
        mine, got = [], []
        try:
            # Warm up as a desk in use would be: a connection from the pool, one pull not
            # measured (its outcome recorded like the others).
            connection.ensure_connection()
            member = campaign_next_member(campaign=campaign, agent=agent, now=now)
            if member is not None:
                got.append(member.pk)
                outcome_record(by=agent.user, client=member.client, campaign=campaign, kind="no_answer")
            for _ in range(pulls):
                # The 20 agents press "next client" at the same instant, every round; each
                # records its outcome once all 20 have their client (what is measured is
                # pulls against pulls, not against the other agents' wrap-up).
                barrier.wait()
                start = time.perf_counter()
                member = campaign_next_member(campaign=campaign, agent=agent, now=now)
                mine.append(time.perf_counter() - start)
                barrier.wait()
                if member is None:
                    continue
                got.append(member.pk)
                if member.client.do_not_call:
                    dnc_handed.append(member.pk)
                outcome_record(by=agent.user, client=member.client, campaign=campaign, kind="no_answer")
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
            barrier.abort()
        finally:
            with lock:
                latencies.extend(mine)
                handed.extend(got)
            connection.close()

    threads = [threading.Thread(target=agent_loop, args=(agent,)) for agent in agents]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    if errors:
        raise errors[0]
    ms = sorted(x * 1000 for x in latencies)
    return {
        "pulls": len(ms),
        "p50": statistics.median(ms),
        "p95": ms[int(0.95 * (len(ms) - 1))],
        "p99": ms[int(0.99 * (len(ms) - 1))],
        "max": ms[-1],
        "handed": handed,
        "dnc_handed": dnc_handed,
        "wall_s": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--pulls", type=int, default=50, help="pulls per agent per round")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--tokyo-every", type=int, default=20, help="one client in N lives in Asia/Tokyo (out of hours); 0: none"
    )
    args = parser.parse_args()

    url = benchdb.bench_database_url()
    print(f"Scratch database: {url.rsplit('/', 1)[-1]} (created fresh, migrated)")
    benchdb.create_fresh(url)
    benchdb.setup_django(url)
    now = bench_instant()
    campaign, agents = seed(args.members, now, args.tokyo_every or args.members + 1)

    rounds, every_handed, dnc = [], [], []
    for i in range(args.repeat):
        result = run_round(campaign, agents, args.pulls, now)
        rounds.append(result)
        every_handed += result["handed"]
        dnc += result["dnc_handed"]
        print(
            f"  round {i + 1}: {result['pulls']} pulls by {AGENTS} agents in {result['wall_s']:.1f} s;"
            f" p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms,"
            f" max {result['max']:.1f} ms"
        )
    twice = len(every_handed) - len(set(every_handed))
    p99 = statistics.median(r["p99"] for r in rounds)
    print(
        f"Median p50 {statistics.median(r['p50'] for r in rounds):.1f} ms, median p99 {p99:.1f} ms (target < {TARGET_P99_MS} ms)"
    )
    print(f"Members handed: {len(every_handed)}; handed twice: {twice}; do-not-call handed: {len(dnc)}")
    ok = p99 < TARGET_P99_MS and twice == 0 and not dnc
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
