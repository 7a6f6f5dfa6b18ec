"""Routing benchmark: the telephony API under load, on PostgreSQL, in the production server
configuration, against two baselines measured in the same run.

    bench/calls/run.sh            # or: .venv/bin/python bench/calls/bench.py --duration 15 --rounds 3

What it does (all traffic to 127.0.0.1 only, every phase bounded in time):
 0. turns autovacuum on if the server has it off (a server set up for tests may), as in
    production, and puts it back as it was at the end;
 1. creates the database calls_bench (dropped first), migrates it, and sets up the floor:
    two queues, 50 agents all available (13 of them in both queues), a manager, 200 000
    historical calls and their half-hour roll-ups; then vacuums and analyses it;
 2. starts the product as the README's production section does: uvicorn with 2 ASGI workers,
    DEBUG=0, psycopg connection pool, Redis for channels and Celery (db 1);
 3. baseline A: pgbench tpcb-like, 32 clients, on its own database (the machine's raw
    transaction rate);
 4. then, in each of --rounds rounds (3), three phases back to back, so that the load of the
    machine weighs on all three alike:
    - baseline B: a plain token-authenticated DRF endpoint that inserts one row (bench-only URL);
    - the routing run: 32 concurrent senders post call.offered events to the real
      /api/telephony/events/ (signed, idempotent, with the production pushes through the Redis
      channel layer); each call rings at once on the longest-idle eligible free agent, or
      waits; a floor process beside the server takes every ringing call through accept → end
      → wrap-up with the calls services (as the agent API does, not over HTTP), so agents are
      free again and routing keeps assigning;
    - the same with 4 long dashboard reads beside it: supervisors' dashboards left open, each
      reading the product's dashboard figures (selectors.wallboard_for_user) every 0.5 s, as
      the page does on a busy floor, in REPEATABLE READ transactions of 5 s, so a snapshot up
      to 5 s old is always held (reads.py, a Django process like the floor);
    each ratio is taken within a round (the machine's speed drifts over minutes), and the
    figure reported is the median of the rounds' ratios (the ratio of the medians follows);
 5. once, a stress run with no target: routing beside 4 REPEATABLE READ transactions running
    full-table aggregates over the call history (which the dashboard does not do: it reads
    half-hour roll-ups); on 2 cores these take most of the CPU themselves;
 6. a replay run: 10 % of events sent twice (the second must get the identical answer and
    change nothing), 5 % of calls with their events out of order (ended before answered);
 7. after each run it checks from the database: zero double assignments (no call held by two
    agents at once, no agent holding two calls), zero lost calls (every offered call exists and
    is over, or waits with no eligible agent free), and every unique event recorded once.
Each routing run reports the share of calls that rang on arrival: the rest waited for the
floor to free an agent (a waiting call.offered is cheaper than one that rings, so a floor that
cannot keep up flatters the rate; the share says which path was measured).
It prints the figures and the ratios, and exits non-zero if a check fails.
"""

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "calls_bench")
PGBENCH_DB = f"{DB}_pgbench"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
PORT = int(os.environ.get("BENCH_PORT", "8899"))
URL = f"http://127.0.0.1:{PORT}"
SECRET = "bench-telephony-secret"  # noqa: S105 -- a local benchmark's own secret
SENDERS = 32

SERVER_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-" + "x" * 50,
    "ALLOWED_HOSTS": "127.0.0.1",
    "TELEPHONY_WEBHOOK_SECRET": SECRET,
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_HSTS_SECONDS": "0",
    "DATABASE_URL": f"{PG}/{DB}",
    "REDIS_URL": REDIS,
    "DB_POOL_MIN_SIZE": "4",
    "DB_POOL_MAX_SIZE": "16",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "bench_settings",
    "PYTHONPATH": f"{HERE}:{ROOT}",
}


def log(message: str) -> None:
    print(message, flush=True)


