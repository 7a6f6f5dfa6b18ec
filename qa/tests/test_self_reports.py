"""Self-reported results: the cross-check flags exactly the days that differ from what the
system recorded; the supervisor confirms or corrects; evaluations use confirmed figures."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from contactcenter.errors import ApplicationError, Conflict, Forbidden
from qa import services
from qa.crosscheck import RecordedDay, recorded_results
from qa.models import SelfReport
from qa.tests.factories import at_local, record_order, record_outcome

pytestmark = pytest.mark.django_db

D = Decimal
MONDAY = date(2025, 3, 3)


def report(agent, day, applications=0, sales=0, collections="0"):
    return services.self_report_submit(
        by=agent.user, day=day, applications_signed=applications, sales=sales, collections_amount=D(collections)
    )


def test_recorded_results_per_agent_and_local_day(agent_alice, agent_bob):
    day = MONDAY
    record_outcome(agent_alice, at_local(day, 9))  # an application
    record_outcome(agent_alice, at_local(day, 10), kind="refused")  # not counted
    record_order(agent_alice, at_local(day, 11), amount="30")  # a sale
    record_order(agent_alice, at_local(day, 12), status="cancelled")  # cancelled: not counted
    record_order(agent_alice, at_local(day, 23, 30), collections=True, amount="120.50")  # 23:30 local: still that day
    record_order(agent_bob, at_local(day, 11))  # someone else
    recorded = recorded_results(agent_ids=[agent_alice.pk], start=day, end=day + timedelta(days=1))
    # The collections order came with its accepted outcome: 2 applications.
    assert recorded == {(agent_alice.pk, day): RecordedDay(applications=2, sales=1, collections=D("120.50"))}


def test_the_cross_check_flags_exactly_the_mismatching_days(agent_alice):
    days = [MONDAY + timedelta(days=i) for i in range(5)]
    # What the system recorded, day by day.
    record_order(agent_alice, at_local(days[0], 10))
    record_outcome(agent_alice, at_local(days[1], 10))
    record_outcome(agent_alice, at_local(days[1], 11))
    record_order(agent_alice, at_local(days[2], 10), collections=True, amount="50")
    record_order(agent_alice, at_local(days[3], 10))
    record_order(agent_alice, at_local(days[3], 15))
    # days[4]: nothing recorded.
    report(agent_alice, days[0], sales=1)  # matches
    report(agent_alice, days[1], applications=3)  # says 3, recorded 2 → flagged
    report(agent_alice, days[2], applications=1, collections="50.00")  # matches (outcome + collection)
    report(agent_alice, days[3], sales=2, collections="10")  # collections recorded 0 → flagged
    report(agent_alice, days[4])  # nothing and nothing: matches
    statuses = dict(SelfReport.objects.values_list("date", "status"))
    assert {day for day, status in statuses.items() if status == "flagged"} == {days[1], days[3]}
    assert {day for day, status in statuses.items() if status == "matched"} == {days[0], days[2], days[4]}
    flagged = SelfReport.objects.get(date=days[1])
    assert (flagged.recorded_applications, flagged.recorded_sales, flagged.recorded_collections) == (2, 0, D("0.00"))
    assert flagged.confirmed_applications is None
    matched = SelfReport.objects.get(date=days[0])
    assert (matched.confirmed_applications, matched.confirmed_sales, matched.confirmed_collections) == (0, 1, D("0.00"))


def test_the_agent_fixes_a_flagged_day_and_it_matches(agent_alice):
    record_order(agent_alice, at_local(MONDAY, 10))
    assert report(agent_alice, MONDAY, sales=2).status == "flagged"
    assert report(agent_alice, MONDAY, sales=1).status == "matched"
    entry = SelfReport.objects.get()
    assert [(h.cause, h.to_status) for h in entry.history.all()] == [
        ("entry", "pending"),
        ("check", "flagged"),
        ("entry", "flagged"),
        ("check", "matched"),
    ]


def test_the_nightly_recheck_flags_a_day_whose_order_was_cancelled(agent_alice):
    order = record_order(agent_alice, at_local(MONDAY, 10))
    assert report(agent_alice, MONDAY, sales=1).status == "matched"
    order.status = "cancelled"
    order.save(update_fields=["status"])
    from qa import tasks

    assert services.self_reports_check(since=MONDAY, until=MONDAY) == 1
    entry = SelfReport.objects.get()
    assert entry.status == "flagged"
    assert entry.confirmed_sales is None
    assert tasks.recheck_self_reports.delay().get() == 0  # safe to run again


def test_supervisor_confirms_or_corrects_a_flagged_day(client, agent_alice, supervisor_sam):
    record_order(agent_alice, at_local(MONDAY, 10))
    confirm_me = report(agent_alice, MONDAY, sales=2)
    correct_me = report(agent_alice, MONDAY + timedelta(days=1), sales=3)
    client.force_login(supervisor_sam)
    response = client.post(
        reverse("api-qa-selfreport-confirm", args=[confirm_me.pk]),
        {"note": "Second sale was on paper"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["confirmed_sales"]) == ("confirmed", 2)
    response = client.post(
        reverse("api-qa-selfreport-correct", args=[correct_me.pk]),
        {"applications_signed": 0, "sales": 1, "collections_amount": "0", "note": "Only one order found"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["status"], data["sales"], data["confirmed_sales"], data["review_note"]) == (
        "corrected",
        3,
        1,
        "Only one order found",
    )
    # Final: the agent can no longer change these days, nor the supervisor decide again.
    with pytest.raises(Conflict):
        report(agent_alice, MONDAY, sales=5)
    response = client.post(
        reverse("api-qa-selfreport-confirm", args=[confirm_me.pk]), {}, content_type="application/json"
    )
    assert response.status_code == 409


def test_a_correction_needs_a_reason_and_valid_figures(client, agent_alice, supervisor_sam):
    entry = report(agent_alice, MONDAY, sales=2)
    client.force_login(supervisor_sam)
    url = reverse("api-qa-selfreport-correct", args=[entry.pk])
    response = client.post(
        url,
        {"applications_signed": 0, "sales": 1, "collections_amount": "0", "note": ""},
        content_type="application/json",
    )
    assert response.status_code == 400
    response = client.post(
        url,
        {"applications_signed": -1, "sales": 1, "collections_amount": "0", "note": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "applications_signed" in response.json()
    entry.refresh_from_db()
    assert entry.status == "flagged"


def test_a_matched_day_needs_no_decision(agent_alice, supervisor_sam):
    entry = report(agent_alice, MONDAY)
    assert entry.status == "matched"
    with pytest.raises(Conflict):
        services.self_report_confirm(report=entry, by=supervisor_sam)


def test_only_the_agents_supervisor_decides(agent_alice, supervisor_sue, hr_hana):
    entry = report(agent_alice, MONDAY, sales=1)
    for user in (supervisor_sue, hr_hana, agent_alice.user):
        with pytest.raises(Forbidden):
            services.self_report_confirm(report=entry, by=user)


def test_bad_entries_are_clear_400s(client, agent_alice):
    client.force_login(agent_alice.user)
    url = reverse("api-qa-selfreport-list")
    tomorrow = date.today() + timedelta(days=2)
    response = client.post(
        url,
        {"date": tomorrow.isoformat(), "applications_signed": 1, "sales": 0, "collections_amount": "0"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "date" in response.json()["errors"]
    response = client.post(
        url,
        {"date": "2025-03-03", "applications_signed": 1, "sales": "many", "collections_amount": "-5"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert {"sales", "collections_amount"} <= set(response.json())
    assert not SelfReport.objects.exists()


def test_only_agents_report_results(client, supervisor_sam):
    client.force_login(supervisor_sam)
    response = client.post(
        reverse("api-qa-selfreport-list"),
        {"date": "2025-03-03", "applications_signed": 1, "sales": 0, "collections_amount": "0"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_the_list_shows_the_running_average(client, agent_alice):
    report(agent_alice, MONDAY, applications=2, sales=1, collections="10")
    report(agent_alice, MONDAY + timedelta(days=1), applications=4, sales=0, collections="0")
    report(agent_alice, MONDAY + timedelta(days=2), applications=0, sales=2, collections="5.50")
    report(agent_alice, date(2025, 2, 28), applications=9)  # another month
    client.force_login(agent_alice.user)
    rows = client.get(reverse("api-qa-selfreport-list"), {"month": "2025-03"}).json()["results"]
    averages = {row["date"]: row["running_average"] for row in rows}
    assert averages["2025-03-03"] == {"applications_signed": 2.0, "sales": 1.0, "collections_amount": 10.0}
    assert averages["2025-03-04"] == {"applications_signed": 3.0, "sales": 0.5, "collections_amount": 5.0}
    assert averages["2025-03-05"] == {"applications_signed": 2.0, "sales": 1.0, "collections_amount": 5.17}
    assert client.get(reverse("api-qa-selfreport-list"), {"month": "March"}).status_code == 400


def test_without_orders_to_check_against_days_stay_unchecked(agent_alice, supervisor_sam, monkeypatch):
    monkeypatch.setattr("qa.crosscheck._model", lambda app_label, name: None)
    entry = report(agent_alice, MONDAY, sales=4)
    assert entry.status == "pending"
    assert entry.recorded_sales is None
    # The supervisor decides by hand.
    assert services.self_report_confirm(report=entry, by=supervisor_sam).confirmed_sales == 4


def test_a_whole_number_is_required(agent_alice):
    with pytest.raises(ApplicationError) as error:
        services.self_report_submit(
            by=agent_alice.user, day=MONDAY, applications_signed="2.5", sales=True, collections_amount="1e3x"
        )
    assert set(error.value.fields) == {"applications_signed", "sales", "collections_amount"}
