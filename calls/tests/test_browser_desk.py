"""An agent takes a call on the desk in a real browser while their supervisor watches the
wallboard: offer → accept → end → wrap-up with the keyboard; the server drops the desk's
socket and the desk reconnects to the right state. Screenshots go to test-artifacts/."""

import json
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from calls import realtime, telephony
from calls.models import Call
from calls.tests.factories import QueueFactory, agent_with

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _signed_offer(base_url: str, *, call_id: str, caller: str, queue_slug: str) -> httpx.Response:
    body = json.dumps(
        {
            "event_id": f"evt-{uuid.uuid4()}",
            "type": "call.offered",
            "call_id": call_id,
            "occurred_at": timezone.now().isoformat(),
            "queue": queue_slug,
            "caller": caller,
            "direction": "inbound",
        }
    ).encode()
    return httpx.post(
        f"{base_url}/api/telephony/events/",
        content=body,
        headers={"Content-Type": "application/json", "X-Signature": telephony.sign(body)},
        timeout=10,
    )


def _drop_desk_sockets(agent_id: int) -> None:
    """What an operator's drop does: a socket.drop message to the agent's group (from a thread
    of its own: Playwright's event loop runs in the test's thread)."""
    thread = threading.Thread(
        target=async_to_sync(get_channel_layer().group_send),
        args=(realtime.agent_group(agent_id), {"type": "socket.drop"}),
    )
    thread.start()
    thread.join(timeout=10)


def _sign_in(context, base_url: str, username: str):
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.press("#id_password", "Enter")
    page.wait_for_load_state()
    return page


def _queue_cell(page, queue_id: int, cell: str) -> str:
    return page.inner_text(f'#floor-queues tr[data-queue="{queue_id}"] td.{cell}')


def test_agent_takes_a_call_on_the_desk_and_the_wallboard_follows(
    live_asgi_server, browser, migrated_rows, team_a, supervisor_sam, fr, settings
):
    ARTIFACTS.mkdir(exist_ok=True)
    # The wallboard's day figures are shared for longer than the call below takes, so that the
    # page must ask again for them once they are counted anew (wallboard.js).
    settings.CALLS_DAY_FIGURES_MAX_AGE_S = 10
    queue = QueueFactory(name="Service FR", slug="service-fr", required_language=fr, teams=[team_a])
    agent = agent_with(team=team_a, username="carla")
    agent.user.first_name = "Carla"
    agent.user.save(update_fields=["first_name"])

    # The supervisor's wallboard, in a browser context of its own (1080p wall screen).
    wall_context = browser.new_context(viewport={"width": 1920, "height": 1080})
    wall = _sign_in(wall_context, live_asgi_server, "sam")
    wall.goto(f"{live_asgi_server}/wallboard/")
    wall.wait_for_selector('#floor[data-connections="1"]')
    assert _queue_cell(wall, queue.pk, "offered") == "0"

    # The agent on a laptop screen: signs in, goes available with the mouse once.
    desk_context = browser.new_context(viewport={"width": 1366, "height": 768})
    desk = _sign_in(desk_context, live_asgi_server, "carla")
    desk.goto(f"{live_asgi_server}/desk/")
    desk.wait_for_selector('#desk[data-connections="1"]')
    desk.click('[data-status="available"]')
    desk.wait_for_selector('#presence-state[data-state="available"]')

    # The PBX offers a call (signed): the desk shows it ringing within 2 s.
    sent = time.monotonic()
    response = _signed_offer(live_asgi_server, call_id="pbx-browser-1", caller="+33612340001", queue_slug=queue.slug)
    assert response.status_code in (200, 201), response.text
    desk.wait_for_selector('#call[data-state="ringing"]', timeout=2000)
    assert time.monotonic() - sent < 2.0
    assert "+33612340001" in desk.inner_text("#call")
    desk.screenshot(path=str(ARTIFACTS / "desk-ringing.png"), full_page=True)

    # Accept, end and wrap up without the mouse.
    desk.keyboard.press("a")
    desk.wait_for_selector('#call[data-state="in_progress"]', timeout=3000)
    desk.keyboard.press("e")
    desk.wait_for_selector('#call[data-state="wrap_up"]', timeout=3000)
    desk.wait_for_function("document.activeElement && document.activeElement.id === 'disposition'")
    desk.keyboard.press("ArrowDown")  # the first outcome
    assert desk.eval_on_selector("#disposition", "el => el.value") != ""
    desk.keyboard.press("Tab")
    desk.keyboard.type("Keyboard only")
    desk.keyboard.press("Control+Enter")
    desk.wait_for_selector('#call[data-state="none"]', timeout=3000)
    desk.wait_for_selector('#presence-state[data-state="available"]', timeout=3000)
    call = Call.objects.get(external_id="pbx-browser-1")
    assert call.state == Call.State.COMPLETED and call.notes == "Keyboard only" and call.disposition_id
    desk.wait_for_function("document.getElementById('day-handled').textContent === '1'", timeout=3000)
    desk.screenshot(path=str(ARTIFACTS / "desk-after-wrap-up.png"), full_page=True)

    # The wallboard's counts changed: one offered, one handled (once the figures counted when
    # the page opened have expired).
    wall.wait_for_function(
        f"""() => {{
            const row = document.querySelector('#floor-queues tr[data-queue="{queue.pk}"]');
            return row && row.querySelector('td.offered').textContent === '1'
                && row.querySelector('td.handled').textContent === '1';
        }}""",
        timeout=1000 * settings.CALLS_DAY_FIGURES_MAX_AGE_S + 3000,
    )
    wall.screenshot(path=str(ARTIFACTS / "wallboard.png"), full_page=True)

    # The server drops the desk's socket; a call arrives; the desk reconnects and shows it.
    _drop_desk_sockets(agent.pk)
    desk.wait_for_selector('#desk[data-connections="2"]', timeout=5000)
    _signed_offer(live_asgi_server, call_id="pbx-browser-2", caller="+33612340002", queue_slug=queue.slug)
    desk.wait_for_selector('#call[data-state="ringing"]', timeout=3000)
    assert "+33612340002" in desk.inner_text("#call")
    assert desk.get_attribute("#connection", "data-connected") == "true"
    desk.screenshot(path=str(ARTIFACTS / "desk-reconnected.png"), full_page=True)
    desk_context.close()
    wall_context.close()