def sh(*args, env=None, capture=False, check=True):
    result = subprocess.run(  # noqa: S603 -- fixed commands of this benchmark
        args, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=capture, text=True, check=False
    )
    if check and result.returncode:
        sys.exit(f"failed: {' '.join(args)}\n{result.stdout}\n{result.stderr}")
    return result


def psql(database: str, sql: str) -> None:
    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        conn.execute(sql)


# --- set-up --------------------------------------------------------------------------------


def set_up() -> dict:
    for name in (DB, PGBENCH_DB):
        psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        psql("postgres", f'CREATE DATABASE "{name}"')
    env = {**SERVER_ENV}
    sh(PYTHON, "manage.py", "migrate", "--noinput", "-v0", env=env)
    out = sh(PYTHON, "manage.py", "shell", "-c", (HERE / "setup_floor.py").read_text(), env=env, capture=True)
    tokens = json.loads(out.stdout.strip().splitlines()[-1])
    # As after any bulk load: vacuumed and analysed now, so that autovacuum does not do it
    # for the first time in the middle of the first round.
    psql(DB, "VACUUM (ANALYZE)")
    sh(shutil.which("redis-cli") or "redis-cli", "-u", REDIS, "FLUSHDB", capture=True, check=False)
    return tokens


def turn_autovacuum_on() -> str | None:
    """Production runs with autovacuum (PostgreSQL's default; the product's hot tables are tuned
    for it, calls/0010_autovacuum_hot_tables). A server set up for tests may have it off: it is
    turned on for the run (ALTER SYSTEM, reloaded). Returns the statement that puts it back as
    it was (None when it was on already)."""
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        setting, sourcefile = conn.execute(
            "SELECT setting, coalesce(sourcefile, '') FROM pg_settings WHERE name = 'autovacuum'"
        ).fetchone()
        if setting == "on":
            return None
        conn.execute("ALTER SYSTEM SET autovacuum = on")
        conn.execute("SELECT pg_reload_conf()")
    for _ in range(50):
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            if conn.execute("SHOW autovacuum").fetchone()[0] == "on":
                # Off by ALTER SYSTEM before: set off again; off in a configuration file: let it rule.
                auto_conf = sourcefile.endswith("postgresql.auto.conf")
                return "ALTER SYSTEM SET autovacuum = off" if auto_conf else "ALTER SYSTEM RESET autovacuum"
        time.sleep(0.1)
    sys.exit("autovacuum could not be turned on for the run")


def restore_autovacuum(statement: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(statement)
        conn.execute("SELECT pg_reload_conf()")


def start_server() -> subprocess.Popen:
    uvicorn = str(ROOT / ".venv" / "bin" / "uvicorn")
    server = subprocess.Popen(  # noqa: S603 -- fixed command
        [uvicorn, "contactcenter.asgi:application", "--host", "127.0.0.1", "--port", str(PORT)]
        + ["--workers", "2", "--lifespan", "off", "--no-access-log"],
        cwd=ROOT,
        env={**os.environ, **SERVER_ENV},
        start_new_session=True,
    )
    for _ in range(100):
        try:
            if httpx.get(f"{URL}/api/schema/", timeout=2).status_code in (200, 401, 403):
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    os.killpg(server.pid, signal.SIGTERM)
    sys.exit("the server did not start")


# --- measurement ----------------------------------------------------------------------------


def start_django_script(script: str, *, stop_file: Path, stop_env: str, **popen) -> subprocess.Popen:
    """Run a script of this folder in a Django process beside the server (manage.py shell,
    the server's settings), told its stop file in stop_env, and wait until it is ready (it
    touches BENCH_READY, a file beside the stop file): its start-up is not measured."""
    ready = stop_file.with_suffix(".ready")
    ready.unlink(missing_ok=True)
    process = subprocess.Popen(  # noqa: S603 -- fixed command
        [PYTHON, "manage.py", "shell", "-c", (HERE / script).read_text()],
        cwd=ROOT,
        env={**os.environ, **SERVER_ENV, stop_env: str(stop_file), "BENCH_READY": str(ready)},
        text=True,
        **popen,
    )
    deadline = time.monotonic() + 120
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"{script} did not start")
        time.sleep(0.05)
    ready.unlink()
    return process


