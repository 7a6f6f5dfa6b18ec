"""Supervisor evaluations: the measured figures on known data, the workflow (share, sign),
sign-off only by the agent, the history with its trend, and the monthly schedule."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from qa import services
from qa.models import Evaluation
from qa.services.evaluations import last_complete_period, period_containing
from qa.tests.factories import (
    PERFECT,
    CallFactory,
    at_local,
    make_scorecard,
    record_order,
    record_outcome,
    submitted_review,
)

pytestmark = pytest.mark.django_db

D = Decimal
FEB = (date(2025, 2, 1), date(2025, 2, 28))
RATINGS = {
    "rating_communication": 4,
    "rating_data_accuracy": 3,
    "rating_product_knowledge": 5,
    "rating_composure": 4,
    "rating_reliability": 5,
}


def create(client, user, agent, period=FEB):
    client.force_login(user)
    payload = {"agent": agent.pk}
    if period:
        payload.update(period_start=period[0].isoformat(), period_end=period[1].isoformat())
    return client.post(reverse("api-qa-evaluation-list"), payload, content_type="application/json")


def test_the_snapshot_is_computed_from_what_the_system_recorded(
    client, agent_alice, agent_arthur, supervisor_sam, qa_quinn
):
    day1, day2 = date(2025, 2, 10), date(2025, 2, 11)
    calls = [
        CallFactory(
            agent=agent_alice,
            offered_at=at_local(day1, 9),
            talk_s=200,
            hold_s=20,
            wrap_up_s=20,
            caller_number="+33600000001",
        ),
        CallFactory(
            agent=agent_alice,
            offered_at=at_local(day1, 10),
            talk_s=300,
            hold_s=0,
            wrap_up_s=60,
            caller_number="+33600000002",
        ),
        CallFactory(
            agent=agent_alice,
            offered_at=at_local(day2, 9),
            talk_s=100,
            hold_s=0,
            wrap_up_s=20,
            caller_number="+33600000003",
        ),
        CallFactory(
            agent=agent_alice,
            offered_at=at_local(day2, 23, 50),
            talk_s=400,
            hold_s=40,
            wrap_up_s=40,
            caller_number="+33600000004",
        ),
    ]
    # The first caller calls again 3 days later (to Arthur): not resolved at first contact.
    CallFactory(agent=agent_arthur, offered_at=at_local(day1 + timedelta(days=3), 9), caller_number="+33600000001")
    # The second calls again after 10 days: outside the 7-day window, still resolved.
    CallFactory(agent=agent_arthur, offered_at=at_local(day1 + timedelta(days=10), 9), caller_number="+33600000002")
    # Not counted: January, an abandoned call.
    CallFactory(agent=agent_alice, offered_at=at_local(date(2025, 1, 31), 23, 0))
    CallFactory(agent=None, state="abandoned", answered_at=None, ended_at=None, offered_at=at_local(day1, 11))
    # QA: 100 and 5/7 = 71.43 → 85.72 (85.715); a draft is not counted.
    make_scorecard()
    submitted_review(reviewer=qa_quinn, call=calls[0])
    submitted_review(reviewer=qa_quinn, call=calls[1], values={**PERFECT, "Checks identity": "no"})
    services.review_start(reviewer=qa_quinn, call_id=calls[2].pk)
    # Orders and outcomes: 2 orders (a cancelled one left out); 1 accepted of 4 decided → 25 %.
    record_order(agent_alice, at_local(day1, 12), amount="40")
    record_order(agent_alice, at_local(day2, 12), amount="60")
    record_order(agent_alice, at_local(day2, 13), status="cancelled")
    record_outcome(agent_alice, at_local(day1, 14))
    for hour in (15, 16, 17):
        record_outcome(agent_alice, at_local(day1, hour), kind="refused")
    record_outcome(agent_alice, at_local(day1, 18), kind="no_answer")  # not a decision
    # Self-reported: one day matches (confirmed), one differs (not confirmed yet).
    services.self_report_submit(by=agent_alice.user, day=day1, applications_signed=1, sales=1, collections_amount=0)
    services.self_report_submit(by=agent_alice.user, day=day2, applications_signed=0, sales=5, collections_amount=0)

    response = create(client, supervisor_sam, agent_alice)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["calls_handled"] == 4
    assert data["days_worked"] == 2
    assert data["calls_per_day"] == "2.00"
    # (240 + 360 + 120 + 480) / 4 = 300
    assert data["aht_s"] == 300
    assert data["fcr_pct"] == "75.00"
    assert (data["qa_average_pct"], data["qa_reviews"]) == ("85.72", 2)
    assert (data["orders_count"], data["conversion_pct"]) == (2, "25.00")
    assert (data["confirmed_applications"], data["confirmed_sales"], data["unconfirmed_days"]) == (1, 1, 1)
    assert data["status"] == "draft"
    assert data["supervisor"]["username"] == "sam"


def test_a_period_without_activity_has_empty_figures(client, agent_alice, supervisor_sam):
    data = create(client, supervisor_sam, agent_alice).json()
    assert data["calls_handled"] == 0
    assert data["calls_per_day"] is None
    assert data["aht_s"] is None
    assert data["fcr_pct"] is None
    assert data["qa_average_pct"] is None
    assert data["confirmed_sales"] is None


def test_the_default_period_is_the_last_complete_month(client, agent_alice, supervisor_sam, settings):
    start, end = last_complete_period()
    assert start.day == 1 and (end + timedelta(days=1)).day == 1 and end < date.today()
    data = create(client, supervisor_sam, agent_alice, period=None).json()
    assert (data["period_start"], data["period_end"]) == (start.isoformat(), end.isoformat())
    settings.QA_EVALUATION_PERIOD_MONTHS = 3
    assert period_containing(date(2025, 5, 17)) == (date(2025, 4, 1), date(2025, 6, 30))
    assert last_complete_period(date(2025, 5, 17)) == (date(2025, 1, 1), date(2025, 3, 31))


def test_full_workflow_rate_share_sign(client, agent_alice, supervisor_sam):
    evaluation_id = create(client, supervisor_sam, agent_alice).json()["id"]
    detail = reverse("api-qa-evaluation-detail", args=[evaluation_id])
    # The agent does not see a draft.
    client.force_login(agent_alice.user)
    assert client.get(detail).status_code == 404
    client.force_login(supervisor_sam)
    # Sharing before rating everything is refused, naming what is missing.
    response = client.post(reverse("api-qa-evaluation-share", args=[evaluation_id]))
    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(RATINGS)
    response = client.patch(
        detail,
        {**RATINGS, "comments": "Solid month.", "goals": "Check identity on every call."},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["rating_product_knowledge"] == 5
    assert client.post(reverse("api-qa-evaluation-share", args=[evaluation_id])).json()["status"] == "shared"
    # Shared: frozen for the supervisor.
    assert client.patch(detail, {"comments": "changed"}, content_type="application/json").status_code == 409
    assert client.post(reverse("api-qa-evaluation-refresh", args=[evaluation_id])).status_code == 409
    # Only the agent signs.
    response = client.post(
        reverse("api-qa-evaluation-sign", args=[evaluation_id]), {"comment": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_the_agent"
    client.force_login(agent_alice.user)
    response = client.post(
        reverse("api-qa-evaluation-sign", args=[evaluation_id]),
        {"comment": "Agreed, thanks."},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["agent_comment"]) == ("signed", "Agreed, thanks.")
    assert response.json()["agent_signed_at"]
    assert client.post(reverse("api-qa-evaluation-sign", args=[evaluation_id])).status_code == 409
    evaluation = Evaluation.objects.get(pk=evaluation_id)
    assert [(h.from_status, h.to_status) for h in evaluation.history.all()] == [
        ("", "draft"),
        ("draft", "shared"),
        ("shared", "signed"),
    ]


def test_a_sign_off_by_someone_else_is_refused(client, agent_alice, agent_arthur, supervisor_sam, hr_hana, manager_mia):
    evaluation = services.evaluation_create(
        by=supervisor_sam, agent_id=agent_alice.pk, period_start=FEB[0], period_end=FEB[1]
    )
    services.evaluation_update(evaluation=evaluation, by=supervisor_sam, **RATINGS)
    services.evaluation_share(evaluation=evaluation, by=supervisor_sam)
    url = reverse("api-qa-evaluation-sign", args=[evaluation.pk])
    for user in (hr_hana, manager_mia):
        client.force_login(user)
        response = client.post(url, {}, content_type="application/json")
        assert response.status_code == 403
        assert "Only the evaluated agent" in response.json()["detail"]
    client.force_login(agent_arthur.user)  # cannot even see it
    assert client.post(url, {}, content_type="application/json").status_code == 404
    evaluation.refresh_from_db()
    assert evaluation.status == "shared"


def test_a_signature_before_sharing_is_refused(agent_alice, supervisor_sam):
    from contactcenter.errors import Conflict

    evaluation = services.evaluation_create(
        by=supervisor_sam, agent_id=agent_alice.pk, period_start=FEB[0], period_end=FEB[1]
    )
    with pytest.raises(Conflict):
        services.evaluation_sign(evaluation=evaluation, by=agent_alice.user)


@pytest.mark.parametrize("value", [0, 6, "five", 2.5])
def test_ratings_outside_1_to_5_are_a_400(client, agent_alice, supervisor_sam, value):
    evaluation_id = create(client, supervisor_sam, agent_alice).json()["id"]
    response = client.patch(
        reverse("api-qa-evaluation-detail", args=[evaluation_id]),
        {"rating_composure": value},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "rating_composure" in response.json()
    assert Evaluation.objects.get(pk=evaluation_id).rating_composure is None


def test_bad_creation_requests(client, agent_alice, supervisor_sam):
    assert create(client, supervisor_sam, agent_alice).status_code == 201
    assert create(client, supervisor_sam, agent_alice).status_code == 409  # same period
    response = create(client, supervisor_sam, agent_alice, period=(date(2025, 3, 31), date(2025, 3, 1)))
    assert response.status_code == 400
    client.force_login(supervisor_sam)
    response = client.post(reverse("api-qa-evaluation-list"), {"agent": 999999}, content_type="application/json")
    assert response.status_code == 400
    assert "agent" in response.json()["errors"]


def test_only_the_agents_supervisor_or_a_manager_evaluates(client, agent_alice, supervisor_sue, hr_hana, manager_mia):
    assert create(client, supervisor_sue, agent_alice).status_code == 403
    assert create(client, hr_hana, agent_alice).status_code == 403
    assert create(client, agent_alice.user, agent_alice).status_code == 403
    assert create(client, manager_mia, agent_alice).status_code == 201


def test_history_with_the_trend_of_each_figure(client, agent_alice, supervisor_sam, qa_quinn):
    make_scorecard()
    for month, values in (
        (1, PERFECT),
        (2, {**PERFECT, "Checks identity": "no"}),
        (3, {**PERFECT, "Greets the client": "no"}),
    ):
        submitted_review(
            reviewer=qa_quinn,
            call=CallFactory(agent=agent_alice, offered_at=at_local(date(2025, month, 10))),
            values=values,
        )
        start = date(2025, month, 1)
        evaluation = services.evaluation_create(
            by=supervisor_sam, agent_id=agent_alice.pk, period_start=start, period_end=period_containing(start)[1]
        )
        services.evaluation_update(
            evaluation=evaluation, by=supervisor_sam, **{**RATINGS, "rating_reliability": month + 1}
        )
    client.force_login(supervisor_sam)
    data = client.get(reverse("api-qa-evaluation-history", args=[agent_alice.pk])).json()
    assert data["trend"]["periods"] == ["2025-01-01", "2025-02-01", "2025-03-01"]
    # 100, 5/7 = 71.43, 6/7 = 85.71
    assert data["trend"]["qa_average_pct"] == ["100.00", "71.43", "85.71"]
    assert data["trend"]["calls_handled"] == [1, 1, 1]
    assert data["trend"]["rating_reliability"] == [2, 3, 4]
    assert [e["period_start"] for e in data["evaluations"]] == data["trend"]["periods"]
    # The page draws the same history.
    response = client.get(reverse("qa:evaluation-history", args=[agent_alice.pk]))
    assert response.status_code == 200
    assert "chart.umd.min.js" in response.content.decode()


def test_the_monthly_schedule_opens_drafts_once(agent_alice, agent_arthur, agent_bob, supervisor_sam):
    from django_celery_beat.models import PeriodicTask

    from qa import tasks

    assert PeriodicTask.objects.get(name="qa: open evaluations").crontab.day_of_month == "1"
    assert tasks.open_period_evaluations.delay().get() == 3
    assert tasks.open_period_evaluations.delay().get() == 0
    start, _end = last_complete_period()
    assert set(Evaluation.objects.filter(period_start=start).values_list("agent_id", "supervisor__username")) == {
        (agent_alice.pk, "sam"),
        (agent_arthur.pk, "sam"),
        (agent_bob.pk, "sue"),
    }


def test_attendance_and_adherence_come_from_the_schedule(agent_alice, supervisor_sam):
    from calls.models import PresenceInterval
    from scheduling.models import Shift

    day = date(2025, 2, 10)
    # Scheduled 9:00–13:00; available 9:00–12:00, on break 12:00–12:30, then signed out.
    Shift.objects.create(
        agent=agent_alice,
        date=day,
        start_at=at_local(day, 9),
        end_at=at_local(day, 13),
        is_published=True,
        published_at=at_local(day, 8),
    )
    for state, start, end, reason in (
        ("available", at_local(day, 9), at_local(day, 12), ""),
        ("break", at_local(day, 12), at_local(day, 12, 30), "lunch"),
        ("offline", at_local(day, 12, 30), at_local(day, 18), ""),
    ):
        PresenceInterval.objects.create(agent=agent_alice, state=state, reason=reason, started_at=start, ended_at=end)
    evaluation = services.evaluation_create(
        by=supervisor_sam, agent_id=agent_alice.pk, period_start=FEB[0], period_end=FEB[1]
    )
    # In adherence 3 h of the 4 h counted; signed in 3.5 h of the 4 h scheduled.
    assert (evaluation.adherence_pct, evaluation.attendance_pct) == (D("75.00"), D("87.50"))
    assert "adherence_pct" not in evaluation.figure_notes


def test_no_schedule_leaves_adherence_empty_with_a_note(agent_alice, supervisor_sam):
    evaluation = services.evaluation_create(
        by=supervisor_sam, agent_id=agent_alice.pk, period_start=FEB[0], period_end=FEB[1]
    )
    assert (evaluation.adherence_pct, evaluation.attendance_pct) == (None, None)
    assert evaluation.figure_notes["adherence_pct"] == "no schedule data for the period"
