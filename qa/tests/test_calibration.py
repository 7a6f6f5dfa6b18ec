"""Calibration: statistics on known data, the blind rule, and who may take part."""

from decimal import Decimal

import pytest
from django.urls import reverse

from agents.tests.factories import UserFactory
from qa.calibration import calibration_stats
from qa.models import Review
from qa.tests.factories import PERFECT, CallFactory, make_scorecard, scores_payload

D = Decimal


def test_spread_and_distances_on_known_data():
    # A: yes/no; B: 0..4; C: yes/no, two reviewers said N/A.
    result = calibration_stats(
        max_points={1: 1, 2: 4, 3: 1},
        points={10: {1: 1, 2: 4, 3: None}, 20: {1: 1, 2: 2, 3: 1}, 30: {1: 0, 2: 3, 3: None}},
        scores={10: D("80"), 20: D("60"), 30: D("40")},
    )
    a, b, c = result.criteria
    # A: 100, 100, 0 → mean 66.67, population std dev √(2222.2) = 47.14
    assert (a.scored, a.not_applicable, a.mean_pct, a.min_pct, a.max_pct, a.stdev_pct) == (
        3,
        0,
        D("66.67"),
        D("0.00"),
        D("100.00"),
        D("47.14"),
    )
    # B: 100, 50, 75 → mean 75, std dev √(416.67) = 20.41
    assert (b.mean_pct, b.min_pct, b.max_pct, b.stdev_pct) == (D("75.00"), D("50.00"), D("100.00"), D("20.41"))
    # C: one answer → no spread; the two N/A are counted apart.
    assert (c.scored, c.not_applicable, c.mean_pct, c.stdev_pct) == (1, 2, D("100.00"), D("0.00"))
    assert result.mean_score_pct == D("60.00")
    by_reviewer = {r.reviewer_id: r for r in result.reviewers}
    assert [by_reviewer[i].score_delta for i in (10, 20, 30)] == [D("20.00"), D("0.00"), D("-20.00")]
    # 10: |100−66.67| and |100−75| → 29.17; 20: 33.33, 25, 0 → 19.44; 30: 66.67, 0 → 33.33
    assert [by_reviewer[i].mean_abs_distance for i in (10, 20, 30)] == [D("29.17"), D("19.44"), D("33.33")]


def test_identical_reviewers_have_no_spread():
    result = calibration_stats(max_points={1: 4}, points={1: {1: 3}, 2: {1: 3}}, scores={1: D("75"), 2: D("75")})
    assert result.criteria[0].stdev_pct == D("0.00")
    assert {r.mean_abs_distance for r in result.reviewers} == {D("0.00")}
    assert {r.score_delta for r in result.reviewers} == {D("0.00")}


def test_no_submission_yet_gives_empty_figures():
    result = calibration_stats(max_points={1: 1}, points={}, scores={})
    assert result.mean_score_pct is None
    assert result.criteria[0].mean_pct is None
    assert result.reviewers == []


# --- Through the API ----------------------------------------------------------------------------


@pytest.fixture
def setup(db, qa_quinn, agent_alice):
    make_scorecard()
    p1 = UserFactory(username="p1", roles=["qa_analyst"])
    p2 = UserFactory(username="p2", roles=["qa_analyst"])
    call = CallFactory(agent=agent_alice)
    return {"organiser": qa_quinn, "participants": [p1, p2], "call": call}


def create(client, user, call, participants):
    client.force_login(user)
    return client.post(
        reverse("api-qa-calibration-list"),
        {"title": "March calibration", "call": call.pk, "participants": [p.pk for p in participants]},
        content_type="application/json",
    )


def score_as(client, user, session_id, values):
    client.force_login(user)
    review = client.post(reverse("api-qa-calibration-review", args=[session_id])).json()
    from qa.models import ScorecardVersion

    version = ScorecardVersion.objects.get(pk=review["scorecard_version"])
    detail = reverse("api-qa-review-detail", args=[review["id"]])
    assert (
        client.patch(detail, {"scores": scores_payload(version, values)}, content_type="application/json").status_code
        == 200
    )
    assert client.post(reverse("api-qa-review-submit", args=[review["id"]])).status_code == 200
    return review["id"]