class Meter:
    def __init__(self, name: str):
        self.name = name
        self.latencies: list[float] = []
        self.errors = 0
        self.resets = 0  # connections dropped before an answer (the request was sent again)
        self.started = self.ended = 0.0

    def rate(self) -> float:
        return len(self.latencies) / (self.ended - self.started) if self.ended > self.started else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000

    def line(self) -> str:
        return (
            f"{self.rate():8.1f}/s   p50 {self.pct(0.5):6.1f} ms   p99 {self.pct(0.99):7.1f} ms   "
            f"({len(self.latencies)} requests, {self.errors} errors, {self.resets} connection resets)"
        )


async def send_again_on_reset(meter: Meter, post, *args, **kwargs):
    """A request whose connection was dropped before the answer came is sent again, as a PBX
    does (telephony events are idempotent), and counted: the reports show the resets."""
    for _attempt in range(2):
        try:
            return await post(*args, **kwargs)
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError):
            meter.resets += 1
    return await post(*args, **kwargs)  # a third drop in a row ends the run


def pgbench(duration: int) -> float:
    sh("pgbench", "-q", "-i", "-s", "10", f"{PG}/{PGBENCH_DB}", capture=True)
    out = sh("pgbench", "-c", str(SENDERS), "-j", "2", "-T", str(duration), f"{PG}/{PGBENCH_DB}", capture=True)
    return float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))


async def plain_insert(duration: float, token: str) -> Meter:
    meter = Meter("plain insert")
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=URL, timeout=30, limits=httpx.Limits(max_connections=SENDERS)) as client:
        stop = time.monotonic() + duration

        async def sender(n: int):
            i = 0
            while time.monotonic() < stop:
                i += 1
                started = time.perf_counter()
                response = await send_again_on_reset(
                    meter, client.post, "/bench/insert/", content=json.dumps({"n": n, "i": i}), headers=headers
                )
                if response.status_code == 201:
                    meter.latencies.append(time.perf_counter() - started)
                else:
                    meter.errors += 1

        meter.started = time.monotonic()
        await asyncio.gather(*[sender(n) for n in range(SENDERS)])
        meter.ended = time.monotonic()
    return meter


def sign(body: bytes) -> str:
    import hashlib
    import hmac

    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


