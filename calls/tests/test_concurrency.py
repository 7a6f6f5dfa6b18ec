"""Concurrency on PostgreSQL with real threads and real transactions.

Many PBX threads send offered/answered/ended/abandoned events (with replays and out-of-order
ones) while agent threads accept, end, wrap up and flip their status. Afterwards: no call was
ever held by two agents, no agent ever held two calls, every call is waiting or final, no call
waits next to a free eligible agent, and the event log has every event exactly once.
"""

import json
import random
import threading
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from calls import services, telephony
from calls.models import AgentPresence, Call, Callback, CallEvent, CallStateChange, PresenceInterval
from calls.tests.factories import QueueFactory, agent_with

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _post(client: Client, payload: dict):
    body = json.dumps(payload).encode()
    return client.post(
        "/api/telephony/events/", data=body, content_type="application/json", HTTP_X_SIGNATURE=telephony.sign(body)
    )


def _event(kind, call_id, n, **extra):
    return {
        "event_id": f"{call_id}-{kind}-{n}",
        "type": kind,
        "call_id": call_id,
        "occurred_at": timezone.now().isoformat(),
        **extra,
    }


@pytest.fixture
def floor(require_postgres, migrated_rows):
    """Two queues; 12 agents, some eligible for both (they must never be rung twice)."""
    from agents.tests.factories import LanguageFactory, SkillFactory

    fr = LanguageFactory(code="fr", name="fr")
    en = LanguageFactory(code="en", name="en")
    billing = SkillFactory(name="Billing")
    q_fr = QueueFactory(slug="c-fr", required_skill=billing, required_language=fr, reservation_timeout_s=2, wrap_up_s=0)
    q_en = QueueFactory(slug="c-en", required_language=en, priority=1, reservation_timeout_s=2, wrap_up_s=0)
    agents = []
    for i in range(12):
        languages = ["fr", "en"] if i % 3 == 0 else (["fr"] if i % 3 == 1 else ["en"])
        skills = [billing] if i % 3 != 2 else []
        agents.append(agent_with(skills=skills, languages=languages))
    return {"queues": [q_fr, q_en], "agents": agents}


def _pbx(thread_no: int, calls: int, sent: list, seed: int, errors: list):
    rng = random.Random(seed)
    client = Client()
    try:
        for i in range(calls):
            call_id = f"p{thread_no}-{i}"
            queue = rng.choice(["c-fr", "c-en"])
            caller = f"+3361{thread_no:02d}{i:05d}"
            events = [_event("call.offered", call_id, 0, queue=queue, caller=caller, direction="inbound")]
            fate = rng.random()
            if fate < 0.25:
                events.append(_event("call.abandoned", call_id, 1))
            elif fate < 0.6:
                events += [_event("call.answered", call_id, 1), _event("call.ended", call_id, 2, reason="completed")]
            elif fate < 0.7:
                # Out of order: ended before answered.
                events += [_event("call.ended", call_id, 2), _event("call.answered", call_id, 1)]
            for payload in events:
                response = _post(client, payload)
                if response.status_code >= 500:
                    errors.append((payload, response.status_code))
                sent.append(payload["event_id"])
                if rng.random() < 0.2:  # a replay
                    again = _post(client, payload)
                    if again.status_code != response.status_code or again.json() != response.json():
                        errors.append(("replay differs", payload))
                if rng.random() < 0.05:  # a duplicate offer under another id
                    dup = _event("call.offered", call_id, 9, queue=queue, caller=caller)
                    _post(client, dup)
                    sent.append(dup["event_id"])
    except Exception as exc:  # reported by the test, with the thread's context
        errors.append(("pbx crashed", repr(exc)))
    finally:
        connection.close()


