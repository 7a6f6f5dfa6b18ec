"""Starting, scoring and submitting reviews through the API; bad input gets a clear 4xx."""

from decimal import Decimal

import pytest
from django.urls import reverse

from qa.models import Review, ReviewScore, ReviewStatusChange
from qa.tests.factories import CallFactory, criteria_of, make_scorecard, scores_payload

pytestmark = pytest.mark.django_db

URL = reverse("api-qa-review-list")


@pytest.fixture
def scorecard(db):
    return make_scorecard()


@pytest.fixture
def version(scorecard):
    return scorecard.versions.get()


def post(client, user, payload):
    client.force_login(user)
    return client.post(URL, payload, content_type="application/json")


def test_analyst_scores_and_submits_a_review_with_the_weighted_score(client, qa_quinn, agent_alice, version):
    call = CallFactory(agent=agent_alice)
    values = {
        "Greets the client": "yes",
        "Checks identity": "no",
        "Solves the request": 2,
        "Protects personal data": "yes",
    }
    response = post(
        client,
        qa_quinn,
        {
            "call": call.pk,
            "scores": scores_payload(version, values, comments={"Checks identity": "Never asked the date of birth"}),
            "comment": "Friendly, but check the identity every time.",
            "submit": True,
        },
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    # 1×1 + 2×0 + 3×(2/4) + 1×1 = 3.5 of 7 → 50.00
    assert data["score_pct"] == "50.00"
    assert data["status"] == "submitted"
    assert data["critical_failed"] is False
    assert data["recording_url"] == call.recording_url
    assert data["agent"]["id"] == agent_alice.pk
    assert data["scorecard_version"] == version.pk
    by_label = {s["label"]: s for s in data["scores"]}
    assert by_label["Checks identity"]["failed"] is True
    assert by_label["Checks identity"]["comment"] == "Never asked the date of birth"
    assert by_label["Solves the request"]["failed"] is False
    assert [h["to_status"] for h in data["history"]] == ["draft", "submitted"]


def test_critical_failure_scores_zero(client, qa_quinn, agent_alice, version):
    values = {
        "Greets the client": "yes",
        "Checks identity": "yes",
        "Solves the request": 4,
        "Protects personal data": "no",
    }
    response = post(
        client,
        qa_quinn,
        {"call": CallFactory(agent=agent_alice).pk, "scores": scores_payload(version, values), "submit": True},
    )
    assert response.status_code == 201
    assert (response.json()["score_pct"], response.json()["critical_failed"]) == ("0.00", True)


def test_not_applicable_leaves_the_criterion_out(client, qa_quinn, agent_alice, version):
    values = {
        "Greets the client": "na",
        "Checks identity": None,
        "Solves the request": 3,
        "Protects personal data": "yes",
    }
    response = post(
        client,
        qa_quinn,
        {"call": CallFactory(agent=agent_alice).pk, "scores": scores_payload(version, values), "submit": True},
    )
    # Only solution (3×3/4 = 2.25) and data (1) apply: 3.25 of 4 → 81.25
    assert response.json()["score_pct"] == "81.25"
    nas = ReviewScore.objects.filter(points__isnull=True).count()
    assert nas == 2


def test_draft_then_patch_then_submit(client, qa_quinn, agent_alice, version):
    response = post(client, qa_quinn, {"call": CallFactory(agent=agent_alice).pk})
    assert response.status_code == 201
    review_id = response.json()["id"]
    assert response.json()["status"] == "draft"
    detail = reverse("api-qa-review-detail", args=[review_id])
    first = {"Greets the client": "yes", "Checks identity": "yes"}
    assert (
        client.patch(detail, {"scores": scores_payload(version, first)}, content_type="application/json").status_code
        == 200
    )
    # Submitting with two criteria unscored is refused, naming them.
    response = client.post(reverse("api-qa-review-submit", args=[review_id]))
    assert response.status_code == 400
    assert "Solves the request" in response.json()["detail"]
    assert set(response.json()["errors"]["scores"]) == {
        str(criteria_of(version)["Solves the request"].pk),
        str(criteria_of(version)["Protects personal data"].pk),
    }
    rest = {"Solves the request": 4, "Protects personal data": "yes"}
    client.patch(detail, {"scores": scores_payload(version, rest)}, content_type="application/json")
    response = client.post(reverse("api-qa-review-submit", args=[review_id]))
    assert response.status_code == 200
    assert response.json()["score_pct"] == "100.00"
    # A submitted review cannot be edited.
    response = client.patch(
        detail, {"scores": scores_payload(version, {"Greets the client": "no"})}, content_type="application/json"
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("label", "value", "message"),
    [
        ("Solves the request", 5, "outside the scale 0–4"),
        ("Solves the request", -1, "outside the scale 0–4"),
        ("Solves the request", "lots", "is not a number of points"),
        ("Solves the request", 2.5, "is not a number of points"),
        ("Greets the client", "maybe", "is not on the scale"),
        ("Greets the client", 2, "is not on the scale"),
        ("Protects personal data", "na", "not applicable is not allowed"),
        ("Solves the request", None, "not applicable is not allowed"),
    ],
)
def test_a_score_outside_the_scale_is_a_clear_400_and_writes_nothing(
    client, qa_quinn, agent_alice, version, label, value, message
):
    values = {
        **{
            "Greets the client": "yes",
            "Checks identity": "yes",
            "Solves the request": 4,
            "Protects personal data": "yes",
        },
        label: value,
    }
    response = post(
        client,
        qa_quinn,
        {"call": CallFactory(agent=agent_alice).pk, "scores": scores_payload(version, values), "submit": True},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "bad_score"
    criterion = criteria_of(version)[label]
    assert message in body["errors"]["scores"][str(criterion.pk)]
    assert criterion.label in body["errors"]["scores"][str(criterion.pk)]
    assert not Review.objects.exists()
    assert not ReviewStatusChange.objects.exists()


def test_a_criterion_of_another_scorecard_is_refused(client, qa_quinn, agent_alice, version):
    other = make_scorecard("Outbound sales")
    foreign = criteria_of(other.versions.get())["Greets the client"]
    response = post(
        client,
        qa_quinn,
        {
            "call": CallFactory(agent=agent_alice).pk,
            "scorecard": version.scorecard_id,
            "scores": [{"criterion": foreign.pk, "value": "yes"}],
        },
    )
    assert response.status_code == 400
    assert "not on this review's scorecard version" in response.json()["errors"]["scores"][str(foreign.pk)]


def test_a_review_of_a_call_that_does_not_exist_is_a_clear_400(client, qa_quinn, version):
    response = post(client, qa_quinn, {"call": 999999})
    assert response.status_code == 400
    assert response.json()["code"] == "no_such_call"
    assert "999999" in response.json()["detail"]
    assert "call" in response.json()["errors"]


def test_a_call_id_that_is_not_a_number_is_a_400(client, qa_quinn, version):
    response = post(client, qa_quinn, {"call": "abc"})
    assert response.status_code == 400
    assert "call" in response.json()


def test_a_call_nobody_handled_cannot_be_reviewed(client, qa_quinn, version):
    call = CallFactory(agent=None, state="abandoned", answered_at=None, ended_at=None)
    response = post(client, qa_quinn, {"call": call.pk})
    assert response.status_code == 400
    assert "call" in response.json()["errors"]


def test_a_call_is_reviewed_once(client, qa_quinn, agent_alice, version):
    call = CallFactory(agent=agent_alice)
    assert post(client, qa_quinn, {"call": call.pk}).status_code == 201
    response = post(client, qa_quinn, {"call": call.pk})
    assert response.status_code == 409
    assert Review.objects.filter(call=call).count() == 1


def test_only_qa_analysts_start_reviews(client, supervisor_sam, agent_alice, version):
    response = post(client, supervisor_sam, {"call": CallFactory(agent=agent_alice).pk})
    assert response.status_code == 403
    response = post(client, agent_alice.user, {"call": CallFactory(agent=agent_alice).pk})
    assert response.status_code == 403


def test_only_the_reviewer_scores_a_draft(client, qa_quinn, agent_alice, version):
    from agents.tests.factories import UserFactory

    other = UserFactory(username="otto", roles=["qa_analyst"])
    review_id = post(client, qa_quinn, {"call": CallFactory(agent=agent_alice).pk}).json()["id"]
    client.force_login(other)
    # Another analyst does not even see a colleague's draft.
    response = client.patch(
        reverse("api-qa-review-detail", args=[review_id]),
        {"scores": scores_payload(version, {"Greets the client": "no"})},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_choosing_between_several_scorecards(client, qa_quinn, agent_alice, version):
    make_scorecard("Outbound sales")
    response = post(client, qa_quinn, {"call": CallFactory(agent=agent_alice).pk})
    assert response.status_code == 400
    assert "scorecard" in response.json()["errors"]
    response = post(client, qa_quinn, {"call": CallFactory(agent=agent_alice).pk, "scorecard_version": version.pk})
    assert response.status_code == 201


def test_submitting_with_nothing_applicable_is_refused(client, qa_quinn, agent_alice):
    scorecard = make_scorecard("All optional", [{"title": "Only", "criteria": [{"label": "A"}, {"label": "B"}]}])
    version = scorecard.versions.get()
    response = post(
        client,
        qa_quinn,
        {
            "call": CallFactory(agent=agent_alice).pk,
            "scores": scores_payload(version, {"A": "na", "B": "na"}),
            "submit": True,
        },
    )
    assert response.status_code == 400
    assert response.json()["code"] == "nothing_applies"


def test_score_is_stored_as_decimal(qa_quinn, agent_alice, version):
    from qa.tests.factories import submitted_review

    review = submitted_review(reviewer=qa_quinn, agent=agent_alice)
    review.refresh_from_db()
    assert review.score_pct == Decimal("100.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_analysts_starting_the_same_call_at_once_get_one_review(require_postgres):
    import threading

    from agents.tests.factories import AgentFactory, UserFactory
    from contactcenter.errors import Conflict
    from qa import services

    make_scorecard()
    call = CallFactory(agent=AgentFactory())
    analysts = [UserFactory(username=f"race{i}", roles=["qa_analyst"]) for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def start(analyst):
        from django.db import connection

        try:
            barrier.wait()
            services.review_start(reviewer=analyst, call_id=call.pk)
            outcomes.append("started")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=start, args=(a,)) for a in analysts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "started"]
    assert Review.objects.filter(call=call).count() == 1