class Run:
    """One routing run: 32 PBX lines, each handling one call at a time through its whole life."""

    def __init__(self, name: str, tokens: dict, *, duplicates: float = 0.0, out_of_order: float = 0.0, seed: int = 1):
        self.name = name
        self.prefix = f"{name[:3]}{uuid.uuid4().hex[:6]}"
        self.tokens = tokens
        self.duplicates = duplicates
        self.out_of_order = out_of_order
        self.rng = random.Random(seed)
        self.offered = Meter("call.offered")
        self.all = Meter("all requests")
        self.unique_events: set[str] = set()
        self.call_ids: set[str] = set()
        self.replays = 0
        self.replay_mismatches = 0
        self.queued_on_arrival = 0
        self.statuses: dict[int, int] = {}

    def rung_share(self) -> float:
        """The share of offered calls that rang on a desk at once (the rest waited)."""
        answered = len(self.offered.latencies)
        return (answered - self.queued_on_arrival) / answered if answered else 0.0

    async def post(self, client, path, *, body=None, headers=None, meter=None):
        started = time.perf_counter()
        response = await send_again_on_reset(meter or self.all, client.post, path, content=body, headers=headers)
        elapsed = time.perf_counter() - started
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        for m in (self.all, meter):
            if m is None:
                continue
            if response.status_code >= 500:
                m.errors += 1
            else:
                m.latencies.append(elapsed)
        return response

    async def event(self, client, kind, call_id, n, meter=None, **fields):
        payload = {
            "event_id": f"{call_id}-{n}",
            "type": kind,
            "call_id": call_id,
            "occurred_at": datetime.now(UTC).isoformat(),
            **fields,
        }
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "X-Signature": sign(body)}
        self.unique_events.add(payload["event_id"])
        response = await self.post(client, "/api/telephony/events/", body=body, headers=headers, meter=meter)
        if self.rng.random() < self.duplicates:
            self.replays += 1
            again = await self.post(client, "/api/telephony/events/", body=body, headers=headers)
            if again.status_code != response.status_code or again.json() != response.json():
                self.replay_mismatches += 1
        return response

    async def line(self, client, n: int, stop: float):
        """One PBX line: call.offered after call.offered (the floor process takes the calls)."""
        queue = "bench-fr" if n % 2 else "bench-en"
        i = 0
        while time.monotonic() < stop:
            i += 1
            call_id = f"{self.prefix}-{n}-{i}"
            self.call_ids.add(call_id)
            caller = f"+3361{n:02d}{i % 100000:05d}"
            offered = await self.event(
                client, "call.offered", call_id, 0, meter=self.offered, queue=queue, caller=caller, direction="inbound"
            )
            if offered.status_code != 200:
                continue
            if offered.json()["agent"] is None:
                self.queued_on_arrival += 1
            if self.rng.random() < self.out_of_order:
                # Delivered out of order: the end before the answer. Whatever the desk did in
                # between, the call ends once and the late answer changes nothing.
                await self.event(client, "call.ended", call_id, 2)
                await self.event(client, "call.answered", call_id, 1)

    async def run(self, duration: float) -> "Run":
        stop_file = Path(f"/tmp/{self.prefix}.stop")  # noqa: S108 -- the floor's stop signal
        floor = start_django_script("floor.py", stop_file=stop_file, stop_env="BENCH_FLOOR_STOP")
        try:
            limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
            async with httpx.AsyncClient(base_url=URL, timeout=60, limits=limits) as client:
                stop = time.monotonic() + duration
                self.offered.started = self.all.started = time.monotonic()
                await asyncio.gather(*[self.line(client, n, stop) for n in range(SENDERS)])
                self.offered.ended = self.all.ended = time.monotonic()
        finally:
            stop_file.touch()
            floor.wait(180)
            stop_file.unlink(missing_ok=True)
        return self


class DashboardReads:
    """4 long dashboard reads: supervisors' dashboards left open, reading the product's
    dashboard figures in REPEATABLE READ transactions of 5 s (reads.py, a Django process
    beside the server, as the floor is)."""

    def __init__(self, prefix: str):
        self.stop_file = Path(f"/tmp/{prefix}.reads-stop")  # noqa: S108 -- the readers' stop signal
        self.process = None
        self.summary = ""

    def __enter__(self):
        self.process = start_django_script(
            "reads.py", stop_file=self.stop_file, stop_env="BENCH_READS_STOP", stdout=subprocess.PIPE
        )
        time.sleep(0.5)  # the first snapshots are taken before the senders start
        return self

    def __exit__(self, *exc):
        self.stop_file.touch()
        out, _err = self.process.communicate(timeout=60)
        self.stop_file.unlink(missing_ok=True)
        self.summary = next((line for line in out.splitlines() if line.startswith("reads:")), "reads: no report")