def _agent_worker(agents, stop: threading.Event, seed: int, errors: list):
    rng = random.Random(seed)
    clients = {}
    for agent in agents:
        clients[agent.pk] = APIClient()
        clients[agent.pk].force_authenticate(agent.user)
    try:
        while not stop.is_set():
            agent = rng.choice(agents)
            api = clients[agent.pk]
            presence = AgentPresence.objects.filter(agent=agent).first()
            state = presence.state if presence else "offline"
            call_id = presence.current_call_id if presence else None
            roll = rng.random()
            if state in ("offline", "break"):
                response = api.post("/api/agents/me/status/", {"status": "available"}, format="json")
            elif state == "available" and roll < 0.1:
                response = api.post("/api/agents/me/status/", {"status": "break", "reason": "coaching"}, format="json")
            elif state == "reserved" and call_id:
                if roll < 0.1:
                    response = api.post("/api/agents/me/status/", {"status": "offline"}, format="json")
                else:
                    response = api.post(f"/api/calls/{call_id}/accept/")
            elif state == "on_call" and call_id:
                reason = "dropped" if roll < 0.1 else "completed"
                response = api.post(f"/api/calls/{call_id}/end/", {"reason": reason}, format="json")
            elif state == "wrap_up" and call_id:
                response = api.post(f"/api/calls/{call_id}/wrap-up/", {"disposition": "resolved"}, format="json")
            else:
                continue
            if response.status_code >= 500:
                errors.append(("agent", response.status_code, response.content[:200]))
        # Finish: end and wrap up what they hold, then sign out (declining whatever rings next).
        for agent in agents:
            api = clients[agent.pk]
            for _ in range(20):
                presence = AgentPresence.objects.get(agent=agent)
                if presence.state == "on_call":
                    api.post(f"/api/calls/{presence.current_call_id}/end/", {}, format="json")
                elif presence.state == "wrap_up":
                    api.post(
                        f"/api/calls/{presence.current_call_id}/wrap-up/", {"disposition": "resolved"}, format="json"
                    )
                elif presence.state != "offline":
                    api.post("/api/agents/me/status/", {"status": "offline"}, format="json")
                else:
                    break
    except Exception as exc:
        errors.append(("agent crashed", repr(exc)))
    finally:
        connection.close()


def _assert_no_waiting_call_next_to_a_free_eligible_agent(queues):
    for queue in queues:
        if not Call.objects.filter(queue=queue, state=Call.State.QUEUED, reserved_for__isnull=True).exists():
            continue
        free = AgentPresence.objects.filter(state=AgentPresence.State.AVAILABLE)
        if queue.required_skill_id:
            free = free.filter(agent__skill_levels__skill=queue.required_skill_id)
        if queue.required_language_id:
            free = free.filter(agent__languages=queue.required_language_id)
        assert not free.exists(), f"{queue.slug}: calls wait while {list(free)} are free"


def _assert_never_held_twice():
    # Each call's held stretches come from the presence log: (agent, start, end).
    by_call = defaultdict(list)
    for agent_id, call_id, start, end in PresenceInterval.objects.filter(
        call__isnull=False, state__in=["reserved", "on_call", "wrap_up"]
    ).values_list("agent_id", "call_id", "started_at", "ended_at"):
        by_call[call_id].append((agent_id, start, end or timezone.now() + timedelta(days=1)))
    for call_id, stretches in by_call.items():
        for a1, s1, e1 in stretches:
            for a2, s2, e2 in stretches:
                if a1 != a2:
                    assert e1 <= s2 or e2 <= s1, f"call {call_id} held by agents {a1} and {a2} at once"
    # An agent's log never overlaps itself, so one held stretch at a time means one call at a time.
    for agent_id in PresenceInterval.objects.values_list("agent_id", flat=True).distinct():
        log = list(PresenceInterval.objects.filter(agent_id=agent_id).order_by("started_at", "pk"))
        for before, after in zip(log, log[1:], strict=False):
            assert before.ended_at is not None and before.ended_at <= after.started_at
    # Every call's history is a path through the transition table.
    previous = {}
    for call_id, from_state, to_state in CallStateChange.objects.order_by("pk").values_list(
        "call_id", "from_state", "to_state"
    ):
        assert from_state == previous.get(call_id, ""), f"call {call_id}: {from_state} after {previous.get(call_id)}"
        assert from_state == to_state or from_state == "" or to_state in Call.TRANSITIONS[from_state]
        previous[call_id] = to_state


