"""The weekly sample: each week, QA_SAMPLE_PER_AGENT random calls of each agent, spread
fairly across the QA analysts, never a call already reviewed or already sampled.

Fair: every call goes to the analyst with the fewest calls that week (ties: the one with
the fewest calls of this agent, then at random), so the analysts' counts differ by at most
one whenever they started the week even. Idempotent: an agent who already has their
sample for the week gets no more, so a second run assigns nothing.
"""

import logging
import random
from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from agents.models import Agent, User
from agents.roles import Role
from calls.models import Call

from ..models import Review, ReviewAssignment, SamplingRun
from ..selectors import local_day_bounds

logger = logging.getLogger(__name__)

DEFAULT_SAMPLE_PER_AGENT = 2


def sample_per_agent() -> int:
    return int(getattr(settings, "QA_SAMPLE_PER_AGENT", DEFAULT_SAMPLE_PER_AGENT))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def qa_analysts():
    return User.objects.filter(groups__name=Role.QA_ANALYST, is_active=True).order_by("pk")


def sampleable_calls(*, week_start: date):
    """Completed calls of active agents in the week that nobody reviewed or sampled yet."""
    lo, hi = local_day_bounds(week_start, week_start + timedelta(days=6))
    return (
        Call.objects.filter(
            state=Call.State.COMPLETED,
            answered_at__isnull=False,
            agent__isnull=False,
            agent__employment_status=Agent.EmploymentStatus.ACTIVE,
            offered_at__gte=lo,
            offered_at__lt=hi,
        )
        .exclude(Exists(Review.objects.filter(call=OuterRef("pk"), kind=Review.Kind.REGULAR)))
        .exclude(Exists(ReviewAssignment.objects.filter(call=OuterRef("pk"))))
    )


def _lock_week(week_start: date) -> SamplingRun:
    """The week's SamplingRun, locked: a second run of the same week waits here, then sees
    what the first assigned."""
    try:
        with transaction.atomic():
            SamplingRun.objects.get_or_create(week_start=week_start)
    except IntegrityError:
        pass  # created by a concurrent run; we lock it below
    return SamplingRun.objects.select_for_update().get(week_start=week_start)


def sample_assign_week(*, week_start: date, per_agent: int | None = None, rng: random.Random | None = None):
    """Assign the week's sample (rules in the module docstring); returns the new assignments."""
    week_start = monday_of(week_start)
    per_agent = sample_per_agent() if per_agent is None else per_agent
    rng = rng or random.Random()  # noqa: S311 -- sampling, not security
    analysts = list(qa_analysts().values_list("pk", flat=True))
    if not analysts or per_agent < 1:
        logger.info("qa sampling %s: no QA analyst or an empty sample, nothing assigned", week_start)
        return []
    with transaction.atomic():
        run = _lock_week(week_start)
        this_week = ReviewAssignment.objects.filter(week_start=week_start)
        load = dict.fromkeys(analysts, 0)
        load.update(
            {
                row["analyst_id"]: row["n"]
                for row in this_week.filter(analyst_id__in=analysts).values("analyst_id").annotate(n=Count("id"))
            }
        )
        per_agent_done = dict(this_week.values("agent_id").annotate(n=Count("id")).values_list("agent_id", "n"))
        pairs = defaultdict(int)  # (analyst, agent) → calls this week
        for analyst_id, agent_id in this_week.values_list("analyst_id", "agent_id"):
            pairs[(analyst_id, agent_id)] += 1

        candidates: dict[int, list[int]] = defaultdict(list)
        for call_id, agent_id in sampleable_calls(week_start=week_start).order_by("pk").values_list("pk", "agent_id"):
            candidates[agent_id].append(call_id)
        agent_ids = sorted(candidates)
        rng.shuffle(agent_ids)

        new = []
        for agent_id in agent_ids:
            need = per_agent - per_agent_done.get(agent_id, 0)
            if need <= 0:
                continue
            for call_id in rng.sample(candidates[agent_id], min(need, len(candidates[agent_id]))):
                analyst_id = min(analysts, key=lambda pk: (load[pk], pairs[(pk, agent_id)], rng.random()))
                load[analyst_id] += 1
                pairs[(analyst_id, agent_id)] += 1
                new.append(
                    ReviewAssignment(call_id=call_id, agent_id=agent_id, analyst_id=analyst_id, week_start=week_start)
                )
        ReviewAssignment.objects.bulk_create(new)
        run.assigned_count += len(new)
        run.ran_at = timezone.now()
        run.save(update_fields=["assigned_count", "ran_at"])
    logger.info("qa sampling %s: %s calls assigned", week_start, len(new))
    return new


def sample_assign_last_week(*, today: date | None = None) -> list[ReviewAssignment]:
    """The beat's entry: sample the week that ended last Sunday (center's calendar)."""
    today = today or timezone.localdate()
    return sample_assign_week(week_start=monday_of(today) - timedelta(weeks=1))