class FullTableAggregates:
    """The stress variant (not the product's dashboard): 4 REPEATABLE READ transactions of
    5 s, each running aggregates over the whole call history and presence log, which the
    dashboard does not do (it reads half-hour roll-ups). On a small machine these take most
    of the CPU themselves (parallel workers included)."""

    def __init__(self, count: int = 4):
        self.count = count
        self.stop = threading.Event()
        self.transactions = 0
        self.queries = 0
        self.threads = [threading.Thread(target=self.reader, args=(i,), daemon=True) for i in range(count)]

    @property
    def summary(self) -> str:
        return f"reads: {self.transactions} transactions, {self.queries} full-table aggregates"

    def reader(self, i: int):
        with psycopg.connect(f"{PG}/{DB}") as conn:
            while not self.stop.is_set():
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                until = time.monotonic() + 5
                while time.monotonic() < until and not self.stop.is_set():
                    conn.execute(
                        "SELECT queue_id, agent_id, count(*), avg(wait_s), avg(talk_s + hold_s + wrap_up_s), "
                        "count(*) FILTER (WHERE wait_s <= 20) FROM calls_call "
                        "WHERE offered_at > now() - interval '30 days' GROUP BY queue_id, agent_id"
                    ).fetchall()
                    conn.execute(
                        "SELECT agent_id, state, sum(extract(epoch FROM coalesce(ended_at, now()) - started_at)) "
                        "FROM calls_presenceinterval GROUP BY agent_id, state"
                    ).fetchall()
                    self.queries += 2
                    time.sleep(0.2)
                conn.execute("COMMIT")
                self.transactions += 1

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


# --- checks ---------------------------------------------------------------------------------


def check(run: Run) -> dict:
    """What the database says after a run."""
    with psycopg.connect(f"{PG}/{DB}") as conn:

        def one(sql, *params):
            return conn.execute(sql, params).fetchone()[0]

        like = run.prefix + "-%"
        calls = one("SELECT count(*) FROM calls_call WHERE external_id LIKE %s", like)
        # A call held by two agents at once: two held stretches of the presence log, same call,
        # different agents, overlapping in time.
        double_held_calls = one(
            """SELECT count(*) FROM calls_presenceinterval a JOIN calls_presenceinterval b
               ON a.call_id = b.call_id AND a.agent_id < b.agent_id
               AND tstzrange(a.started_at, coalesce(a.ended_at, 'infinity')) &&
                   tstzrange(b.started_at, coalesce(b.ended_at, 'infinity'))
               JOIN calls_call c ON c.id = a.call_id
               WHERE a.state IN ('reserved', 'on_call', 'wrap_up') AND b.state IN ('reserved', 'on_call', 'wrap_up')
               AND c.external_id LIKE %s""",
            like,
        )
        # An agent holding two calls: overlapping stretches in one agent's log.
        agents_two_calls = one(
            """SELECT count(*) FROM calls_presenceinterval a JOIN calls_presenceinterval b
               ON a.agent_id = b.agent_id AND a.id < b.id
               AND tstzrange(a.started_at, coalesce(a.ended_at, 'infinity'), '[)') &&
                   tstzrange(b.started_at, coalesce(b.ended_at, 'infinity'), '[)')
               WHERE a.started_at > now() - interval '1 hour'"""
        )
        held_twice_now = one(
            """SELECT count(*) FROM (SELECT agent_id FROM calls_call WHERE state IN ('ringing', 'in_progress', 'wrap_up')
               GROUP BY agent_id HAVING count(*) > 1) x"""
        )
        # Lost: offered but missing, or left neither over nor waiting (held by nobody's line).
        not_over = one(
            "SELECT count(*) FROM calls_call WHERE external_id LIKE %s AND state NOT IN ('completed', 'abandoned')",
            like,
        )
        waiting_next_to_free_agent = one(
            """SELECT count(*) FROM calls_call c JOIN calls_queue q ON q.id = c.queue_id
               WHERE c.state = 'queued' AND c.reserved_for_id IS NULL AND EXISTS (
                 SELECT 1 FROM calls_agentpresence p WHERE p.state = 'available'
                 AND (q.required_skill_id IS NULL OR EXISTS (SELECT 1 FROM agents_agentskill s
                      WHERE s.agent_id = p.agent_id AND s.skill_id = q.required_skill_id))
                 AND (q.required_language_id IS NULL OR EXISTS (SELECT 1 FROM agents_agent_languages l
                      WHERE l.agent_id = p.agent_id AND l.language_id = q.required_language_id)))"""
        )
        events = one("SELECT count(*) FROM calls_callevent WHERE event_id LIKE %s", like)
        events_distinct = one("SELECT count(DISTINCT event_id) FROM calls_callevent WHERE event_id LIKE %s", like)
        # A state change caused twice by the same event (a replay that changed something).
        repeated_effects = one(
            """SELECT count(*) FROM (SELECT cause, from_state, to_state FROM calls_callstatechange
               WHERE cause LIKE %s GROUP BY cause, from_state, to_state HAVING count(*) > 1) x""",
            "event " + like,
        )
    return {
        "calls": calls,
        "lost": (len(run.call_ids) - calls) + not_over + waiting_next_to_free_agent,
        "double_assignments": double_held_calls + agents_two_calls + held_twice_now,
        "side_effects_per_unique_event": events / len(run.unique_events) if run.unique_events else 0.0,
        "events_recorded_once": events == events_distinct == len(run.unique_events),
        "repeated_effects": repeated_effects,
        "replay_mismatches": run.replay_mismatches,
    }


