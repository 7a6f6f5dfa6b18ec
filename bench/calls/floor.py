"""The agents' side of the benchmark, run inside Django (bench settings) next to the server:
threads that take every call ringing on a bench agent's desk through accept → end → wrap-up
with the calls services (the same code as the agent API), so agents are free again at once
and the senders' call.offered events keep being routed to someone. Not over HTTP: the
measured HTTP load is the senders' events. Touches the file named by BENCH_READY once
started (the bench starts its senders then: Django's start-up is not measured), runs until
the file named by BENCH_FLOOR_STOP exists, then finishes what is still held or waiting and
exits."""

import os
import threading
import time
from pathlib import Path

from django.db import connection

from agents.models import Agent
from calls import realtime, services
from calls.models import AgentPresence, Call
from contactcenter.errors import ApplicationError

STOP = Path(os.environ["BENCH_FLOOR_STOP"])
THREADS = int(os.environ.get("BENCH_FLOOR_THREADS", "3"))
handled = [0] * THREADS


def work(n: int) -> bool:
    """One sweep over the calls held on this thread's share of the desks; True if it did anything."""
    held = list(
        Call.objects.filter(state__in=Call.HELD_STATES, agent__employee_number__startswith="B")
        .values_list("pk", "agent_id", "state")
        .order_by("pk")
    )
    did = False
    for pk, agent_id, state in held:
        if agent_id % THREADS != n:
            continue
        agent = Agent(pk=agent_id)
        try:
            with realtime.batch():  # as the agent API does: the desk's pushes go out together
                if state == Call.State.RINGING:
                    services.call_accept(agent=agent, call_id=pk)
                    state = Call.State.IN_PROGRESS
                if state == Call.State.IN_PROGRESS:
                    services.call_end(agent=agent, call_id=pk)
                services.call_wrap_up(agent=agent, call_id=pk, disposition_code="resolved")
            handled[n] += 1
        except ApplicationError:
            pass  # the caller hung up meanwhile, or an out-of-order event got there first
        did = True
    return did


def desk(n: int) -> None:
    try:
        while not STOP.exists():
            if not work(n):
                time.sleep(0.02)  # nothing ringing: look again shortly
        # Drain: until nothing is held and nothing waits next to a free agent (at most 60 s).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not work(n) and not Call.objects.filter(state__in=Call.HELD_STATES).exists():
                time.sleep(0.2)
                if not Call.objects.filter(state__in=Call.HELD_STATES).exists():
                    break
    finally:
        connection.close()


connection.ensure_connection()
connection.close()
Path(os.environ["BENCH_READY"]).touch()  # started: the bench starts its senders now
threads = [threading.Thread(target=desk, args=(n,)) for n in range(THREADS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
services.calls_sweep()  # a last pass: anything still waiting goes to a free agent…
while Call.objects.filter(state__in=Call.HELD_STATES).exists():  # …and is taken
    for n in range(THREADS):
        work(n)
free = AgentPresence.objects.filter(state=AgentPresence.State.AVAILABLE).count()
print(f"floor: {sum(handled)} calls handled, {free} agents free at the end", flush=True)
