"""Shift templates (night shifts crossing midnight, breaks), shifts and publishing."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError

from contactcenter.errors import ApplicationError, Conflict, Forbidden
from scheduling import periods, services
from scheduling.models import Notification, Shift, ShiftTemplate
from scheduling.tests.factories import ShiftTemplateFactory, local, make_request, next_monday

pytestmark = pytest.mark.django_db


@pytest.fixture
def week():
    return next_monday(1)


def test_night_template_crosses_midnight():
    night = ShiftTemplate(
        name="Night", start_time=time(22), end_time=time(6), breaks=[{"start": "02:00", "minutes": 30}]
    )
    night.full_clean()
    assert night.crosses_midnight
    assert night.duration_minutes == 8 * 60
    assert night.break_offsets() == [(240, 30)]


@pytest.mark.parametrize(
    ("breaks", "message"),
    [
        ([{"start": "08:00", "minutes": 15}], "not inside the shift"),
        ([{"start": "16:50", "minutes": 15}], "not inside the shift"),
        ([{"start": "12:00", "minutes": 30}, {"start": "12:15", "minutes": 15}], "overlap"),
        ([{"start": "noon", "minutes": 15}], "not a time"),
        ([{"start": "12:00", "minutes": 0}], "1 to 180"),
        ([{"at": "12:00"}], "Each break"),
    ],
)
def test_template_breaks_are_checked(breaks, message):
    template = ShiftTemplate(name="Day", start_time=time(9), end_time=time(17), breaks=breaks)
    with pytest.raises(ValidationError) as excinfo:
        template.full_clean()
    assert message in str(excinfo.value)


def test_template_cannot_end_when_it_starts():
    with pytest.raises(ValidationError):
        ShiftTemplate(name="Zero", start_time=time(9), end_time=time(9)).full_clean()


def test_supervisor_plans_a_night_shift_from_a_template(agent_alice, supervisor_sam, week):
    night = ShiftTemplateFactory(
        name="Night", start_time=time(22), end_time=time(6), breaks=[{"start": "02:00", "minutes": 30}]
    )
    shift = services.shift_create(agent=agent_alice, day=week, template=night, by=supervisor_sam)
    assert shift.start_at == local(week, 22)
    assert shift.end_at == local(week + timedelta(days=1), 6)
    assert [(b.start_at, b.end_at) for b in shift.breaks.all()] == [
        (local(week + timedelta(days=1), 2), local(week + timedelta(days=1), 2, 30))
    ]
    assert not shift.is_published


def test_a_shift_ending_before_it_starts_is_refused(agent_alice, supervisor_sam, week):
    with pytest.raises(ApplicationError) as excinfo:
        services.shift_create(
            agent=agent_alice, day=week, start_at=local(week, 17), end_at=local(week, 9), by=supervisor_sam
        )
    assert "end_at" in excinfo.value.fields
    assert not Shift.objects.exists()


def test_overlapping_shifts_are_refused(agent_alice, supervisor_sam, week):
    services.shift_create(
        agent=agent_alice, day=week, start_at=local(week, 9), end_at=local(week, 17), by=supervisor_sam
    )
    with pytest.raises(Conflict):
        services.shift_create(
            agent=agent_alice, day=week, start_at=local(week, 16), end_at=local(week, 20), by=supervisor_sam
        )
    # Back to back is fine.
    services.shift_create(
        agent=agent_alice, day=week, start_at=local(week, 17), end_at=local(week, 21), by=supervisor_sam
    )


def test_no_shift_on_an_approved_day_off(agent_alice, supervisor_sam, week):
    make_request(agent_alice, week, [week], state="approved")
    with pytest.raises(Conflict):
        services.shift_create(
            agent=agent_alice, day=week, start_at=local(week, 9), end_at=local(week, 17), by=supervisor_sam
        )


def test_only_their_planners_make_shifts(agent_alice, agent_bob, supervisor_sam, hr_hana, week):
    with pytest.raises(Forbidden):
        services.shift_create(
            agent=agent_bob, day=week, start_at=local(week, 9), end_at=local(week, 17), by=supervisor_sam
        )
    with pytest.raises(Forbidden):
        services.shift_create(agent=agent_alice, day=week, start_at=local(week, 9), end_at=local(week, 17), by=hr_hana)
    with pytest.raises(Forbidden):
        services.shift_create(
            agent=agent_alice, day=week, start_at=local(week, 9), end_at=local(week, 17), by=agent_alice.user
        )


def test_publishing_a_week_publishes_drafts_and_tells_each_agent_once(
    agent_alice, agent_arthur, agent_bob, supervisor_sam, supervisor_sue, week
):
    for day in (week, week + timedelta(days=1)):
        services.shift_create(
            agent=agent_alice, day=day, start_at=local(day, 9), end_at=local(day, 17), by=supervisor_sam
        )
    services.shift_create(agent=agent_bob, day=week, start_at=local(week, 9), end_at=local(week, 17), by=supervisor_sue)
    assert services.schedule_publish(week_start=week, by=supervisor_sam) == 2
    assert set(Shift.objects.filter(is_published=True).values_list("agent__user__username", flat=True)) == {"alice"}
    shift = Shift.objects.filter(agent=agent_alice).first()
    assert shift.published_by == supervisor_sam and shift.published_at is not None
    notes = Notification.objects.filter(kind=Notification.Kind.SCHEDULE_PUBLISHED)
    assert [n.recipient.username for n in notes] == ["alice"]
    with pytest.raises(ApplicationError):
        services.schedule_publish(week_start=week + timedelta(days=2), by=supervisor_sam)


def test_only_drafts_can_be_deleted(agent_alice, supervisor_sam, week):
    draft = services.shift_create(
        agent=agent_alice, day=week, start_at=local(week, 9), end_at=local(week, 17), by=supervisor_sam
    )
    services.schedule_publish(week_start=week, by=supervisor_sam)
    draft.refresh_from_db()
    with pytest.raises(Conflict):
        services.shift_delete(shift=draft, by=supervisor_sam)
    day = week + timedelta(days=2)
    other = services.shift_create(
        agent=agent_alice, day=day, start_at=local(day, 9), end_at=local(day, 17), by=supervisor_sam
    )
    services.shift_delete(shift=other, by=supervisor_sam)
    assert Shift.objects.count() == 1


def test_half_hours_of_a_day_follow_the_clock_changes(settings):
    settings.TIME_ZONE = "Europe/Paris"
    from datetime import date

    assert len(periods.half_hours(date(2025, 3, 30))) == 46  # spring forward
    assert len(periods.half_hours(date(2025, 10, 26))) == 50  # fall back
    ordinary = periods.half_hours(date(2025, 6, 2))
    assert len(ordinary) == 48
    assert [i.label for i in ordinary[:3]] == ["00:00", "00:30", "01:00"]