def report(run: Run, checks: dict) -> bool:
    log(f"  call.offered (routed)  {run.offered.line()}")
    log(f"  all events             {run.all.line()}")
    log(
        f"  calls {checks['calls']}, rung on arrival {checks['calls'] - run.queued_on_arrival} "
        f"({run.rung_share():.0%}), queued on arrival {run.queued_on_arrival}, "
        f"statuses {dict(sorted(run.statuses.items()))}"
    )
    if run.replays:
        log(f"  replays {run.replays} (answers identical: {run.replays - run.replay_mismatches})")
    log(
        f"  double assignments {checks['double_assignments']}, lost calls {checks['lost']}, "
        f"side effects per unique event {checks['side_effects_per_unique_event']:.3f}, "
        f"effects repeated by a replay {checks['repeated_effects']}"
    )
    ok = (
        checks["double_assignments"] == 0
        and checks["lost"] == 0
        and checks["events_recorded_once"]
        and checks["repeated_effects"] == 0
        and checks["replay_mismatches"] == 0
        and run.offered.errors == 0
        and run.all.errors == 0
    )
    log("  checks: " + ("OK" if ok else "FAILED"))
    return ok


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=15, help="seconds per measured phase")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three compared phases (median)")
    args = parser.parse_args()
    started = time.monotonic()
    put_back = turn_autovacuum_on()
    if put_back:
        log("autovacuum was off on this server: on for this run (as in production), put back after")
    try:
        ok = measure(args)
    finally:
        if put_back:
            restore_autovacuum(put_back)
    log(f"  took {time.monotonic() - started:.0f} s; checks {'all OK' if ok else 'FAILED'}")
    sys.exit(0 if ok else 1)


