"""The review workflow after submission: acknowledge, dispute, resolve (upheld or
re-scored), every move kept in history and illegal moves refused."""

from decimal import Decimal

import pytest
from django.urls import reverse

from qa.models import Review
from qa.tests.factories import PERFECT, make_scorecard, qa_lead, scores_payload, submitted_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(qa_quinn, agent_alice):
    make_scorecard()
    # 1 + 0 + 3×(1/4) + 1 = 2.75 of 7 → 39.29
    return submitted_review(
        reviewer=qa_quinn, agent=agent_alice, values={**PERFECT, "Checks identity": "no", "Solves the request": 1}
    )


def act(client, user, review, action, payload=None):
    client.force_login(user)
    return client.post(
        reverse(f"api-qa-review-{action}", args=[review.pk]), payload or {}, content_type="application/json"
    )


def statuses(review):
    return list(review.history.values_list("from_status", "to_status"))


def test_agent_acknowledges_their_review(client, review, agent_alice):
    response = act(client, agent_alice.user, review, "acknowledge", {"note": "Understood"})
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert statuses(review) == [("", "draft"), ("draft", "submitted"), ("submitted", "acknowledged")]
    # Final: neither a second acknowledgement nor a dispute afterwards.
    assert act(client, agent_alice.user, review, "acknowledge").status_code == 409
    assert act(client, agent_alice.user, review, "dispute", {"reason": "Changed my mind"}).status_code == 409


def test_a_dispute_needs_a_reason(client, review, agent_alice):
    response = act(client, agent_alice.user, review, "dispute", {"reason": "  "})
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    review.refresh_from_db()
    assert review.status == "submitted"


