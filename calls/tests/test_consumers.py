"""The desk's and the wallboard's WebSockets: who may connect, and who hears what."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings

from calls import realtime, services
from calls.tests.factories import QueueFactory, agent_with, make_available, offer
from contactcenter.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")
MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
def _memory_layer(settings):
    # The in-process layer: the test's pushes and its sockets share one event loop's queues.
    settings.CHANNEL_LAYERS = MEMORY
    import channels.layers

    channels.layers.channel_layers.backends.clear()
    yield
    channels.layers.channel_layers.backends.clear()


def _session_cookie(_client, user) -> bytes:
    """A session of its own for each user (logging another user in on one client ends the first session)."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _connect(path, *, cookie=None, origin=ORIGIN):
    headers = [origin] if origin else []
    if cookie:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


def _run(coro_fn):
    return async_to_sync(coro_fn)()


def test_an_anonymous_desk_socket_is_refused():
    async def go():
        communicator, connected, _code = await _connect("/ws/desk/")
        assert not connected
        communicator2, connected2, _code2 = await _connect("/ws/wallboard/")
        assert not connected2

    _run(go)


def test_a_foreign_origin_is_refused_even_when_signed_in(client, agent_alice):
    cookie = _session_cookie(client, agent_alice.user)

    async def go():
        communicator, connected, _code = await _connect(
            "/ws/desk/", cookie=cookie, origin=(b"origin", b"http://evil.example")
        )
        assert not connected
        # The same user from the site's own origin is let in.
        communicator, connected, _code = await _connect("/ws/desk/", cookie=cookie)
        assert connected
        await communicator.disconnect()

    _run(go)


def test_a_user_without_an_agent_profile_has_no_desk(client, supervisor_sam, hr_hana):
    cookies = [_session_cookie(client, supervisor_sam), _session_cookie(client, hr_hana)]

    async def go():
        for cookie in cookies:
            _communicator, connected, _code = await _connect("/ws/desk/", cookie=cookie)
            assert not connected

    _run(go)


def test_an_agent_has_no_wallboard(client, agent_alice):
    cookie = _session_cookie(client, agent_alice.user)

    async def go():
        _communicator, connected, _code = await _connect("/ws/wallboard/", cookie=cookie)
        assert not connected

    _run(go)


def test_the_desk_hears_its_queue_status_and_its_own_offers_never_another_agents(client, team_a, team_b, fr, billing):
    queue_a = QueueFactory(name="A", slug="qa", required_language=fr, teams=[team_a])
    alice = agent_with(languages=("fr",), team=team_a, username="alice2")
    bob = agent_with(languages=("fr",), team=team_b, username="bob2")
    alice_cookie = _session_cookie(client, alice.user)
    bob_cookie = _session_cookie(client, bob.user)

    async def go():
        alice_ws, ok, _ = await _connect("/ws/desk/", cookie=alice_cookie)
        assert ok
        bob_ws, ok, _ = await _connect("/ws/desk/", cookie=bob_cookie)
        assert ok
        # Alice becomes available (Bob stays offline); a caller arrives and rings on her desk.
        await sync_to_async(make_available)(alice)
        await sync_to_async(offer)(queue_a, caller="+33600000001")
        seen = []
        while True:
            message = await alice_ws.receive_json_from(timeout=2)
            seen.append(message)
            if message["type"] == "call.offered":
                break
        types = {m["type"] for m in seen}
        assert "presence.updated" in types
        status = [m for m in seen if m["type"] == "queue.status"]
        assert status and status[0]["queue"] == queue_a.pk and "queue_seq" in status[0]
        offered = seen[-1]
        assert offered["call"]["caller_number"] == "+33600000001"
        # Every message on the socket is numbered without a gap.
        assert [m["seq"] for m in seen] == list(range(1, len(seen) + 1))
        # Bob's desk got nothing: not her offer, not her presence, not queue A (not his team's).
        assert await bob_ws.receive_nothing(timeout=0.3)
        await alice_ws.disconnect()
        await bob_ws.disconnect()

    _run(go)


def test_the_desk_resyncs_its_whole_state_on_request(client, agent_alice, team_a, fr):
    queue = QueueFactory(name="Q", slug="qsync", teams=[team_a])
    cookie = _session_cookie(client, agent_alice.user)

    async def go():
        ws, ok, _ = await _connect("/ws/desk/", cookie=cookie)
        assert ok
        await ws.send_json_to({"type": "sync"})
        message = await ws.receive_json_from(timeout=2)
        assert message["type"] == "sync" and message["seq"] == 1
        state = message["state"]
        assert state["presence"]["state"] == "offline"
        assert state["call"] is None
        assert [q["queue"] for q in state["queues"]] == [queue.pk]
        assert state["my_day"]["target"] == agent_alice.calls_per_day_target
        await ws.disconnect()

    _run(go)


def test_scheduling_notifications_reach_the_agents_desk(client, agent_alice):
    cookie = _session_cookie(client, agent_alice.user)

    async def go():
        ws, ok, _ = await _connect("/ws/desk/", cookie=cookie)
        assert ok
        await get_channel_layer().group_send(
            realtime.agent_group(agent_alice.pk), {"type": "notification", "text": "Shift moved"}
        )
        message = await ws.receive_json_from(timeout=2)
        assert message["type"] == "notification" and message["text"] == "Shift moved"
        await ws.disconnect()

    _run(go)


