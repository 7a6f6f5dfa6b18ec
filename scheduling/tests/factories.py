"""Factories and helpers for the scheduling app's tests."""

from datetime import date, datetime, time, timedelta

import factory
from django.utils import timezone

from agents.models import AgentSkill
from agents.tests.factories import AgentFactory, UserFactory
from calls.models import Call, PresenceInterval, Queue
from scheduling import periods
from scheduling.models import DayOffDay, DayOffRequest, Shift, ShiftBreak, ShiftTemplate

__all__ = ["AgentFactory", "UserFactory"]


class ShiftTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShiftTemplate
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Template {n}")
    start_time = time(9)
    end_time = time(17)
    breaks = factory.LazyFunction(lambda: [{"start": "12:00", "minutes": 30}])


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Sched queue {n}")
    slug = factory.Sequence(lambda n: f"sched-queue-{n}")
    service_level_threshold_s = 20
    service_level_target_pct = 80
    target_aht_s = 300

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.set(extracted)


def local(day: date, hh: int, mm: int = 0) -> datetime:
    """An aware datetime at local time hh:mm of a day in the center's zone."""
    return periods.local_datetime(day, time(hh, mm))


def next_monday(weeks_ahead: int = 1, *, today: date | None = None) -> date:
    return periods.monday_of(today or periods.local_today()) + timedelta(weeks=weeks_ahead)


def make_shift(agent, day: date, start_h: int, end_h: int, *, published=True, breaks=()) -> Shift:
    """A scheduled shift from start_h to end_h local (end_h <= start_h: the next day)."""
    start = local(day, start_h)
    end = local(day + timedelta(days=1) if end_h <= start_h else day, end_h % 24)
    shift = Shift.objects.create(
        agent=agent,
        date=day,
        start_at=start,
        end_at=end,
        is_published=published,
        published_at=timezone.now() if published else None,
    )
    for b_start, b_end in breaks:
        ShiftBreak.objects.create(shift=shift, start_at=b_start, end_at=b_end)
    return shift


def make_request(agent, week_start: date, days, state=DayOffRequest.State.PENDING) -> DayOffRequest:
    request = DayOffRequest.objects.create(agent=agent, week_start=week_start, state=state)
    DayOffDay.objects.bulk_create([DayOffDay(request=request, date=d) for d in days])
    return request


def give_skill(agent, skill, level=3):
    AgentSkill.objects.get_or_create(agent=agent, skill=skill, defaults={"level": level})


_seq = iter(range(1, 10**9))


def add_calls(queue, at: datetime, *, offered: int, answered: int = 0, handle_s: int = 300, agent=None):
    """`offered` inbound calls arriving at `at`, the first `answered` of them answered and
    handled in `handle_s` (split as talk, hold and wrap-up), the rest abandoned."""
    if answered and agent is None:
        agent = AgentFactory()
    talk, hold = handle_s // 2, handle_s // 6
    wrap = handle_s - talk - hold
    rows = []
    for i in range(offered):
        n = next(_seq)
        if i < answered:
            rows.append(
                Call(
                    external_id=f"sched-{n}",
                    caller_number="+33600000000",
                    queue=queue,
                    agent=agent,
                    state=Call.State.COMPLETED,
                    offered_at=at,
                    answered_at=at + timedelta(seconds=5),
                    ended_at=at + timedelta(seconds=5 + talk + hold),
                    talk_s=talk,
                    hold_s=hold,
                    wrap_up_s=wrap,
                )
            )
        else:
            rows.append(
                Call(
                    external_id=f"sched-{n}",
                    caller_number="+33600000000",
                    queue=queue,
                    state=Call.State.ABANDONED,
                    offered_at=at,
                    ended_at=at + timedelta(seconds=30),
                )
            )
    Call.objects.bulk_create(rows)


def presence(agent, state: str, start: datetime, end: datetime | None, reason: str = ""):
    return PresenceInterval.objects.create(agent=agent, state=state, reason=reason, started_at=start, ended_at=end)