def test_blind_until_submitted_then_results(client, setup):
    p1, p2 = setup["participants"]
    response = create(client, setup["organiser"], setup["call"], [p1, p2])
    assert response.status_code == 201, response.json()
    session_id = response.json()["id"]
    url = reverse("api-qa-calibration-detail", args=[session_id])

    r1 = score_as(client, p1, session_id, PERFECT)  # 100
    # p2 has not scored: no results, and p1's review is out of reach.
    client.force_login(p2)
    data = client.get(url).json()
    assert data["results_visible"] is False
    assert "results" not in data
    assert client.get(reverse("api-qa-review-detail", args=[r1])).status_code == 404
    assert r1 not in [r["id"] for r in client.get(reverse("api-qa-review-list")).json()["results"]]

    # p1 submitted: sees the results so far.
    client.force_login(p1)
    assert client.get(url).json()["results"]["submitted"] == 1

    score_as(client, p2, session_id, {**PERFECT, "Checks identity": "no"})  # 5 of 7 → 71.43
    client.force_login(p2)
    results = client.get(url).json()["results"]
    assert results["submitted"] == 2
    assert results["mean_score_pct"] == "85.72"  # (100 + 71.43) / 2 = 85.715 → 85.72
    identity = next(c for c in results["criteria"] if c["label"] == "Checks identity")
    assert (identity["min_pct"], identity["max_pct"], identity["stdev_pct"]) == ("0.00", "100.00", "50.00")
    deltas = {r["reviewer"]["username"]: r["score_delta"] for r in results["reviewers"]}
    # ±14.285 exactly, rounded half away from zero.
    assert deltas == {"p1": "14.29", "p2": "-14.29"}

    # The organiser closes the session.
    client.force_login(setup["organiser"])
    assert client.get(url).json()["results_visible"] is True  # not a participant: sees as they come
    assert client.post(reverse("api-qa-calibration-close", args=[session_id])).json()["status"] == "closed"


def test_a_participant_gets_one_review_per_session(client, setup):
    p1, p2 = setup["participants"]
    session_id = create(client, setup["organiser"], setup["call"], [p1, p2]).json()["id"]
    client.force_login(p1)
    first = client.post(reverse("api-qa-calibration-review", args=[session_id])).json()["id"]
    assert client.post(reverse("api-qa-calibration-review", args=[session_id])).json()["id"] == first
    assert Review.objects.filter(calibration_id=session_id).count() == 1


def test_calibration_scores_never_reach_the_agent_or_the_averages(client, setup, agent_alice, supervisor_sam):
    p1, p2 = setup["participants"]
    session_id = create(client, setup["organiser"], setup["call"], [p1, p2]).json()["id"]
    score_as(client, p1, session_id, {**PERFECT, "Protects personal data": "no"})
    client.force_login(agent_alice.user)
    assert client.get(reverse("api-qa-review-list")).json()["count"] == 0
    client.force_login(supervisor_sam)
    assert client.get(reverse("api-qa-team-quality")).json()["agents"] == []
    # And the call can still get its regular review.
    client.force_login(p2)
    response = client.post(reverse("api-qa-review-list"), {"call": setup["call"].pk}, content_type="application/json")
    assert response.status_code == 201


def test_non_participants_cannot_score_and_closed_sessions_take_no_score(client, setup):
    p1, p2 = setup["participants"]
    outsider = UserFactory(username="p3", roles=["qa_analyst"])
    session_id = create(client, setup["organiser"], setup["call"], [p1, p2]).json()["id"]
    client.force_login(outsider)
    assert client.post(reverse("api-qa-calibration-review", args=[session_id])).status_code == 403
    client.force_login(setup["organiser"])
    client.post(reverse("api-qa-calibration-close", args=[session_id]))
    client.force_login(p1)
    assert client.post(reverse("api-qa-calibration-review", args=[session_id])).status_code == 409


@pytest.mark.parametrize("who", ["agent_alice", "supervisor_sam", "trainer_tom", "hr_hana"])
def test_calibration_is_for_qa_only(request, client, setup, who):
    p1, p2 = setup["participants"]
    session_id = create(client, setup["organiser"], setup["call"], [p1, p2]).json()["id"]
    user = request.getfixturevalue(who)
    client.force_login(getattr(user, "user", user))
    assert client.get(reverse("api-qa-calibration-list")).status_code == 403
    assert client.get(reverse("api-qa-calibration-detail", args=[session_id])).status_code == 403
    assert create(client, getattr(user, "user", user), setup["call"], [p1, p2]).status_code == 403


def test_bad_calibration_requests(client, setup, agent_alice):
    p1, p2 = setup["participants"]
    assert create(client, setup["organiser"], setup["call"], [p1]).status_code == 400  # one reviewer
    response = create(client, setup["organiser"], setup["call"], [p1, agent_alice.user])  # not QA
    assert response.status_code == 400
    assert "participants" in response.json()["errors"]
    client.force_login(setup["organiser"])
    response = client.post(
        reverse("api-qa-calibration-list"),
        {"title": "x", "call": 987654, "participants": [p1.pk, p2.pk]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "call" in response.json()["errors"]