def test_a_supervisors_wallboard_hears_only_their_teams_queues(client, team_a, team_b, supervisor_sam):
    queue_a = QueueFactory(name="A", slug="wa", teams=[team_a])
    queue_b = QueueFactory(name="B", slug="wb", teams=[team_b])
    cookie = _session_cookie(client, supervisor_sam)

    async def go():
        ws, ok, _ = await _connect("/ws/wallboard/", cookie=cookie)
        assert ok
        await sync_to_async(offer)(queue_b, caller="+33600000002", route=False)
        assert await ws.receive_nothing(timeout=0.3)
        await sync_to_async(offer)(queue_a, caller="+33600000003", route=False)
        message = await ws.receive_json_from(timeout=2)
        assert message["type"] == "queue.status" and message["queue"] == queue_a.pk
        assert message["waiting"] == 1
        await ws.send_json_to({"type": "sync"})
        sync = await ws.receive_json_from(timeout=2)
        assert [q["id"] for q in sync["state"]["queues"]] == [queue_a.pk]
        await ws.disconnect()

    _run(go)


def test_a_managers_wallboard_hears_every_queue(client, team_a, team_b, manager_mia):
    QueueFactory(name="A", slug="ma", teams=[team_a])
    queue_b = QueueFactory(name="B", slug="mb", teams=[team_b])
    cookie = _session_cookie(client, manager_mia)

    async def go():
        ws, ok, _ = await _connect("/ws/wallboard/", cookie=cookie)
        assert ok
        await sync_to_async(offer)(queue_b, caller="+33600000004", route=False)
        message = await ws.receive_json_from(timeout=2)
        assert message["type"] == "queue.status" and message["queue"] == queue_b.pk
        await ws.disconnect()

    _run(go)


def test_an_escalation_reaches_the_supervisors_wallboard_as_it_arrives(client, team_a, supervisor_sam, fr):
    queue = QueueFactory(name="E", slug="esc", required_language=fr, teams=[team_a])
    agent = agent_with(languages=("fr",), team=team_a, username="esca")
    make_available(agent)
    call = offer(queue)
    services.call_accept(agent=agent, call_id=call.pk)
    cookie = _session_cookie(client, supervisor_sam)

    async def go():
        ws, ok, _ = await _connect("/ws/wallboard/", cookie=cookie)
        assert ok
        await sync_to_async(services.call_escalate)(agent=agent, call_id=call.pk, reason="angry")
        types = []
        while "call.escalated" not in types:
            message = await ws.receive_json_from(timeout=2)
            types.append(message["type"])
        assert message["call"]["id"] == call.pk
        await ws.disconnect()

    _run(go)


def test_announcements_reach_the_team_desks_and_receipts_reach_the_author(client, team_a, team_b, supervisor_sam):
    alice = agent_with(team=team_a, username="ann-a")
    bob = agent_with(team=team_b, username="ann-b")
    alice_cookie = _session_cookie(client, alice.user)
    bob_cookie = _session_cookie(client, bob.user)
    sam_cookie = _session_cookie(client, supervisor_sam)

    async def go():
        alice_ws, ok, _ = await _connect("/ws/desk/", cookie=alice_cookie)
        bob_ws, ok2, _ = await _connect("/ws/desk/", cookie=bob_cookie)
        sam_ws, ok3, _ = await _connect("/ws/wallboard/", cookie=sam_cookie)
        assert ok and ok2 and ok3
        announcement = await sync_to_async(services.announcement_post)(
            author=supervisor_sam, body="New offer from noon", team_ids=[team_a.pk], allowed_team_ids=[team_a.pk]
        )
        message = await alice_ws.receive_json_from(timeout=2)
        assert message["type"] == "announcement.posted"
        assert message["announcement"]["body"] == "New offer from noon"
        assert await bob_ws.receive_nothing(timeout=0.3)
        await alice_ws.send_json_to({"type": "announcement.read", "id": announcement.pk})
        receipt = await sam_ws.receive_json_from(timeout=2)
        assert receipt["type"] == "announcement.read" and receipt["agent_id"] == alice.pk
        # Bob cannot mark an announcement that was not sent to his team.
        await bob_ws.send_json_to({"type": "announcement.read", "id": announcement.pk})
        error = await bob_ws.receive_json_from(timeout=2)
        assert error["type"] == "error"
        for ws in (alice_ws, bob_ws, sam_ws):
            await ws.disconnect()

    _run(go)


def test_the_server_can_drop_a_desk_socket(client, agent_alice):
    cookie = _session_cookie(client, agent_alice.user)

    async def go():
        ws, ok, _ = await _connect("/ws/desk/", cookie=cookie)
        assert ok
        await get_channel_layer().group_send(realtime.agent_group(agent_alice.pk), {"type": "socket.drop"})
        output = await ws.receive_output(timeout=2)
        assert output["type"] == "websocket.close"

    _run(go)


@override_settings()
def test_unknown_messages_get_an_error_not_a_crash(client, agent_alice):
    cookie = _session_cookie(client, agent_alice.user)

    async def go():
        ws, ok, _ = await _connect("/ws/desk/", cookie=cookie)
        assert ok
        await ws.send_json_to({"type": "nonsense"})
        assert (await ws.receive_json_from(timeout=2))["type"] == "error"
        await ws.send_json_to({"type": "announcement.read", "id": "x"})
        assert (await ws.receive_json_from(timeout=2))["type"] == "error"
        await ws.disconnect()

    _run(go)
