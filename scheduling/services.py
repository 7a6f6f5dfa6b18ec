"""Every write the scheduling app knows: shifts, publishing, day-off requests, shift
swaps and the notifications they send.

Locks: a service that changes an agent's shifts locks that agent's row first
(`_lock_agents`, always by ascending id), then the request or swap it moves. Two
supervisors approving two requests, or a swap and a day off touching the same agent,
thus run one after the other and each sees the other's result. The staffing checks
(override needed or not) read the shifts inside the same transaction, after the locks.
"""

from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent, AgentSkill, Skill
from calls.models import Queue
from contactcenter.errors import ApplicationError, Conflict, Forbidden

from . import periods, selectors, staffing
from .models import (
    DayOffDay,
    DayOffRequest,
    DayOffTransition,
    Notification,
    Shift,
    ShiftBreak,
    ShiftSwap,
    ShiftSwapTransition,
    ShiftTemplate,
)
from .notifications import push_after_commit

# The longest a single shift may last.
MAX_SHIFT = timedelta(hours=16)


def _lock_agents(agent_ids) -> None:
    """Lock agents' rows in id order: the first lock of every write here (module doc)."""
    list(Agent.objects.select_for_update().filter(pk__in=sorted(set(agent_ids))).order_by("pk").values_list("pk"))


def _lock_days(days) -> None:
    """Lock every scheduled shift of these days and the days around them (night shifts),
    by id. Taken after the agents' locks, before reading the staffing: two approvals
    touching the same day then run one after the other, and the second counts what the
    first released (two days off that are fine alone may not both pass unnoticed)."""
    around = {day + timedelta(days=delta) for day in days for delta in (-1, 0, 1)}
    list(
        Shift.objects.select_for_update()
        .filter(state=Shift.State.SCHEDULED, date__in=sorted(around))
        .order_by("pk")
        .values_list("pk")
    )


# --- Notifications -------------------------------------------------------------------------


def notification_send(
    *, recipient, kind: str, params: dict | None = None, key: str | None = None
) -> Notification | None:
    """Record a notification and push it to the recipient's desk after commit. With a
    `key`, a notification already sent under it is not sent again (returns None)."""
    with transaction.atomic():
        if key is not None and Notification.objects.filter(key=key).exists():
            return None
        try:
            with transaction.atomic():
                notification = Notification.objects.create(recipient=recipient, kind=kind, params=params or {}, key=key)
        except IntegrityError:  # the same key sent concurrently
            return None
        push_after_commit(notification)
    return notification


