"""Realtime benchmark (issue 4): queue-status broadcasts to 500 desk WebSockets spread over
2 ASGI processes (uvicorn) on Redis, for each channels-redis layer.

For each layer (core RedisChannelLayer, then RedisPubSubChannelLayer):
  1. starts 2 uvicorn processes of the real ASGI app (bench_settings: that layer) on 127.0.0.1;
  2. opens N desk WebSockets (half on each process), each signed in as its own agent
     (sessions made directly in the database), all in one team serving one queue, so every
     desk is in the group queue.<id>;
  3. sends M queue.status messages to that group (group_send through the same layer, as the
     product's pushes do), each with a sequence number, every `--gap` ms; checks that every
     socket got every seq (delivery) and measures, per message, broadcast → last receipt;
  4. baselines in the same run: the same message to a one-member group (one desk's
     agent.<id> group), and a raw Redis PUBLISH to a subscriber in this process.
Reports p50/p99 per case and writes bench/results/realtime.json.

    bench/realtime/run.sh [--desks 500] [--messages 100] [--gap 250]

Traffic only to 127.0.0.1 (PostgreSQL database desk_rt_bench, Redis db 6). Bounded: about
2 minutes.
"""

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(HERE)]
DB_URL = os.environ.get("RT_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/desk_rt_bench")
REDIS = os.environ.get("RT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
os.environ.update(
    DATABASE_URL=DB_URL, REDIS_URL=REDIS, DJANGO_SETTINGS_MODULE="bench_settings", DEBUG="true", LOG_LEVEL="WARNING"
)
PORTS = (18761, 18762)


def ensure_database():
    import psycopg

    name = DB_URL.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(n_desks: int) -> tuple[int, list[tuple[int, str]]]:
    """The queue, and (agent id, session key) for each desk."""
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from agents.models import Agent, Team
    from calls.models import Queue

    User = get_user_model()
    team, _ = Team.objects.get_or_create(name="Realtime bench")
    queue, _ = Queue.objects.get_or_create(slug="rt-bench", defaults={"name": "Realtime bench"})
    queue.teams.add(team)
    agent_group = Group.objects.get(name="agent")
    existing = {u.username: u for u in User.objects.filter(username__startswith="rt-desk-")}
    new = [User(username=f"rt-desk-{i}") for i in range(n_desks) if f"rt-desk-{i}" not in existing]
    for user in new:
        user.set_unusable_password()
    User.objects.bulk_create(new)
    users = list(User.objects.filter(username__startswith="rt-desk-").order_by("pk")[:n_desks])
    agent_group.user_set.add(*users)
    have = set(Agent.objects.filter(user__in=users).values_list("user_id", flat=True))
    Agent.objects.bulk_create(
        [
            Agent(user=u, employee_number=f"RT{u.pk:06d}", team=team, hire_date=date(2024, 1, 1))
            for u in users
            if u.pk not in have
        ]
    )
    desks = []
    agents = dict(Agent.objects.filter(user__in=users).values_list("user_id", "pk"))
    for user in users:
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        desks.append((agents[user.pk], session.session_key))
    return queue.pk, desks


def start_servers(layer: str) -> list[subprocess.Popen]:
    import socket

    for port in PORTS:  # a server left over from an earlier run would be measured instead
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            raise SystemExit(f"port {port} is already in use: stop the process listening there first")
    env = dict(os.environ, BENCH_LAYER=layer, PYTHONPATH=f"{ROOT}:{HERE}")
    procs = []
    for port in PORTS:
        procs.append(
            subprocess.Popen(  # noqa: S603 (a fixed command: this venv's uvicorn)
                [
                    str(ROOT / ".venv/bin/uvicorn"),
                    "contactcenter.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--ws",
                    "websockets-sansio",
                    "--no-access-log",
                    "--timeout-graceful-shutdown",
                    "5",
                    "--ws-per-message-deflate",
                    "false",
                ],
                cwd=ROOT,
                env=env,
            )
        )
    deadline = time.monotonic() + 30
    for port, proc in zip(PORTS, procs, strict=True):
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the benchmark server on port {port} exited ({proc.returncode})")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the benchmark servers did not start") from None
                time.sleep(0.2)
    return procs


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def run_layer(layer: str, queue_id: int, desks, *, messages: int, gap_ms: int) -> dict:
    import redis.asyncio as aioredis
    import websockets
    from channels.layers import get_channel_layer

    from calls import realtime

    layer_obj = get_channel_layer()
    received: dict[str, dict[int, float]] = {}  # socket → seq → receipt time
    sockets = []

    receipts = [0]

    async def reader(name, ws, sink):
        async for raw in ws:
            msg = json.loads(raw)
            if msg.get("type") == "queue.status" and "bench" in msg:
                receipts[0] += 1  # every receipt, duplicates included
                sink.setdefault(msg["queue_seq"], time.perf_counter())

    tasks = []
    for i, (_agent_id, session_key) in enumerate(desks):
        port = PORTS[i % 2]
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws/desk/",
            additional_headers={"Cookie": f"sessionid={session_key}", "Origin": f"http://127.0.0.1:{port}"},
            open_timeout=30,
            max_queue=None,
        )
        sockets.append(ws)
        sink = received.setdefault(f"desk-{i}", {})
        tasks.append(asyncio.create_task(reader(i, ws, sink)))
    print(f"  {layer}: {len(sockets)} desks connected", flush=True)
    await asyncio.sleep(1.0)  # every consumer has joined its groups before the first send

    group = realtime.queue_group(queue_id)
    sent: dict[int, float] = {}
    for seq in range(1, messages + 1):
        sent[seq] = time.perf_counter()
        await layer_obj.group_send(
            group,
            {"type": "queue.status", "seq": seq, "queue": queue_id, "waiting": seq, "longest_wait_s": 0, "bench": 1},
        )
        await asyncio.sleep(gap_ms / 1000)
    await asyncio.sleep(2.0)
    expected = messages * len(desks)
    got = sum(len([s for s in sink if s in sent]) for sink in received.values())
    duplicates = receipts[0] - got
    last = []
    for seq, t0 in sent.items():
        times = [sink[seq] for sink in received.values() if seq in sink]
        if times:
            last.append((max(times) - t0) * 1000)

    print(f"  {layer}: broadcasts done, delivery {got}/{expected}", flush=True)
    # Baseline 1: the same message to a one-member group (the first desk's agent group).
    one_sink = received["desk-0"]
    one_group = realtime.agent_group(desks[0][0])
    one_lat = []
    for k in range(messages):
        seq = 1_000_000 + k
        t0 = time.perf_counter()
        await layer_obj.group_send(
            one_group,
            {"type": "queue.status", "seq": seq, "queue": queue_id, "waiting": 0, "longest_wait_s": 0, "bench": 1},
        )
        for _ in range(2000):
            if seq in one_sink:
                break
            await asyncio.sleep(0.0005)
        if seq in one_sink:
            one_lat.append((one_sink[seq] - t0) * 1000)
        await asyncio.sleep(gap_ms / 1000)

    print(f"  {layer}: one-member group done", flush=True)
    # Baseline 2: a raw Redis PUBLISH to one subscriber in this process.
    client = aioredis.from_url(REDIS)
    pubsub = client.pubsub()
    await pubsub.subscribe("deskbench-raw")
    await pubsub.get_message(timeout=1)
    raw_lat = []
    for k in range(messages):
        t0 = time.perf_counter()
        await client.publish("deskbench-raw", str(k))
        while True:
            message = await pubsub.get_message(timeout=2)
            if message and message["type"] == "message":
                raw_lat.append((time.perf_counter() - t0) * 1000)
                break
        await asyncio.sleep(gap_ms / 1000)
    await pubsub.unsubscribe()
    await client.aclose()

    for ws in sockets:
        await ws.close()
    for task in tasks:
        task.cancel()
    return {
        "layer": layer,
        "desks": len(desks),
        "messages": messages,
        "delivery": round(got / expected, 4),
        "missing": expected - got,
        "duplicates": duplicates,
        "broadcast_to_last_receipt_ms": {"p50": round(statistics.median(last), 2), "p99": round(pct(last, 0.99), 2)},
        "one_member_group_ms": {"p50": round(statistics.median(one_lat), 2), "p99": round(pct(one_lat, 0.99), 2)},
        "raw_redis_publish_ms": {"p50": round(statistics.median(raw_lat), 3), "p99": round(pct(raw_lat, 0.99), 3)},
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--desks", type=int, default=500)
    parser.add_argument("--messages", type=int, default=100)
    # 250 ms: the product pushes a queue's status at most once per CALLS_QUEUE_STATUS_INTERVAL_MS
    # (default 250), whatever the call rate, so 4 broadcasts a second is the most a desk gets.
    parser.add_argument("--gap", type=int, default=250, help="ms between broadcasts")
    parser.add_argument("--layers", default="core,pubsub")
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    queue_id, desks = prepare(args.desks)
    results = []
    for layer in args.layers.split(","):
        os.environ["BENCH_LAYER"] = layer
        import importlib

        import bench_settings
        import channels.layers
        from django.conf import settings

        importlib.reload(bench_settings)
        settings.CHANNEL_LAYERS = bench_settings.CHANNEL_LAYERS
        channels.layers.channel_layers.backends.clear()
        procs = start_servers(layer)
        try:
            result = asyncio.run(run_layer(layer, queue_id, desks, messages=args.messages, gap_ms=args.gap))
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:  # a graceful shutdown waiting on sockets
                    proc.kill()
                    proc.wait()
        results.append(result)
        print(json.dumps(result), flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "realtime.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