def test_dispute_upheld_by_a_qa_lead(client, review, agent_alice):
    lead = qa_lead()
    assert (
        act(client, agent_alice.user, review, "dispute", {"reason": "The client refused to give the date"}).status_code
        == 200
    )
    response = act(
        client, lead, review, "resolve", {"outcome": "upheld", "note": "Identity is checked before anything else."}
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["status"] == "upheld"
    assert data["score_pct"] == "39.29"
    assert data["dispute_reason"] == "The client refused to give the date"
    assert data["resolution_note"] == "Identity is checked before anything else."
    assert statuses(review)[-2:] == [("submitted", "disputed"), ("disputed", "upheld")]
    assert review.history.last().by == lead


def test_dispute_rescored_keeps_the_old_scores_in_history(client, review, agent_alice):
    lead = qa_lead()
    version = review.scorecard_version
    act(client, agent_alice.user, review, "dispute", {"reason": "I did check the identity at 0:45"})
    response = act(
        client,
        lead,
        review,
        "resolve",
        {
            "outcome": "rescored",
            "note": "Heard it at 0:45: identity was checked.",
            "scores": scores_payload(version, {"Checks identity": "yes"}),
        },
    )
    assert response.status_code == 200, response.json()
    # 1 + 2 + 0.75 + 1 = 4.75 of 7 → 67.86
    assert response.json()["status"] == "rescored"
    assert response.json()["score_pct"] == "67.86"
    change = review.history.get(to_status="rescored")
    assert change.score_before == Decimal("39.29")
    identity = version.sections.get(title="Opening").criteria.get(label="Checks identity")
    assert change.scores_before[str(identity.pk)] == 0
    assert change.note == "Heard it at 0:45: identity was checked."
    review.refresh_from_db()
    assert review.scores.get(criterion=identity).points == 1


def test_rescore_with_bad_scores_changes_nothing(client, review, agent_alice):
    lead = qa_lead()
    act(client, agent_alice.user, review, "dispute", {"reason": "Unfair"})
    solution = review.scorecard_version.sections.get(title="Handling").criteria.get(label="Solves the request")
    response = act(
        client,
        lead,
        review,
        "resolve",
        {"outcome": "rescored", "note": "x", "scores": [{"criterion": solution.pk, "value": 9}]},
    )
    assert response.status_code == 400
    review.refresh_from_db()
    assert (review.status, review.score_pct) == ("disputed", Decimal("39.29"))
    assert review.scores.get(criterion=solution).points == 1


def test_a_rescore_needs_scores_and_every_resolution_a_note(client, review, agent_alice):
    lead = qa_lead()
    act(client, agent_alice.user, review, "dispute", {"reason": "Unfair"})
    assert act(client, lead, review, "resolve", {"outcome": "rescored", "note": "ok"}).status_code == 400
    assert act(client, lead, review, "resolve", {"outcome": "upheld", "note": ""}).status_code == 400
    assert act(client, lead, review, "resolve", {"outcome": "maybe", "note": "x"}).status_code == 400


def test_only_a_qa_lead_resolves_and_never_their_own_review(client, review, agent_alice, qa_quinn, supervisor_sam):
    act(client, agent_alice.user, review, "dispute", {"reason": "Unfair"})
    # A QA analyst without the permission: 403.
    assert act(client, qa_quinn, review, "resolve", {"outcome": "upheld", "note": "x"}).status_code == 403
    # The supervisor sees the review but may not resolve it.
    assert act(client, supervisor_sam, review, "resolve", {"outcome": "upheld", "note": "x"}).status_code == 403
    # A QA lead who wrote the review may not judge it.
    from django.contrib.auth.models import Permission

    qa_quinn.user_permissions.add(Permission.objects.get(codename="resolve_dispute"))
    quinn = type(qa_quinn).objects.get(pk=qa_quinn.pk)
    response = act(client, quinn, review, "resolve", {"outcome": "upheld", "note": "x"})
    assert response.status_code == 403
    assert "another QA lead" in response.json()["detail"]


def test_managers_resolve_disputes(client, review, agent_alice, manager_mia):
    act(client, agent_alice.user, review, "dispute", {"reason": "Unfair"})
    assert act(client, manager_mia, review, "resolve", {"outcome": "upheld", "note": "Fair."}).status_code == 200


def test_only_the_agent_acknowledges_or_disputes(client, review, agent_arthur, supervisor_sam, qa_quinn):
    # Another agent does not see the review at all.
    assert act(client, agent_arthur.user, review, "acknowledge").status_code == 404
    # People who see it but are not the agent: 403.
    assert act(client, supervisor_sam, review, "acknowledge").status_code == 403
    assert act(client, qa_quinn, review, "dispute", {"reason": "x"}).status_code == 403
    review.refresh_from_db()
    assert review.status == "submitted"


def test_illegal_moves_are_refused(client, review, agent_alice):
    lead = qa_lead()
    # Resolving an undisputed review.
    assert act(client, lead, review, "resolve", {"outcome": "upheld", "note": "x"}).status_code == 409
    act(client, agent_alice.user, review, "dispute", {"reason": "Unfair"})
    # Disputing twice, acknowledging a disputed review.
    assert act(client, agent_alice.user, review, "dispute", {"reason": "Again"}).status_code == 409
    assert act(client, agent_alice.user, review, "acknowledge").status_code == 409
    act(client, lead, review, "resolve", {"outcome": "upheld", "note": "x"})
    # Final.
    assert (
        act(
            client,
            lead,
            review,
            "resolve",
            {"outcome": "rescored", "note": "x", "scores": [{"criterion": 1, "value": 1}]},
        ).status_code
        == 409
    )
    assert act(client, agent_alice.user, review, "dispute", {"reason": "Still unfair"}).status_code == 409


def test_the_transition_table_is_closed():
    # Every status has an entry, and final statuses go nowhere.
    assert set(Review.TRANSITIONS) == set(Review.Status.values)
    for final in (Review.Status.ACKNOWLEDGED, Review.Status.UPHELD, Review.Status.RESCORED):
        assert Review.TRANSITIONS[final] == set()


def test_a_disputed_review_does_not_count_in_averages_until_resolved(client, review, agent_alice, supervisor_sam):
    from qa.selectors import qa_average_by_agent

    since = review.call.offered_at.date()
    assert qa_average_by_agent(user=supervisor_sam, since=since)[0]["average_pct"] == Decimal("39.29")
    act(client, agent_alice.user, review, "dispute", {"reason": "Unfair"})
    assert qa_average_by_agent(user=supervisor_sam, since=since) == []
    act(client, qa_lead(), review, "resolve", {"outcome": "upheld", "note": "x"})
    assert qa_average_by_agent(user=supervisor_sam, since=since)[0]["average_pct"] == Decimal("39.29")