def notification_mark_read(*, notification: Notification, by) -> Notification:
    """Mark one's own notification read; reading it again keeps the first time."""
    if notification.recipient_id != by.pk:
        raise Forbidden(_("This notification is not yours."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


# --- Shifts ----------------------------------------------------------------------------------


def _template_times(template: ShiftTemplate, day: date) -> tuple[datetime, datetime, list[tuple[datetime, datetime]]]:
    start = periods.local_datetime(day, template.start_time)
    end_day = day + timedelta(days=1) if template.crosses_midnight else day
    end = periods.local_datetime(end_day, template.end_time)
    breaks = [
        (start + timedelta(minutes=offset), start + timedelta(minutes=offset + minutes))
        for offset, minutes in template.break_offsets()
    ]
    return start, end, breaks


def shift_create(
    *,
    agent: Agent,
    day: date,
    by,
    template: ShiftTemplate | None = None,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    breaks: list[tuple[datetime, datetime]] | None = None,
) -> Shift:
    """Plan a draft shift for an agent, from a template or explicit times (UTC).

    Refused: an end at or before the start, a shift over 16 hours, a shift overlapping
    another of the agent's, a shift on a day the agent has an approved day off."""
    if not selectors.can_plan(user=by, agent=agent):
        raise Forbidden(_("You do not plan this agent's shifts."))
    if template is not None:
        if not template.is_active:
            raise ApplicationError(_("This shift template is no longer used."), fields={"template": _("Inactive.")})
        start_at, end_at, breaks = _template_times(template, day)
    if start_at is None or end_at is None:
        raise ApplicationError(
            _("Give a template, or a start and an end."), fields={"template": _("A template or times are required.")}
        )
    if end_at <= start_at:
        raise ApplicationError(_("A shift must end after it starts."), fields={"end_at": _("Ends before it starts.")})
    if end_at - start_at > MAX_SHIFT:
        raise ApplicationError(_("A shift lasts at most 16 hours."), fields={"end_at": _("Too long.")})
    for b_start, b_end in breaks or []:
        if not (start_at <= b_start < b_end <= end_at):
            raise ApplicationError(_("A break must be inside its shift."), fields={"breaks": _("Outside the shift.")})
    with transaction.atomic():
        _lock_agents([agent.pk])
        clash = Shift.objects.filter(
            agent=agent, state=Shift.State.SCHEDULED, start_at__lt=end_at, end_at__gt=start_at
        ).first()
        if clash is not None:
            raise Conflict(
                _("%(agent)s already has a shift from %(start)s to %(end)s.")
                % {
                    "agent": agent,
                    "start": timezone.localtime(clash.start_at).strftime("%Y-%m-%d %H:%M"),
                    "end": timezone.localtime(clash.end_at).strftime("%H:%M"),
                },
                fields={"start_at": _("Overlaps another shift.")},
            )
        if DayOffDay.objects.filter(
            request__agent=agent, request__state=DayOffRequest.State.APPROVED, date=day
        ).exists():
            raise Conflict(_("%(agent)s has an approved day off on %(day)s.") % {"agent": agent, "day": day})
        shift = Shift.objects.create(
            agent=agent, date=day, template=template, start_at=start_at, end_at=end_at, created_by=by
        )
        ShiftBreak.objects.bulk_create([ShiftBreak(shift=shift, start_at=s, end_at=e) for s, e in breaks or []])
    return shift


def shift_delete(*, shift: Shift, by) -> None:
    """Remove a draft shift. A published shift stays: the agent counts on it (swap it,
    or release it through a day off)."""
    if not selectors.can_plan(user=by, agent=shift.agent):
        raise Forbidden(_("You do not plan this agent's shifts."))
    if shift.is_published:
        raise Conflict(_("A published shift cannot be deleted."))
    shift.delete()


def schedule_publish(*, week_start: date, by, agents=None) -> int:
    """Publish the draft shifts of a week for the agents the user plans (or a subset of
    them), and tell each agent concerned once. Returns the number of shifts published."""
    if week_start.weekday() != 0:
        raise ApplicationError(_("A week starts on a Monday."), fields={"week": _("Not a Monday.")})
    scope = selectors.agents_to_plan(user=by)
    if agents is not None:
        scope = scope.filter(pk__in=[a.pk for a in agents])
    now = timezone.now()
    with transaction.atomic():
        drafts = Shift.objects.filter(
            agent__in=scope,
            is_published=False,
            date__gte=week_start,
            date__lt=week_start + timedelta(days=7),
        )
        agent_ids = set(drafts.values_list("agent_id", flat=True))
        count = drafts.update(is_published=True, published_at=now, published_by=by)
        for agent in Agent.objects.filter(pk__in=agent_ids).select_related("user"):
            notification_send(
                recipient=agent.user, kind=Notification.Kind.SCHEDULE_PUBLISHED, params={"week": week_start.isoformat()}
            )
    return count


# --- Day-off requests -------------------------------------------------------------------


def _dayoff_transition(*, request: DayOffRequest, to_state: str, by, comment: str = "", now=None) -> DayOffRequest:
    """Move a (locked) request along its state machine and write the history row."""
    if to_state not in DayOffRequest.TRANSITIONS[request.state]:
        raise Conflict(
            _("A %(from)s request cannot become %(to)s.")
            % {"from": request.get_state_display().lower(), "to": DayOffRequest.State(to_state).label.lower()},
            code="illegal_transition",
        )
    from_state = request.state
    request.state = to_state
    request.save(update_fields=["state"])
    DayOffTransition.objects.create(
        request=request, from_state=from_state, to_state=to_state, at=now or timezone.now(), by=by, comment=comment
    )
    return request


def dayoff_request_submit(
    *, agent: Agent, week_start: date, days: list[date], by, note: str = "", now: datetime | None = None
) -> DayOffRequest:
    """File an agent's days off wanted in a coming week, before that week's deadline.

    Refused: a week that has started or is past, a week beyond the horizon, a deadline
    passed, days outside the week, no day, a second live request for the same week."""
    now = now or timezone.now()
    if agent.user_id != by.pk:
        raise Forbidden(_("Agents file their own day-off requests."))
    if week_start.weekday() != 0:
        raise ApplicationError(_("A week starts on a Monday."), fields={"week_start": _("Not a Monday.")})
    today = periods.local_today(now)
    if week_start <= today:
        raise ApplicationError(
            _("The week of %(week)s has started or is past: ask for days off in a coming week.") % {"week": week_start},
            fields={"week_start": _("This week is not ahead.")},
            code="past_week",
        )
    if week_start > periods.monday_of(today) + timedelta(weeks=periods.dayoff_horizon_weeks()):
        raise ApplicationError(
            _("Days off can be asked at most %(n)s weeks ahead.") % {"n": periods.dayoff_horizon_weeks()},
            fields={"week_start": _("Too far ahead.")},
        )
    deadline = periods.dayoff_deadline(week_start)
    if now >= deadline:
        raise ApplicationError(
            _("Requests for the week of %(week)s closed on %(deadline)s.")
            % {"week": week_start, "deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")},
            fields={"week_start": _("The deadline has passed.")},
            code="deadline_passed",
        )
    days = sorted(set(days))
    if not days:
        raise ApplicationError(_("Choose at least one day."), fields={"days": _("No day chosen.")})
    outside = [d for d in days if not week_start <= d < week_start + timedelta(days=7)]
    if outside:
        raise ApplicationError(
            _("Every day must be in the week of %(week)s.") % {"week": week_start},
            fields={"days": ", ".join(d.isoformat() for d in outside)},
        )
    with transaction.atomic():
        _lock_agents([agent.pk])
        if DayOffRequest.objects.filter(
            agent=agent, week_start=week_start, state__in=DayOffRequest.OPEN_STATES
        ).exists():
            raise Conflict(
                _("You already asked for days off that week: cancel that request to file another."),
                fields={"week_start": _("Already requested.")},
            )
        request = DayOffRequest.objects.create(agent=agent, week_start=week_start, note=note)
        DayOffDay.objects.bulk_create([DayOffDay(request=request, date=d) for d in days])
        DayOffTransition.objects.create(request=request, from_state="", to_state=request.state, at=now, by=by)
    return request


def _locked_request(request: DayOffRequest) -> DayOffRequest:
    _lock_agents([request.agent_id])
    # of=self: the agent's team is a nullable join, which PostgreSQL cannot lock.
    return (
        DayOffRequest.objects.select_for_update(of=("self",))
        .select_related("agent__user", "agent__team")
        .get(pk=request.pk)
    )


def dayoff_cancel(*, request: DayOffRequest, by) -> DayOffRequest:
    """The agent withdraws a request that has not been decided."""
    if request.agent.user_id != by.pk:
        raise Forbidden(_("Only the agent who filed a request can cancel it."))
    with transaction.atomic():
        request = _locked_request(request)
        return _dayoff_transition(request=request, to_state=DayOffRequest.State.CANCELLED, by=by)


def dayoff_approve(
    *, request: DayOffRequest, by, comment: str = "", override_reason: str = "", now: datetime | None = None
) -> DayOffRequest:
    """Approve a request: its days are off, the agent's shifts on them are released, the
    agent is told.

    When a requested day would leave a half-hour of a queue the agent takes under its
    requirement, the approval needs an override with a reason (400 without one)."""
    now = now or timezone.now()
    if not selectors.can_decide(user=by, agent=request.agent):
        raise Forbidden(_("Only the agent's supervisor or a manager above them decides this request."))
    with transaction.atomic():
        request = _locked_request(request)
        if request.state != DayOffRequest.State.PENDING:
            raise Conflict(_("This request has already been decided."), code="illegal_transition")
        days = [d.date for d in request.days.all()]
        _lock_days(days)
        impacts = staffing.dayoff_impact([request])[request.pk]
        under = [impact for impact in impacts if impact.needs_override]
        override_reason = (override_reason or "").strip()
        if under and not override_reason:
            raise ApplicationError(
                _("Approving leaves %(days)s under the staffing requirement: give an override reason.")
                % {"days": ", ".join(impact.day.isoformat() for impact in under)},
                fields={"override_reason": _("Required: the approval drops staffing under the requirement.")},
                code="override_required",
            )
        request.decided_by = by
        request.decided_at = now
        request.comment = comment
        request.override_reason = override_reason if under else ""
        request.save(update_fields=["decided_by", "decided_at", "comment", "override_reason"])
        _dayoff_transition(
            request=request,
            to_state=DayOffRequest.State.APPROVED,
            by=by,
            comment="\n".join(filter(None, [comment, override_reason and f"override: {override_reason}"])),
            now=now,
        )
        Shift.objects.filter(agent=request.agent, date__in=days, state=Shift.State.SCHEDULED).update(
            state=Shift.State.RELEASED, released_by_request=request
        )
        # Open swaps of those shifts lose their object.
        for swap in ShiftSwap.objects.select_for_update(of=("self",)).filter(
            shift__agent=request.agent, shift__date__in=days, state__in=ShiftSwap.OPEN_STATES
        ):
            _swap_transition(swap=swap, to_state=ShiftSwap.State.CANCELLED, by=by, comment="day off approved", now=now)
        notification_send(
            recipient=request.agent.user,
            kind=Notification.Kind.DAYOFF_APPROVED,
            params={
                "request": request.pk,
                "days": [d.isoformat() for d in days],
                "by": str(by),
                "comment": comment,
            },
        )
    return request


def dayoff_reject(*, request: DayOffRequest, by, comment: str, now: datetime | None = None) -> DayOffRequest:
    """Refuse a request with a comment the agent reads."""
    now = now or timezone.now()
    if not selectors.can_decide(user=by, agent=request.agent):
        raise Forbidden(_("Only the agent's supervisor or a manager above them decides this request."))
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError(_("Say why the request is rejected."), fields={"comment": _("Required.")})
    with transaction.atomic():
        request = _locked_request(request)
        if request.state != DayOffRequest.State.PENDING:
            raise Conflict(_("This request has already been decided."), code="illegal_transition")
        request.decided_by = by
        request.decided_at = now
        request.comment = comment
        request.save(update_fields=["decided_by", "decided_at", "comment"])
        _dayoff_transition(request=request, to_state=DayOffRequest.State.REJECTED, by=by, comment=comment, now=now)
        notification_send(
            recipient=request.agent.user,
            kind=Notification.Kind.DAYOFF_REJECTED,
            params={
                "request": request.pk,
                "days": [d.date.isoformat() for d in request.days.all()],
                "by": str(by),
                "comment": comment,
            },
        )
    return request


def dayoff_send_reminders(*, now: datetime | None = None) -> int:
    """Remind every active agent who has not filed a request for a week whose deadline
    falls within the reminder lead (48 hours by default) and has not passed. Each agent
    hears once per week (the notification key), so running it every hour is safe."""
    now = now or timezone.now()
    sent = 0
    today = periods.local_today(now)
    lead = periods.dayoff_reminder_lead()
    for offset in range(1, periods.dayoff_horizon_weeks() + 1):
        week_start = periods.monday_of(today) + timedelta(weeks=offset)
        deadline = periods.dayoff_deadline(week_start)
        if not now < deadline <= now + lead:
            continue
        filed = DayOffRequest.objects.filter(week_start=week_start).exclude(state=DayOffRequest.State.CANCELLED)
        for agent in (
            Agent.objects.filter(employment_status=Agent.EmploymentStatus.ACTIVE, user__is_active=True)
            .exclude(pk__in=filed.values("agent_id"))
            .select_related("user")
        ):
            if notification_send(
                recipient=agent.user,
                kind=Notification.Kind.DAYOFF_REMINDER,
                params={"week": week_start.isoformat(), "deadline": deadline.isoformat()},
                key=f"dayoff-reminder:{agent.pk}:{week_start.isoformat()}",
            ):
                sent += 1
    return sent


# --- Shift swaps ---------------------------------------------------------------------------


def _swap_transition(*, swap: ShiftSwap, to_state: str, by, comment: str = "", now=None) -> ShiftSwap:
    if to_state not in ShiftSwap.TRANSITIONS[swap.state]:
        raise Conflict(
            _("A %(from)s swap cannot become %(to)s.")
            % {"from": swap.get_state_display().lower(), "to": ShiftSwap.State(to_state).label.lower()},
            code="illegal_transition",
        )
    from_state = swap.state
    swap.state = to_state
    swap.save(update_fields=["state"])
    ShiftSwapTransition.objects.create(
        swap=swap, from_state=from_state, to_state=to_state, at=now or timezone.now(), by=by, comment=comment
    )
    return swap


def swap_offer(*, shift: Shift, by, note: str = "", now: datetime | None = None) -> ShiftSwap:
    """An agent offers one of their published shifts that has not started."""
    now = now or timezone.now()
    if shift.agent.user_id != by.pk:
        raise Forbidden(_("Agents offer their own shifts."))
    if not shift.is_published or shift.state != Shift.State.SCHEDULED:
        raise ApplicationError(
            _("Only a published, scheduled shift can be offered."), fields={"shift": _("Not offerable.")}
        )
    if shift.start_at <= now:
        raise ApplicationError(_("This shift has started or is past."), fields={"shift": _("Not ahead.")})
    with transaction.atomic():
        _lock_agents([shift.agent_id])
        if ShiftSwap.objects.filter(shift=shift, state__in=ShiftSwap.OPEN_STATES).exists():
            raise Conflict(_("This shift is already offered."))
        swap = ShiftSwap.objects.create(shift=shift, offered_by=shift.agent, note=note)
        ShiftSwapTransition.objects.create(swap=swap, from_state="", to_state=swap.state, at=now, by=by)
    return swap


def missing_skills(*, offered_by: Agent, taker: Agent) -> list[str]:
    """The skills required by the queues the offering agent takes that the taker lacks."""
    queues = list(Queue.objects.filter(is_active=True))
    eligible = staffing.eligible_agent_ids(queues)
    needed = {q.required_skill_id for q in queues if q.required_skill_id and offered_by.pk in eligible[q.pk]}
    held = set(AgentSkill.objects.filter(agent=taker).values_list("skill_id", flat=True))
    return sorted(Skill.objects.filter(pk__in=needed - held).values_list("name", flat=True))


def swap_take(*, swap: ShiftSwap, by, now: datetime | None = None) -> ShiftSwap:
    """A colleague with the right skills (every skill the queues of the offering agent
    require) and free at that time takes an offered shift; the supervisor decides next."""
    now = now or timezone.now()
    taker = selectors.agent_of(by)
    if taker is None:
        raise Forbidden(_("Only agents take shifts."))
    if taker.pk == swap.offered_by_id:
        raise ApplicationError(_("You cannot take your own shift."))
    if taker.employment_status != Agent.EmploymentStatus.ACTIVE:
        raise Forbidden(_("Only active agents take shifts."))
    with transaction.atomic():
        _lock_agents([swap.offered_by_id, taker.pk])
        swap = ShiftSwap.objects.select_for_update(of=("self",)).select_related("shift", "offered_by").get(pk=swap.pk)
        if swap.state != ShiftSwap.State.OFFERED:
            raise Conflict(_("This shift is no longer on offer."), code="illegal_transition")
        shift = swap.shift
        if shift.start_at <= now:
            raise ApplicationError(_("This shift has started or is past."))
        lacking = missing_skills(offered_by=swap.offered_by, taker=taker)
        if lacking:
            raise ApplicationError(
                _("This shift needs skills you do not have: %(skills)s.") % {"skills": ", ".join(lacking)},
                fields={"skills": lacking},
                code="missing_skills",
            )
        if Shift.objects.filter(
            agent=taker, state=Shift.State.SCHEDULED, start_at__lt=shift.end_at, end_at__gt=shift.start_at
        ).exists():
            raise Conflict(_("You already work at that time."))
        if DayOffDay.objects.filter(
            request__agent=taker, request__state=DayOffRequest.State.APPROVED, date=shift.date
        ).exists():
            raise Conflict(_("You have an approved day off that day."))
        swap.taken_by = taker
        swap.save(update_fields=["taken_by"])
        _swap_transition(swap=swap, to_state=ShiftSwap.State.TAKEN, by=by, now=now)
        notification_send(
            recipient=swap.offered_by.user,
            kind=Notification.Kind.SWAP_TAKEN,
            params={"swap": swap.pk, "date": shift.date.isoformat(), "by": str(taker)},
        )
    return swap


def swap_cancel(*, swap: ShiftSwap, by, now: datetime | None = None) -> ShiftSwap:
    """The offering agent withdraws an offer that has not been approved."""
    if swap.offered_by.user_id != by.pk:
        raise Forbidden(_("Only the agent who offered the shift can withdraw the offer."))
    with transaction.atomic():
        _lock_agents([swap.offered_by_id])
        swap = ShiftSwap.objects.select_for_update().get(pk=swap.pk)
        return _swap_transition(swap=swap, to_state=ShiftSwap.State.CANCELLED, by=by, now=now)


def swap_approve(
    *, swap: ShiftSwap, by, comment: str = "", override_reason: str = "", now: datetime | None = None
) -> ShiftSwap:
    """The supervisor approves a taken swap: the shift becomes the taker's.

    When the move leaves a half-hour of a queue (that the offering agent takes and the
    taker does not) under its requirement, the approval needs an override reason."""
    now = now or timezone.now()
    if not selectors.can_decide(user=by, agent=swap.offered_by):
        raise Forbidden(_("Only the agent's supervisor or a manager above them decides this swap."))
    with transaction.atomic():
        _lock_agents([swap.offered_by_id, swap.taken_by_id] if swap.taken_by_id else [swap.offered_by_id])
        swap = (
            ShiftSwap.objects.select_for_update(of=("self",))
            .select_related("shift", "offered_by__user", "taken_by__user")
            .get(pk=swap.pk)
        )
        if swap.state != ShiftSwap.State.TAKEN:
            raise Conflict(_("Only a taken shift can be approved."), code="illegal_transition")
        _lock_days([swap.shift.date])
        shift = Shift.objects.get(pk=swap.shift_id)
        if shift.state != Shift.State.SCHEDULED or shift.agent_id != swap.offered_by_id:
            raise Conflict(_("The shift changed since it was offered."))
        if Shift.objects.filter(
            agent_id=swap.taken_by_id, state=Shift.State.SCHEDULED, start_at__lt=shift.end_at, end_at__gt=shift.start_at
        ).exists():
            raise Conflict(_("The colleague now works at that time."))
        under = [row for row in staffing.swap_impact(swap) if row.under]
        override_reason = (override_reason or "").strip()
        if under and not override_reason:
            raise ApplicationError(
                _("The swap leaves %(queue)s under its requirement at %(at)s: give an override reason.")
                % {"queue": under[0].queue_name, "at": timezone.localtime(under[0].start).strftime("%Y-%m-%d %H:%M")},
                fields={"override_reason": _("Required: the swap drops staffing under the requirement.")},
                code="override_required",
            )
        shift.agent_id = swap.taken_by_id
        shift.save(update_fields=["agent"])
        swap.decided_by = by
        swap.decided_at = now
        swap.comment = comment
        swap.override_reason = override_reason if under else ""
        swap.save(update_fields=["decided_by", "decided_at", "comment", "override_reason"])
        _swap_transition(swap=swap, to_state=ShiftSwap.State.APPROVED, by=by, comment=comment, now=now)
        for agent in (swap.offered_by, swap.taken_by):
            notification_send(
                recipient=agent.user,
                kind=Notification.Kind.SWAP_APPROVED,
                params={"swap": swap.pk, "date": shift.date.isoformat(), "taker": str(swap.taken_by)},
            )
    return swap


def swap_reject(*, swap: ShiftSwap, by, comment: str, now: datetime | None = None) -> ShiftSwap:
    """The supervisor refuses a taken swap, with a comment; the shift stays where it was."""
    now = now or timezone.now()
    if not selectors.can_decide(user=by, agent=swap.offered_by):
        raise Forbidden(_("Only the agent's supervisor or a manager above them decides this swap."))
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError(_("Say why the swap is rejected."), fields={"comment": _("Required.")})
    with transaction.atomic():
        _lock_agents([swap.offered_by_id, swap.taken_by_id] if swap.taken_by_id else [swap.offered_by_id])
        swap = (
            ShiftSwap.objects.select_for_update(of=("self",))
            .select_related("offered_by__user", "taken_by__user")
            .get(pk=swap.pk)
        )
        if swap.state != ShiftSwap.State.TAKEN:
            raise Conflict(_("Only a taken shift can be rejected."), code="illegal_transition")
        swap.decided_by = by
        swap.decided_at = now
        swap.comment = comment
        swap.save(update_fields=["decided_by", "decided_at", "comment"])
        _swap_transition(swap=swap, to_state=ShiftSwap.State.REJECTED, by=by, comment=comment, now=now)
        for agent in (swap.offered_by, swap.taken_by):
            notification_send(
                recipient=agent.user,
                kind=Notification.Kind.SWAP_REJECTED,
                params={"swap": swap.pk, "comment": comment},
            )
    return swap