def test_concurrent_events_and_agents_never_double_assign(floor, settings):
    settings.CALLS_SWEEP_INTERVAL_S = 0
    errors: list = []
    sent: list = []
    stop = threading.Event()
    agents = floor["agents"]
    agent_threads = [
        threading.Thread(target=_agent_worker, args=(agents[i::3], stop, 100 + i, errors)) for i in range(3)
    ]
    pbx_threads = [threading.Thread(target=_pbx, args=(t, 25, sent, t, errors)) for t in range(6)]
    for thread in agent_threads + pbx_threads:
        thread.start()
    for thread in pbx_threads:
        thread.join(timeout=300)
    stop.set()
    # Before the agents sign out: the floor is quiet, and the rule must hold.
    for thread in agent_threads:
        thread.join(timeout=300)
    assert not errors, errors[:5]
    assert not any(t.is_alive() for t in agent_threads + pbx_threads)

    _assert_never_held_twice()
    # The run did exercise routing: calls were rung, talked, wrapped up, some rang out or were declined.
    assert CallStateChange.objects.filter(to_state="ringing").count() > 40
    assert Call.objects.filter(state=Call.State.COMPLETED).count() > 20
    assert CallStateChange.objects.filter(from_state="ringing", to_state="queued").exists()
    # Nobody holds a call any more (they signed out): every call waits or is over.
    states = set(Call.objects.values_list("state", flat=True))
    assert states <= {Call.State.QUEUED, Call.State.COMPLETED, Call.State.ABANDONED}, states
    # One call per PBX call id, whatever the duplicates and replays.
    assert Call.objects.filter(direction="inbound").count() == 6 * 25
    # The event log: every event once.
    recorded = list(CallEvent.objects.values_list("event_id", flat=True))
    assert len(recorded) == len(set(recorded)) == len(set(sent))
    assert set(recorded) == set(sent)
    assert not CallEvent.objects.filter(response__isnull=True).exists()


