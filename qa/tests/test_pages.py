"""The quality pages: the scorecard-driven review form, the agent's answer, the QA lead's
decision, evaluations, self-reported results, calibration; and no N+1 on lists."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from agents.tests.factories import AgentFactory, UserFactory
from qa import services
from qa.models import CalibrationSession, Evaluation, Review, SelfReport
from qa.tests.factories import PERFECT, CallFactory, criteria_of, make_scorecard, qa_lead, submitted_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(db):
    return make_scorecard().versions.get()


def form_data(version, values: dict, **extra) -> dict:
    criteria = criteria_of(version)
    data = {}
    for label, value in values.items():
        data[f"c{criteria[label].pk}"] = {"yes": "1", "no": "0"}.get(value, str(value))
        data[f"comment{criteria[label].pk}"] = ""
    data.update(extra)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_the_review_form_is_driven_by_the_scorecard_and_keyboard_friendly(client, qa_quinn, agent_alice, version):
    client.force_login(qa_quinn)
    response = client.post(reverse("qa:review-new"), {"call": CallFactory(agent=agent_alice).pk})
    assert response.status_code == 302
    review = Review.objects.get()
    assert response["Location"] == reverse("qa:review-score", args=[review.pk])
    page = client.get(response["Location"]).content.decode()
    for criterion in criteria_of(version).values():
        assert f'name="c{criterion.pk}"' in page
        assert criterion.label in page
    assert page.count('role="radiogroup"') == 4
    assert 'data-key="y"' in page and 'data-key="a"' in page and 'data-key="4"' in page
    assert 'accesskey="s"' in page and 'accesskey="d"' in page
    assert "qa/review_form.js" in page
    # "Protects personal data" may not be N/A: no N/A option in its group.
    data_group = page.split("Protects personal data")[1].split("</fieldset>")[0]
    assert 'value="na"' not in data_group


def test_saving_a_draft_then_submitting_from_the_page(client, qa_quinn, agent_alice, version):
    review = services.review_start(reviewer=qa_quinn, call_id=CallFactory(agent=agent_alice).pk)
    client.force_login(qa_quinn)
    url = reverse("qa:review-score", args=[review.pk])
    response = client.post(url, form_data(version, {"Greets the client": "yes"}, action="save", comment="Started"))
    assert response.status_code == 302
    assert review.scores.count() == 1
    response = client.post(url, form_data(version, PERFECT, action="submit", comment="Well done"))
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.status, str(review.score_pct), review.comment) == ("submitted", "100.00", "Well done")


def test_a_bad_score_on_the_page_is_shown_and_nothing_is_saved(client, qa_quinn, agent_alice, version):
    review = services.review_start(reviewer=qa_quinn, call_id=CallFactory(agent=agent_alice).pk)
    client.force_login(qa_quinn)
    response = client.post(
        reverse("qa:review-score", args=[review.pk]),
        form_data(version, {**PERFECT, "Solves the request": 9}, action="submit"),
    )
    assert response.status_code == 400
    assert any("outside the scale 0–4" in m for m in messages_of(response))
    review.refresh_from_db()
    assert review.status == "draft"
    assert review.scores.count() == 0


def test_submitting_an_incomplete_review_from_the_page_names_the_missing_criteria(
    client, qa_quinn, agent_alice, version
):
    review = services.review_start(reviewer=qa_quinn, call_id=CallFactory(agent=agent_alice).pk)
    client.force_login(qa_quinn)
    response = client.post(
        reverse("qa:review-score", args=[review.pk]), form_data(version, {"Greets the client": "yes"}, action="submit")
    )
    assert response.status_code == 400
    assert any("Solves the request" in m for m in messages_of(response))
    review.refresh_from_db()
    assert review.status == "draft"


def test_starting_a_review_of_a_call_that_does_not_exist(client, qa_quinn, version):
    client.force_login(qa_quinn)
    response = client.post(reverse("qa:review-new"), {"call": "424242"})
    assert response.status_code == 400
    assert any("424242" in m for m in messages_of(response))


def test_the_agent_acknowledges_or_disputes_from_the_page(client, qa_quinn, agent_alice, agent_arthur, version):
    first = submitted_review(reviewer=qa_quinn, agent=agent_alice)
    second = submitted_review(reviewer=qa_quinn, agent=agent_alice)
    client.force_login(agent_alice.user)
    page = client.get(reverse("qa:review-detail", args=[first.pk])).content.decode()
    assert reverse("qa:review-acknowledge", args=[first.pk]) in page
    client.post(reverse("qa:review-acknowledge", args=[first.pk]))
    response = client.post(reverse("qa:review-dispute", args=[second.pk]), {"reason": ""}, follow=True)
    assert any("Say why" in m for m in messages_of(response))
    client.post(reverse("qa:review-dispute", args=[second.pk]), {"reason": "The client hung up"})
    assert list(Review.objects.order_by("pk").values_list("status", flat=True)) == ["acknowledged", "disputed"]
    # Another agent cannot answer for alice.
    client.force_login(agent_arthur.user)
    assert client.post(reverse("qa:review-acknowledge", args=[first.pk])).status_code == 404


def test_the_qa_lead_rescores_from_the_page(client, qa_quinn, agent_alice, version):
    review = submitted_review(reviewer=qa_quinn, agent=agent_alice, values={**PERFECT, "Checks identity": "no"})
    services.review_dispute(review=review, by=agent_alice.user, reason="I did")
    lead = qa_lead()
    client.force_login(lead)
    page = client.get(reverse("qa:review-detail", args=[review.pk])).content.decode()
    assert reverse("qa:review-resolve", args=[review.pk]) in page
    client.post(
        reverse("qa:review-resolve", args=[review.pk]),
        form_data(version, {**PERFECT}, outcome="rescored", note="Heard it."),
    )
    review.refresh_from_db()
    assert (review.status, str(review.score_pct)) == ("rescored", "100.00")


def test_evaluation_pages_rate_share_and_sign(client, agent_alice, supervisor_sam):
    evaluation = services.evaluation_create(
        by=supervisor_sam, agent_id=agent_alice.pk, period_start=date(2025, 2, 1), period_end=date(2025, 2, 28)
    )
    url = reverse("qa:evaluation-detail", args=[evaluation.pk])
    client.force_login(supervisor_sam)
    ratings = dict.fromkeys(Evaluation.RATINGS, "4")
    client.post(url, {**ratings, "comments": "Good", "goals": "More", "action": "save"})
    client.post(url, {"action": "share"})
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.rating_reliability, evaluation.comments) == ("shared", 4, "Good")
    # The supervisor's page has no sign form; a forged sign is refused.
    assert 'value="sign"' not in client.get(url).content.decode()
    assert client.post(url, {"action": "sign"}).status_code == 403
    client.force_login(agent_alice.user)
    assert 'value="sign"' in client.get(url).content.decode()
    client.post(url, {"action": "sign", "comment": "OK"})
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.agent_comment) == ("signed", "OK")


def test_the_supervisor_opens_an_evaluation_from_the_page(client, agent_alice, agent_bob, supervisor_sam):
    client.force_login(supervisor_sam)
    page = client.get(reverse("qa:evaluation-list")).content.decode()
    assert f'value="{agent_alice.pk}"' in page and f'value="{agent_bob.pk}"' not in page
    response = client.post(
        reverse("qa:evaluation-list"),
        {"agent": agent_alice.pk, "period_start": "2025-01-01", "period_end": "2025-01-31"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("qa:evaluation-list"), {"agent": agent_bob.pk, "period_start": "2025-01-01", "period_end": "2025-01-31"}
    )
    assert response.status_code == 403


def test_self_reports_page_entry_and_decisions(client, agent_alice, supervisor_sam):
    yesterday = date.today() - timedelta(days=1)
    client.force_login(agent_alice.user)
    client.post(
        reverse("qa:self-reports"),
        {"date": yesterday.isoformat(), "applications_signed": "2", "sales": "1", "collections_amount": "0"},
    )
    report = SelfReport.objects.get()
    assert report.status == "flagged"  # nothing recorded that day
    response = client.post(
        reverse("qa:self-reports"),
        {"date": yesterday.isoformat(), "applications_signed": "x", "sales": "1", "collections_amount": "0"},
        follow=True,
    )
    assert any("applications_signed" in m for m in messages_of(response))
    page = client.get(reverse("qa:self-reports"), {"month": yesterday.strftime("%Y-%m")}).content.decode()
    assert "Differs from the record" in page
    client.force_login(supervisor_sam)
    page = client.get(reverse("qa:self-reports")).content.decode()
    assert "To confirm or correct" in page
    client.post(
        reverse("qa:self-reports"),
        {
            "action": "correct",
            "report": report.pk,
            "applications_signed": "0",
            "sales": "0",
            "collections_amount": "0",
            "note": "Nothing found",
        },
    )
    report.refresh_from_db()
    assert (report.status, report.confirmed_sales) == ("corrected", 0)


def test_calibration_pages(client, qa_quinn, agent_alice, version):
    other = UserFactory(username="otto", roles=["qa_analyst"])
    client.force_login(qa_quinn)
    response = client.post(
        reverse("qa:calibration-list"),
        {"title": "Week 10", "call": CallFactory(agent=agent_alice).pk, "participants": [qa_quinn.pk, other.pk]},
    )
    session = CalibrationSession.objects.get()
    assert response["Location"] == reverse("qa:calibration-detail", args=[session.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Scoring is blind" in page
    response = client.post(reverse("qa:calibration-detail", args=[session.pk]), {"action": "score"})
    review = Review.objects.get(calibration=session, reviewer=qa_quinn)
    assert response["Location"] == reverse("qa:review-score", args=[review.pk])
    response = client.post(response["Location"], form_data(version, PERFECT, action="submit"))
    assert response["Location"] == reverse("qa:calibration-detail", args=[session.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Spread per criterion" in page


def test_team_and_training_pages_render(client, qa_quinn, agent_alice, supervisor_sam, trainer_tom, version):
    submitted_review(reviewer=qa_quinn, agent=agent_alice, values={**PERFECT, "Checks identity": "no"})
    client.force_login(supervisor_sam)
    page = client.get(reverse("qa:team")).content.decode()
    assert "Checks identity" in page and "chart.umd.min.js" in page
    client.force_login(trainer_tom)
    page = client.get(reverse("qa:training")).content.decode()
    assert "Checks identity" in page


# --- No N+1 ----------------------------------------------------------------------------------


def _grow(team, qa_quinn, n):
    for _ in range(n):
        agent = AgentFactory(team=team)
        submitted_review(reviewer=qa_quinn, agent=agent)
        services.self_report_submit(
            by=agent.user, day=date.today(), applications_signed=1, sales=0, collections_amount=0
        )
        evaluation = services.evaluation_create(
            by=team.supervisor, agent_id=agent.pk, period_start=date(2025, 1, 1), period_end=date(2025, 1, 31)
        )
        services.evaluation_share(
            evaluation=services.evaluation_update(
                evaluation=evaluation, by=team.supervisor, **dict.fromkeys(Evaluation.RATINGS, 3)
            ),
            by=team.supervisor,
        )


@pytest.mark.parametrize(
    ("url", "who"),
    [
        (reverse("api-qa-review-list"), "supervisor_sam"),
        (reverse("api-qa-evaluation-list"), "supervisor_sam"),
        (reverse("api-qa-selfreport-list"), "supervisor_sam"),
        (reverse("api-qa-team-quality"), "supervisor_sam"),
        (reverse("qa:review-list"), "qa_quinn"),
        (reverse("qa:team"), "supervisor_sam"),
        (reverse("qa:evaluation-list"), "supervisor_sam"),
        (reverse("qa:self-reports"), "supervisor_sam"),
        (reverse("qa:training"), "qa_quinn"),
    ],
)
def test_lists_do_not_grow_queries_with_rows(
    request, client, team_a, qa_quinn, version, django_assert_max_num_queries, url, who
):
    user = request.getfixturevalue(who)
    _grow(team_a, qa_quinn, 2)
    client.force_login(user)
    with django_assert_max_num_queries(40) as few:
        assert client.get(url).status_code == 200
    _grow(team_a, qa_quinn, 6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_pages_speak_french(client, supervisor_sam, qa_quinn, agent_alice, version):
    client.force_login(supervisor_sam)
    body = client.get(reverse("qa:team"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Qualité de l'équipe" in body and "Critères les plus échoués" in body
    review = services.review_start(reviewer=qa_quinn, call_id=CallFactory(agent=agent_alice).pk)
    client.force_login(qa_quinn)
    response = client.post(
        reverse("qa:review-score", args=[review.pk]),
        form_data(version, {**PERFECT, "Solves the request": 9}, action="submit"),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert any("est hors de l'échelle 0–4" in m for m in messages_of(response))
