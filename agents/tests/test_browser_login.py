"""A person signs in through a real browser and lands on their page."""

import pytest

from agents.tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.browser


def test_agent_signs_in_and_lands_on_the_desk(live_asgi_server, browser, team_a):
    AgentFactory(user=UserFactory(username="carla", first_name="Carla", roles=["agent"]), team=team_a)
    page = browser.new_page()
    page.goto(f"{live_asgi_server}/")
    page.fill("#id_username", "carla")
    page.fill("#id_password", "pw")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_asgi_server}/desk/")
    assert "Carla" in page.inner_text("h1")
    # Static files are served by the application itself (WhiteNoise), not a CDN.
    css = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
    assert css == "rgb(20, 33, 46)"
