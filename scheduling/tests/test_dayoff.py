"""The day-off workflow: filing before the deadline, approval with the staffing check
and its override, rejection, cancellation, history, notifications and the reminder."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from contactcenter.errors import ApplicationError, Conflict, Forbidden
from scheduling import periods, services
from scheduling.models import DayOffDeadline, DayOffRequest, Notification, Shift
from scheduling.tests.factories import QueueFactory, add_calls, local, make_request, make_shift, next_monday

pytestmark = pytest.mark.django_db


@pytest.fixture
def week():
    return next_monday(2)


def submit(agent, week_start, days, **kwargs):
    return services.dayoff_request_submit(agent=agent, week_start=week_start, days=days, by=agent.user, **kwargs)


def busy_queue_on(day, hour=10):
    """A queue whose history (same weekday, four weeks) has 100 calls at `hour`:
    about 31 people are required then (80/20, 300 s, 85 % occupancy, 30 % shrinkage)."""
    queue = QueueFactory()
    for k in range(1, 5):
        add_calls(queue, local(day - timedelta(weeks=k), hour, 5), offered=100, answered=100, handle_s=300)
    return queue


def test_agent_files_a_request_with_history(agent_alice, week):
    request = submit(agent_alice, week, [week + timedelta(days=2), week], note="family")
    assert request.state == DayOffRequest.State.PENDING
    assert [d.date for d in request.days.all()] == [week, week + timedelta(days=2)]
    assert [(h.from_state, h.to_state, h.by) for h in request.history.all()] == [("", "pending", agent_alice.user)]


def test_a_request_for_a_past_or_current_week_is_refused(agent_alice):
    this_week = periods.monday_of(periods.local_today())
    for week_start in (this_week, this_week - timedelta(weeks=3)):
        with pytest.raises(ApplicationError) as excinfo:
            submit(agent_alice, week_start, [week_start + timedelta(days=1)])
        assert excinfo.value.code == "past_week"
        assert "week_start" in excinfo.value.fields
    assert not DayOffRequest.objects.exists()


def test_deadline_closes_the_week(agent_alice, week):
    deadline = periods.dayoff_deadline(week)
    # Default rule: Wednesday noon of the week before.
    assert timezone.localtime(deadline, periods.center_zone()).strftime("%a %H:%M") == "Wed 12:00"
    assert timezone.localtime(deadline, periods.center_zone()).date() == week - timedelta(days=5)
    submit(agent_alice, week, [week], now=deadline - timedelta(minutes=1))
    with pytest.raises(ApplicationError) as excinfo:
        submit(agent_alice, week + timedelta(weeks=1), [week + timedelta(weeks=1)], now=deadline + timedelta(weeks=1))
    assert excinfo.value.code == "deadline_passed"


def test_a_deadline_row_moves_the_weeks_deadline(agent_alice, week):
    DayOffDeadline.objects.create(week_start=week, deadline_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(ApplicationError) as excinfo:
        submit(agent_alice, week, [week])
    assert excinfo.value.code == "deadline_passed"


def test_days_outside_the_week_or_none_are_refused(agent_alice, week):
    with pytest.raises(ApplicationError) as excinfo:
        submit(agent_alice, week, [week + timedelta(days=7)])
    assert "days" in excinfo.value.fields
    with pytest.raises(ApplicationError):
        submit(agent_alice, week, [])
    with pytest.raises(ApplicationError):
        submit(agent_alice, week + timedelta(days=1), [week + timedelta(days=1)])  # not a Monday


def test_one_live_request_per_week(agent_alice, week):
    first = submit(agent_alice, week, [week])
    with pytest.raises(Conflict):
        submit(agent_alice, week, [week + timedelta(days=1)])
    services.dayoff_cancel(request=first, by=agent_alice.user)
    assert submit(agent_alice, week, [week + timedelta(days=1)]).state == "pending"


def test_nobody_files_for_someone_else(agent_alice, agent_arthur, week):
    with pytest.raises(Forbidden):
        services.dayoff_request_submit(agent=agent_alice, week_start=week, days=[week], by=agent_arthur.user)


def test_supervisor_approves_and_the_shift_is_released(agent_alice, supervisor_sam, week):
    shift = make_shift(agent_alice, week, 9, 17)
    other_day = make_shift(agent_alice, week + timedelta(days=1), 9, 17)
    request = submit(agent_alice, week, [week])
    services.dayoff_approve(request=request, by=supervisor_sam, comment="Enjoy")
    request.refresh_from_db()
    shift.refresh_from_db()
    other_day.refresh_from_db()
    assert (request.state, request.decided_by, request.comment) == ("approved", supervisor_sam, "Enjoy")
    assert (shift.state, shift.released_by_request) == (Shift.State.RELEASED, request)
    assert other_day.state == Shift.State.SCHEDULED
    assert [h.to_state for h in request.history.all()] == ["pending", "approved"]
    note = Notification.objects.get(recipient=agent_alice.user)
    assert note.kind == Notification.Kind.DAYOFF_APPROVED
    assert note.params["days"] == [week.isoformat()]


def test_team_manager_above_the_supervisor_may_decide(agent_alice, team_a, week):
    from agents.tests.factories import UserFactory

    boss = UserFactory(username="boss", roles=["supervisor"])
    team_a.manager = boss
    team_a.save(update_fields=["manager"])
    agent_alice.refresh_from_db()
    request = submit(agent_alice, week, [week])
    services.dayoff_reject(request=request, by=boss, comment="Inventory day")
    assert DayOffRequest.objects.get(pk=request.pk).state == "rejected"


@pytest.mark.parametrize("who", ["supervisor_sue", "agent_arthur", "hr_hana", "trainer_tom"])
def test_others_may_not_decide(request, agent_alice, week, who):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)
    dayoff = submit(agent_alice, week, [week])
    with pytest.raises(Forbidden):
        services.dayoff_approve(request=dayoff, by=user)
    with pytest.raises(Forbidden):
        services.dayoff_reject(request=dayoff, by=user, comment="no")
    assert DayOffRequest.objects.get(pk=dayoff.pk).state == "pending"


def test_an_agent_who_is_also_a_supervisor_cannot_approve_their_own(team_a, week):
    from agents.tests.factories import AgentFactory, UserFactory

    lead = AgentFactory(user=UserFactory(username="lead", roles=["agent", "supervisor"]), team=team_a)
    lead.supervisor = lead.user
    lead.save(update_fields=["supervisor"])
    request = submit(lead, week, [week])
    with pytest.raises(Forbidden):
        services.dayoff_approve(request=request, by=lead.user)


def test_rejection_needs_a_comment_and_notifies(agent_alice, supervisor_sam, week):
    request = submit(agent_alice, week, [week])
    with pytest.raises(ApplicationError) as excinfo:
        services.dayoff_reject(request=request, by=supervisor_sam, comment="  ")
    assert "comment" in excinfo.value.fields
    services.dayoff_reject(request=request, by=supervisor_sam, comment="Peak week, sorry")
    request.refresh_from_db()
    assert (request.state, request.comment) == ("rejected", "Peak week, sorry")
    note = Notification.objects.get(recipient=agent_alice.user)
    assert note.kind == Notification.Kind.DAYOFF_REJECTED
    assert note.params["comment"] == "Peak week, sorry"


def test_a_decided_request_cannot_be_decided_again(agent_alice, supervisor_sam, week):
    request = submit(agent_alice, week, [week])
    services.dayoff_reject(request=request, by=supervisor_sam, comment="no")
    with pytest.raises(Conflict):
        services.dayoff_approve(request=request, by=supervisor_sam)
    with pytest.raises(Conflict):
        services.dayoff_cancel(request=request, by=agent_alice.user)


def test_dropping_under_the_requirement_needs_an_override_reason(agent_alice, agent_arthur, supervisor_sam, week):
    busy_queue_on(week, hour=10)
    shift = make_shift(agent_alice, week, 9, 17)
    make_shift(agent_arthur, week, 9, 17)
    request = submit(agent_alice, week, [week])
    with pytest.raises(ApplicationError) as excinfo:
        services.dayoff_approve(request=request, by=supervisor_sam)
    assert excinfo.value.code == "override_required"
    assert "override_reason" in excinfo.value.fields
    request.refresh_from_db()
    shift.refresh_from_db()
    assert request.state == "pending" and shift.state == Shift.State.SCHEDULED  # nothing half-written
    services.dayoff_approve(request=request, by=supervisor_sam, override_reason="Wedding, agreed in March")
    request.refresh_from_db()
    assert (request.state, request.override_reason) == ("approved", "Wedding, agreed in March")
    assert "override: Wedding, agreed in March" in request.history.last().comment


def test_no_override_needed_when_staffing_stays_above_the_requirement(agent_alice, supervisor_sam, week):
    busy_queue_on(week, hour=3)  # calls at night; alice works the day
    make_shift(agent_alice, week, 9, 17)
    request = submit(agent_alice, week, [week])
    services.dayoff_approve(request=request, by=supervisor_sam)
    request.refresh_from_db()
    assert (request.state, request.override_reason) == ("approved", "")


def test_day_without_a_shift_has_no_impact(agent_alice, supervisor_sam, week):
    busy_queue_on(week, hour=10)
    request = submit(agent_alice, week, [week])  # alice is not scheduled that day
    services.dayoff_approve(request=request, by=supervisor_sam)
    assert DayOffRequest.objects.get(pk=request.pk).state == "approved"


def test_notification_is_pushed_to_the_agents_desk_after_commit(
    agent_alice, supervisor_sam, week, django_capture_on_commit_callbacks, settings
):
    # When the push leaves and what it says, not Redis: the in-memory layer lets the test listen
    # across the event loops async_to_sync creates (the Redis Pub/Sub layer keeps a channel to
    # the loop that made it).
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"agent.{agent_alice.pk}", channel)
    request = submit(agent_alice, week, [week])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.dayoff_reject(request=request, by=supervisor_sam, comment="Peak week")
    assert len(callbacks) == 1  # nothing is pushed before the commit
    callbacks[0]()
    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == "notification"
    assert message["kind"] == "dayoff_rejected"
    assert "Peak week" in message["text"]
    async_to_sync(layer.group_discard)(f"agent.{agent_alice.pk}", channel)


def test_reminder_goes_once_to_agents_who_have_not_filed(agent_alice, agent_arthur, agent_bob, week):
    deadline = periods.dayoff_deadline(week)
    submit(agent_arthur, week, [week], now=deadline - timedelta(days=3))
    # Two days before the deadline, and again an hour later: one reminder each.
    assert services.dayoff_send_reminders(now=deadline - timedelta(hours=47)) == 2
    assert services.dayoff_send_reminders(now=deadline - timedelta(hours=46)) == 0
    reminded = set(
        Notification.objects.filter(kind=Notification.Kind.DAYOFF_REMINDER).values_list(
            "recipient__username", flat=True
        )
    )
    assert reminded == {"alice", "bob"}


def test_no_reminder_long_before_or_after_the_deadline(agent_alice, week):
    deadline = periods.dayoff_deadline(week)
    assert services.dayoff_send_reminders(now=deadline - timedelta(days=4)) == 0
    assert services.dayoff_send_reminders(now=deadline + timedelta(minutes=1)) == 0
    assert not Notification.objects.exists()


def test_a_cancelled_request_does_not_count_as_filed(agent_alice, week):
    deadline = periods.dayoff_deadline(week)
    request = make_request(agent_alice, week, [week], state=DayOffRequest.State.CANCELLED)
    assert request.state == "cancelled"
    assert services.dayoff_send_reminders(now=deadline - timedelta(hours=1)) == 1


def test_reminder_task_runs_the_service(agent_alice, week, settings):
    from scheduling.tasks import send_dayoff_reminders

    # Make this week's deadline one hour away so the reminder is due now.
    DayOffDeadline.objects.create(week_start=week, deadline_at=timezone.now() + timedelta(hours=1))
    assert send_dayoff_reminders.delay().get() >= 1
    send_dayoff_reminders.delay().get()  # safe to run twice
    reminders = Notification.objects.filter(recipient=agent_alice.user, kind="dayoff_reminder")
    assert [n.params["week"] for n in reminders].count(week.isoformat()) == 1


def test_the_beat_schedule_is_registered():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="scheduling: day-off reminders")
    assert task.task == "scheduling.tasks.send_dayoff_reminders"
    assert task.enabled and task.crontab.minute == "5"