def test_quiet_floor_leaves_no_call_waiting_next_to_a_free_agent(floor, settings):
    """While agents flip between available and break and calls arrive from many threads at once,
    each change runs routing after it commits: when everything has landed, no call waits while
    an eligible agent is free."""
    settings.CALLS_SWEEP_INTERVAL_S = 0
    errors: list = []
    agents = floor["agents"]
    barrier = threading.Barrier(len(agents) + 6)

    def flip(agent, seed):
        rng = random.Random(seed)
        api = APIClient()
        api.force_authenticate(agent.user)
        try:
            barrier.wait()
            for _ in range(6):
                status = rng.choice(["available", "available", "break"])
                api.post("/api/agents/me/status/", {"status": status, "reason": "meeting"}, format="json")
        finally:
            connection.close()

    def calls(t):
        client = Client()
        try:
            barrier.wait()
            for i in range(10):
                r = _post(
                    client, _event("call.offered", f"q{t}-{i}", 0, queue=["c-fr", "c-en"][i % 2], caller="+33612345678")
                )
                if r.status_code != 200:
                    errors.append(r.content)
        finally:
            connection.close()

    threads = [threading.Thread(target=flip, args=(a, n)) for n, a in enumerate(agents)]
    threads += [threading.Thread(target=calls, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    assert Call.objects.filter(state=Call.State.RINGING).exists()  # something was routed
    _assert_no_waiting_call_next_to_a_free_eligible_agent(floor["queues"])
    _assert_never_held_twice()
    held = Call.objects.filter(state__in=Call.HELD_STATES).values_list("agent_id", flat=True)
    assert len(held) == len(set(held))


def test_the_same_event_delivered_at_once_by_many_threads_is_applied_once(floor):
    payload = _event("call.offered", "same-1", 0, queue="c-fr", caller="+33612345678")
    answers = []
    barrier = threading.Barrier(8)

    def deliver():
        client = Client()
        try:
            barrier.wait()
            response = _post(client, payload)
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 8
    assert all(answer == answers[0] for answer in answers)
    assert answers[0][0] == 200
    assert Call.objects.filter(external_id="same-1").count() == 1
    assert CallEvent.objects.filter(event_id=payload["event_id"]).count() == 1
    assert CallStateChange.objects.filter(call__external_id="same-1", from_state="").count() == 1


def test_a_worker_killed_mid_claim_loses_no_callback(floor):
    """A worker claims a due callback and its process dies before committing (here: its
    database session is terminated, as when the machine dies). The claim disappears with it;
    meanwhile a second worker skips the locked row instead of dispatching it twice; after
    the death the sweep dispatches it exactly once."""
    queue = floor["queues"][0]
    with transaction.atomic():
        call, _ = services.call_offer(
            external_id="dead-1", queue=queue, caller_number="+33612345678", offered_at=timezone.now(), cause="t"
        )
        services._call_abandon(call=call, now=timezone.now(), cause="t")
    callback = Callback.objects.get()
    due = callback.due_at + timedelta(seconds=1)
    claimed = threading.Event()
    die = threading.Event()
    outcome = {}

    def doomed_worker():
        try:
            with transaction.atomic():
                locked = Callback.objects.select_for_update().get(pk=callback.pk)
                services.callback_transition(
                    callback=locked, to=Callback.State.DISPATCHED, now=due, cause="doomed", fields={"attempts": 1}
                )
                outcome["pid"] = connection.connection.info.backend_pid
                claimed.set()
                die.wait(30)
                Callback.objects.count()  # the session is gone: this fails
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    worker = threading.Thread(target=doomed_worker)
    worker.start()
    assert claimed.wait(30)
    # A second worker at the same time: the row is locked, it is skipped, not taken twice.
    assert services.callbacks_dispatch_due(now=due) == []
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [outcome["pid"]])
    die.set()
    worker.join(30)
    assert "error" in outcome

    callback.refresh_from_db()
    assert callback.state == Callback.State.PENDING and callback.attempts == 0
    [dispatched] = services.callbacks_dispatch_due(now=due)
    assert services.callbacks_dispatch_due(now=due) == []
    callback.refresh_from_db()
    assert callback.state == Callback.State.DISPATCHED and callback.attempts == 1
    assert Call.objects.filter(callback=callback).count() == 1 and dispatched.callback_id == callback.pk


def _english_only_and_french(floor):
    """An agent who may take no French call, and one who may (French, with the skill)."""
    english_only = next(a for a in floor["agents"] if not a.languages.filter(code="fr").exists())
    french = next(a for a in floor["agents"] if a.languages.filter(code="fr").exists() and a.skill_levels.exists())
    return english_only, french


def _pause_after_floor_read(monkeypatch, *, thread_name: str):
    """The first routing pass of the thread so named stops after reading the floor, holding the
    routing lock, until told to go on. Returns (floor read, go on) events."""
    from calls import acd

    floor_read, go_on = threading.Event(), threading.Event()
    read_floor = acd._read_floor

    def read_floor_then_wait(*, now):
        floor_state = read_floor(now=now)
        if threading.current_thread().name == thread_name and not floor_read.is_set():
            floor_read.set()
            go_on.wait(30)
        return floor_state

    monkeypatch.setattr(acd, "_read_floor", read_floor_then_wait)
    return floor_read, go_on


def test_an_agent_freed_while_an_offer_is_routed_in_its_transaction_gets_the_call(floor, monkeypatch):
    """call.offered routes its new call inside its own transaction (acd.route_in_transaction), so
    it reads the floor before that call is committed. An agent who becomes free just then runs
    their own check after their commit, and cannot see the call yet. The offer's check after its
    own commit must match them: no call may be left waiting next to the free agent."""
    q_fr = floor["queues"][0]
    english_only, french = _english_only_and_french(floor)
    # Someone is free, so the offer takes the routing lock; but nobody who may take a French call.
    services.agent_set_status(agent=english_only, status=AgentPresence.State.AVAILABLE)
    # The offer then holds the routing lock, its new call not yet committed.
    floor_read, go_on = _pause_after_floor_read(monkeypatch, thread_name="offer")
    answers = []

    def offer():
        try:
            answers.append(_post(Client(), _event("call.offered", "gap-1", 0, queue=q_fr.slug, caller="+33612345678")))
        finally:
            connection.close()

    def free_the_french_agent():
        try:
            services.agent_set_status(agent=french, status=AgentPresence.State.AVAILABLE)
        finally:
            connection.close()

    offering = threading.Thread(target=offer, name="offer")
    offering.start()
    assert floor_read.wait(30)
    freeing = threading.Thread(target=free_the_french_agent)
    freeing.start()
    freeing.join(5)  # its commit and its check, which finds no waiting call it can see
    go_on.set()
    offering.join(30)
    freeing.join(30)

    assert answers and answers[0].status_code == 200
    call = Call.objects.get(external_id="gap-1")
    assert call.state == Call.State.RINGING and call.agent_id == french.pk
    assert answers[0].json()["state"] == "ringing"
    _assert_no_waiting_call_next_to_a_free_eligible_agent(floor["queues"])


def test_a_pass_never_waits_for_another_the_running_pass_takes_over_its_request(floor, monkeypatch):
    """A change that asks for a routing pass while another pass holds the routing lock does not
    wait for it: it counts its request and returns at once, and the running pass, seeing the
    request after its commit, runs the pass that was asked for (calls/locks.py)."""
    from calls import acd

    q_fr = floor["queues"][0]
    english_only, french = _english_only_and_french(floor)
    services.agent_set_status(agent=english_only, status=AgentPresence.State.AVAILABLE)
    _post(Client(), _event("call.offered", "handed-1", 0, queue=q_fr.slug, caller="+33612345678"))
    call = Call.objects.get(external_id="handed-1")
    assert call.state == Call.State.QUEUED  # nobody free may take it: a pass has something to look at
    # The holder's pass then holds the routing lock; the French agent's change comes meanwhile.
    floor_read, go_on = _pause_after_floor_read(monkeypatch, thread_name="holder")
    rung_by_holder = []

    def holder():
        try:
            rung_by_holder.extend(acd.route_waiting_calls())
        finally:
            connection.close()

    holding = threading.Thread(target=holder, name="holder")
    holding.start()
    try:
        assert floor_read.wait(30)

        def free_the_french_agent():  # their check after the commit asks for a pass
            try:
                services.agent_set_status(agent=french, status=AgentPresence.State.AVAILABLE)
            finally:
                connection.close()

        asked = threading.Thread(target=free_the_french_agent)
        asked.start()
        asked.join(10)
        assert not asked.is_alive(), "the request waited for the routing lock"
        call.refresh_from_db()
        assert call.state == Call.State.QUEUED  # handed over: the holder's pass read the floor before
    finally:
        go_on.set()
        holding.join(30)

    call.refresh_from_db()
    assert call.state == Call.State.RINGING and call.agent_id == french.pk
    assert [c.pk for c in rung_by_holder] == [call.pk]  # rung by the pass that held the lock
    _assert_no_waiting_call_next_to_a_free_eligible_agent(floor["queues"])


def test_an_agent_action_does_not_lock_the_queue(floor):
    """An agent's accept, end or wrap-up locks their call, not its queue: calls keep being
    offered to the queue meanwhile (the new call's foreign-key check takes a share lock on the
    queue's row, which a FOR UPDATE of the joined queue would hold back)."""
    queue = floor["queues"][0]
    agent = next(a for a in floor["agents"] if a.skills.filter(pk=queue.required_skill_id).exists())
    services.agent_set_status(agent=agent, status=AgentPresence.State.AVAILABLE)
    call = _post(Client(), _event("call.offered", "held-1", 0, queue="c-fr", caller="+33612345670")).json()
    assert call["agent"] == agent.user.username
    locked, release, errors = threading.Event(), threading.Event(), []

    def agent_action_in_progress():
        try:
            with transaction.atomic():
                services._agent_call_for_update(agent=agent, call_id=call["id"])
                locked.set()
                release.wait(30)
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=agent_action_in_progress)
    holder.start()
    try:
        assert locked.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a lock wait fails the offer below
        response = _post(Client(), _event("call.offered", "next-1", 0, queue="c-fr", caller="+33612345671"))
    finally:
        release.set()
        holder.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert errors == []
    assert response.status_code == 200, response.content
    assert Call.objects.filter(external_id="next-1", queue=queue).exists()