def measure(args) -> bool:
    log(f"Setting up {DB} (migrate, 50 agents, 200 000 historical calls)…")
    tokens = set_up()
    log(f"pgbench tpcb-like, {SENDERS} clients, {args.duration:.0f} s…")
    tps = pgbench(int(args.duration))
    log(f"  {tps:8.1f} transactions/s")
    log("Starting uvicorn (2 workers, DEBUG=0, psycopg pool, Redis)…")
    server = start_server()
    ok = True
    inserts: list[Meter] = []
    cleans: list[Run] = []
    busies: list[Run] = []
    try:
        asyncio.run(plain_insert(3, tokens["baseline"]))  # warm-up: workers, pools, caches
        asyncio.run(Run("warm", tokens["agents"]).run(3))
        for n in range(1, args.rounds + 1):
            log(f"Round {n}/{args.rounds}. Plain authenticated DRF insert, {SENDERS} senders, {args.duration:.0f} s…")
            insert = asyncio.run(plain_insert(args.duration, tokens["baseline"]))
            inserts.append(insert)
            log(f"  plain insert           {insert.line()}")

            log(f"Round {n}. Routing, {SENDERS} senders, 50 agents (13 in both queues), {args.duration:.0f} s…")
            clean = asyncio.run(Run("clean", tokens["agents"], seed=10 + n).run(args.duration))
            cleans.append(clean)
            ok &= report(clean, check(clean))

            log(f"Round {n}. Routing with 4 long REPEATABLE READ dashboard reads beside it…")
            with DashboardReads(f"reads{n}") as reads:
                busy = asyncio.run(Run("reads", tokens["agents"], seed=20 + n).run(args.duration))
            busies.append(busy)
            log(f"  long {reads.summary}")
            ok &= report(busy, check(busy))

        log("Stress (not a target): routing with 4 REPEATABLE READ full-table aggregates beside it…")
        with FullTableAggregates() as aggregates:
            stress = asyncio.run(Run("stress", tokens["agents"], seed=30).run(args.duration))
        log(f"  {aggregates.summary}")
        ok &= report(stress, check(stress))

        log("Replay: 10 % duplicate events, 5 % of calls out of order…")
        replay = asyncio.run(
            Run("replay", tokens["agents"], duplicates=0.10, out_of_order=0.05, seed=3).run(args.duration)
        )
        ok &= report(replay, check(replay))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        sh(shutil.which("redis-cli") or "redis-cli", "-u", REDIS, "FLUSHDB", capture=True, check=False)

    insert_rate = median([m.rate() for m in inserts])
    clean_rate = median([r.offered.rate() for r in cleans])
    busy_rate = median([r.offered.rate() for r in busies])
    log("")
    log(f"Summary (medians of {args.rounds} rounds of {args.duration:.0f} s; each round's figure in brackets)")
    log(f"  pgbench tpcb-like              {tps:8.1f} tps")
    log(
        f"  plain DRF insert               {insert_rate:8.1f} req/s  "
        f"[{', '.join(f'{m.rate():.1f}' for m in inserts)}]  p50 {median([m.pct(0.5) for m in inserts]):.1f} ms"
    )
    for label, runs in (
        ("routing", cleans),
        ("routing + long reads", busies),
        ("routing + full-table aggregates", [stress]),
        ("routing, replays", [replay]),
    ):
        log(
            f"  {label:<30} {median([r.offered.rate() for r in runs]):8.1f} offered/s  "
            f"[{', '.join(f'{r.offered.rate():.1f}' for r in runs)}]  "
            f"p50 {median([r.offered.pct(0.5) for r in runs]):.1f} ms, p99 {median([r.offered.pct(0.99) for r in runs]):.1f} ms; "
            f"rung on arrival {median([r.rung_share() for r in runs]):.0%}; "
            f"{median([r.all.rate() for r in runs]):.1f} events/s in all"
        )
    # Each ratio is taken within a round, whose phases ran back to back: the machine's speed
    # drifts over minutes (a round's insert baseline can be 40 % below the round before), so
    # the median of the rounds' ratios compares like with like; the ratio of the medians follows.
    by_round = [r.offered.rate() / m.rate() for r, m in zip(cleans, inserts, strict=True)]
    busy_by_round = [b.offered.rate() / c.offered.rate() for b, c in zip(busies, cleans, strict=True)]
    log(
        f"  routed offered/s ÷ plain insert/s:      {median(by_round):.2f}  (target ≥ 0.5)  "
        f"[by round: {', '.join(f'{x:.2f}' for x in by_round)}; ratio of the medians {clean_rate / insert_rate:.2f}]"
    )
    log(
        f"  with long reads ÷ clean run:            {median(busy_by_round):.2f}  (target ≥ 0.85)  "
        f"[by round: {', '.join(f'{x:.2f}' for x in busy_by_round)}; ratio of the medians {busy_rate / clean_rate:.2f}]"
    )
    log(
        f"  stress, full-table aggregates ÷ clean:  {stress.offered.rate() / clean_rate:.2f}  (no target: "
        "not the dashboard's reads)"
    )
    log(f"  routed offered/s ÷ pgbench tps:         {clean_rate / tps:.2f}")
    return ok


if __name__ == "__main__":
    main()
