"""The Erlang C staffing calculator: POST traffic, handle time and target; get agents,
headcount, service level, ASA and occupancy; clear 400s for impossible inputs."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, agent_alice):
    client.force_login(agent_alice.user)
    return lambda data: client.post(reverse("api-staffing"), data, content_type="application/json")


def test_published_example_from_calls(api):
    response = api(
        {
            "calls": 100,
            "interval_s": 1800,
            "aht_s": 180,
            "target_pct": 80,
            "threshold_s": 20,
            "max_occupancy_pct": 85,
            "shrinkage_pct": 30,
        }
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["traffic_erlangs"] == pytest.approx(10.0)
    assert (body["agents"], body["headcount"]) == (14, 20)
    assert body["service_level_pct"] == pytest.approx(88.8, abs=0.05)
    assert body["asa_s"] == pytest.approx(7.8, abs=0.05)
    assert body["occupancy_pct"] == pytest.approx(71.43, abs=0.01)


def test_traffic_directly_and_an_unstable_evaluation(api):
    body = api({"traffic_erlangs": 10, "aht_s": 180, "target_pct": 80, "threshold_s": 20, "agents": 10}).json()
    assert body["agents"] == 14
    assert body["evaluated"]["stable"] is False
    assert body["evaluated"]["service_level_pct"] == 0 and body["evaluated"]["asa_s"] is None
    assert "grows without bound" in body["evaluated"]["message"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"traffic_erlangs": -1, "aht_s": 180, "target_pct": 80, "threshold_s": 20}, "traffic_erlangs"),
        ({"calls": -5, "aht_s": 180, "target_pct": 80, "threshold_s": 20}, "calls"),
        ({"traffic_erlangs": 10, "aht_s": 0, "target_pct": 80, "threshold_s": 20}, "aht_s"),
        ({"traffic_erlangs": 10, "aht_s": 180, "target_pct": 120, "threshold_s": 20}, "target_pct"),
        ({"traffic_erlangs": 10, "aht_s": 180, "target_pct": 100, "threshold_s": 20}, "target_pct"),
        ({"traffic_erlangs": 10, "aht_s": 180, "target_pct": 80, "threshold_s": -1}, "threshold_s"),
        (
            {"traffic_erlangs": 10, "aht_s": 180, "target_pct": 80, "threshold_s": 20, "max_occupancy_pct": 0},
            "max_occupancy_pct",
        ),
        (
            {"traffic_erlangs": 10, "aht_s": 180, "target_pct": 80, "threshold_s": 20, "shrinkage_pct": 100},
            "shrinkage_pct",
        ),
        ({"aht_s": 180, "target_pct": 80, "threshold_s": 20}, "traffic_erlangs"),
        ({"traffic_erlangs": 1, "calls": 3, "aht_s": 180, "target_pct": 80, "threshold_s": 20}, "traffic_erlangs"),
        ({"traffic_erlangs": "lots", "aht_s": 180, "target_pct": 80, "threshold_s": 20}, "traffic_erlangs"),
        ({"traffic_erlangs": 10, "aht_s": 180, "target_pct": 80, "threshold_s": 20, "agents": 2.5}, "agents"),
    ],
)
def test_impossible_inputs_are_400_naming_the_field(api, data, field):
    response = api(data)
    assert response.status_code == 400
    assert field in response.json()


def test_very_large_traffic_is_answered(api):
    body = api(
        {"traffic_erlangs": 20000, "aht_s": 300, "target_pct": 90, "threshold_s": 15, "max_occupancy_pct": 100}
    ).json()
    assert 20000 < body["agents"] < 20100
    assert body["service_level_pct"] >= 90
