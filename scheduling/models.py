"""Shifts, weekly schedules, day-off requests, shift swaps and the notifications they send.

Two state machines live here (day-off requests and shift swaps). Each has its status
constants with a comment, an allowed-transitions table next to it, and one transition
function in scheduling/services.py that checks the move, saves with update_fields and
writes a history row. The rules of planning are described in docs/scheduling.md.

Times are stored in UTC. A shift's `date` is the center's local date it starts on (a
night shift from 22:00 to 06:00 belongs to the day it starts).
"""

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


def parse_break(item) -> tuple[time, int]:
    """One break of a template, {"start": "HH:MM", "minutes": n}, as (time, minutes)."""
    if not isinstance(item, dict) or set(item) != {"start", "minutes"}:
        raise ValidationError(_('Each break is {"start": "HH:MM", "minutes": n}.'))
    try:
        start = time.fromisoformat(str(item["start"]))
    except ValueError:
        raise ValidationError(_("%(value)s is not a time (HH:MM).") % {"value": item["start"]}) from None
    minutes = item["minutes"]
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 180:
        raise ValidationError(_("A break lasts 1 to 180 minutes."))
    return start, minutes


class ShiftTemplate(models.Model):
    """A kind of shift the center runs: start and end in local time, with its breaks.

    An end at or before the start means the shift ends the next day (the night shift of a
    center open around the clock)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    start_time = models.TimeField(_("start"))
    end_time = models.TimeField(_("end"), help_text=_("At or before the start: the shift ends the next day."))
    # [{"start": "10:00", "minutes": 15}, …] in local time, inside the shift.
    breaks = models.JSONField(_("breaks"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["start_time", "name"]
        verbose_name = _("shift template")
        verbose_name_plural = _("shift templates")

    def __str__(self):
        return f"{self.name} ({self.start_time:%H:%M}–{self.end_time:%H:%M})"

    @property
    def crosses_midnight(self) -> bool:
        return self.end_time <= self.start_time

    @property
    def duration_minutes(self) -> int:
        start = self.start_time.hour * 60 + self.start_time.minute
        end = self.end_time.hour * 60 + self.end_time.minute
        return end - start if end > start else end + 24 * 60 - start

    def break_offsets(self) -> list[tuple[int, int]]:
        """The breaks as (minutes after the shift's start, minutes), checked."""
        if not isinstance(self.breaks, list):
            raise ValidationError({"breaks": _("The breaks are a list.")})
        start = self.start_time.hour * 60 + self.start_time.minute
        offsets = []
        for item in self.breaks:
            try:
                at, minutes = parse_break(item)
            except ValidationError as exc:
                raise ValidationError({"breaks": exc.messages}) from None
            offset = (at.hour * 60 + at.minute - start) % (24 * 60)
            if offset == 0 or offset + minutes > self.duration_minutes:
                raise ValidationError(
                    {"breaks": _("The break at %(at)s is not inside the shift.") % {"at": f"{at:%H:%M}"}}
                )
            offsets.append((offset, minutes))
        offsets.sort()
        for (first, first_minutes), (second, _second_minutes) in zip(offsets, offsets[1:], strict=False):
            if first + first_minutes > second:
                raise ValidationError({"breaks": _("Two breaks overlap.")})
        return offsets

    def clean(self):
        # The admin's form calls this; services call break_offsets() themselves.
        if self.start_time is not None and self.end_time is not None:
            if self.start_time == self.end_time:
                raise ValidationError({"end_time": _("A shift cannot end when it starts.")})
            self.break_offsets()


class Shift(models.Model):
    """One agent's shift on one day. Drafts are planning; agents see published shifts."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")  # the agent works it
        RELEASED = "released", _("Released for a day off")  # an approved day off took it

    agent = models.ForeignKey("agents.Agent", verbose_name=_("agent"), on_delete=models.CASCADE, related_name="shifts")
    # The center's local date the shift starts on.
    date = models.DateField(_("date"))
    template = models.ForeignKey(
        ShiftTemplate, verbose_name=_("template"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    start_at = models.DateTimeField(_("starts at"))
    end_at = models.DateTimeField(_("ends at"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.SCHEDULED)
    # The day-off request that released this shift.
    released_by_request = models.ForeignKey(
        "DayOffRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="released_shifts"
    )
    is_published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["start_at", "agent_id"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        indexes = [
            models.Index(fields=["agent", "start_at"], name="shift_agent_start_idx"),
            # Coverage reads every scheduled shift overlapping a day or a week.
            models.Index(fields=["start_at", "end_at"], name="shift_span_idx"),
            models.Index(fields=["date"], name="shift_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=F("start_at")), name="shift_ends_after_start"),
            models.CheckConstraint(
                condition=Q(is_published=False) | Q(published_at__isnull=False), name="shift_published_has_time"
            ),
        ]

    def __str__(self):
        return f"{self.agent} {self.date} {self.start_at:%H:%M}"


class ShiftBreak(models.Model):
    """A planned break inside a shift (copied from the template when the shift is made)."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="breaks")
    start_at = models.DateTimeField(_("starts at"))
    end_at = models.DateTimeField(_("ends at"))

    class Meta:
        ordering = ["start_at"]
        verbose_name = _("break")
        verbose_name_plural = _("breaks")
        constraints = [models.CheckConstraint(condition=Q(end_at__gt=F("start_at")), name="break_ends_after_start")]

    def __str__(self):
        return f"{self.start_at:%H:%M}–{self.end_at:%H:%M}"


class DayOffDeadline(models.Model):
    """The deadline for day-off requests about one week, when it is not the usual one
    (settings SCHEDULING_DAYOFF_DEADLINE_*: by default Wednesday noon of the week before)."""

    week_start = models.DateField(_("week (Monday)"), unique=True)
    deadline_at = models.DateTimeField(_("deadline"))

    class Meta:
        ordering = ["-week_start"]
        verbose_name = _("day-off deadline")
        verbose_name_plural = _("day-off deadlines")

    def __str__(self):
        return f"{self.week_start}: {self.deadline_at:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.week_start and self.week_start.weekday() != 0:
            raise ValidationError({"week_start": _("A week starts on a Monday.")})


class DayOffRequest(models.Model):
    """An agent's days off wanted in one week, decided by their supervisor or the manager
    above them."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")  # filed, waiting for a decision
        APPROVED = "approved", _("Approved")  # final: the days are off, their shifts released
        REJECTED = "rejected", _("Rejected")  # final: refused, with a comment
        CANCELLED = "cancelled", _("Cancelled")  # final: withdrawn by the agent before a decision

    # The request's state machine: from → the states it may move to.
    TRANSITIONS = {
        State.PENDING: {State.APPROVED, State.REJECTED, State.CANCELLED},
        State.APPROVED: set(),
        State.REJECTED: set(),
        State.CANCELLED: set(),
    }
    OPEN_STATES = (State.PENDING, State.APPROVED)

    agent = models.ForeignKey(
        "agents.Agent", verbose_name=_("agent"), on_delete=models.CASCADE, related_name="dayoff_requests"
    )
    week_start = models.DateField(_("week (Monday)"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    note = models.TextField(_("note"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("decision comment"), blank=True)
    # Why the approval leaves a half-hour under its requirement (required then).
    override_reason = models.TextField(_("override reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-week_start", "-created_at"]
        verbose_name = _("day-off request")
        verbose_name_plural = _("day-off requests")
        indexes = [models.Index(fields=["state", "week_start"], name="dayoff_state_week_idx")]
        constraints = [
            # One live request per agent and week: to change it, cancel it and file again.
            models.UniqueConstraint(
                fields=["agent", "week_start"],
                condition=Q(state__in=["pending", "approved"]),
                name="dayoff_one_open_per_week",
            ),
        ]

    def __str__(self):
        return f"{self.agent} {self.week_start} ({self.get_state_display()})"


class DayOffDay(models.Model):
    """One day an agent asked to have off."""

    request = models.ForeignKey(DayOffRequest, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))

    class Meta:
        ordering = ["date"]
        verbose_name = _("day off")
        verbose_name_plural = _("days off")
        constraints = [models.UniqueConstraint(fields=["request", "date"], name="dayoff_day_unique")]

    def __str__(self):
        return str(self.date)


class DayOffTransition(models.Model):
    """History of a day-off request: who moved it, when, from which state to which, and why."""

    request = models.ForeignKey(DayOffRequest, on_delete=models.CASCADE, related_name="history")
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("day-off request change")
        verbose_name_plural = _("day-off request changes")

    def __str__(self):
        return f"{self.from_state or '∅'} → {self.to_state}"


class ShiftSwap(models.Model):
    """An agent offers one of their shifts; a colleague with the right skills takes it;
    the supervisor approves, and the shift becomes the colleague's."""

    class State(models.TextChoices):
        OFFERED = "offered", _("Offered")  # waiting for a colleague
        TAKEN = "taken", _("Taken")  # a colleague took it, waiting for the supervisor
        APPROVED = "approved", _("Approved")  # final: the shift is the taker's
        REJECTED = "rejected", _("Rejected")  # final: the supervisor refused
        CANCELLED = "cancelled", _("Cancelled")  # final: withdrawn before approval

    # The swap's state machine: from → the states it may move to.
    TRANSITIONS = {
        State.OFFERED: {State.TAKEN, State.CANCELLED},
        State.TAKEN: {State.APPROVED, State.REJECTED, State.CANCELLED},
        State.APPROVED: set(),
        State.REJECTED: set(),
        State.CANCELLED: set(),
    }
    OPEN_STATES = (State.OFFERED, State.TAKEN)

    shift = models.ForeignKey(Shift, verbose_name=_("shift"), on_delete=models.CASCADE, related_name="swaps")
    offered_by = models.ForeignKey(
        "agents.Agent", verbose_name=_("offered by"), on_delete=models.CASCADE, related_name="swaps_offered"
    )
    taken_by = models.ForeignKey(
        "agents.Agent",
        verbose_name=_("taken by"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="swaps_taken",
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OFFERED)
    note = models.TextField(_("note"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("decision comment"), blank=True)
    override_reason = models.TextField(_("override reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("shift swap")
        verbose_name_plural = _("shift swaps")
        constraints = [
            models.UniqueConstraint(
                fields=["shift"], condition=Q(state__in=["offered", "taken"]), name="swap_one_open_per_shift"
            ),
            models.CheckConstraint(
                condition=Q(state="offered") | Q(state="cancelled") | Q(taken_by__isnull=False),
                name="swap_taken_has_taker",
            ),
        ]

    def __str__(self):
        return f"{self.shift} ({self.get_state_display()})"


class ShiftSwapTransition(models.Model):
    """History of a shift swap."""

    swap = models.ForeignKey(ShiftSwap, on_delete=models.CASCADE, related_name="history")
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("shift swap change")
        verbose_name_plural = _("shift swap changes")

    def __str__(self):
        return f"{self.from_state or '∅'} → {self.to_state}"


class Notification(models.Model):
    """Something an agent should know about their planning, shown on their schedule page
    and pushed to their desk (group agent.<agent_id>)."""

    class Kind(models.TextChoices):
        DAYOFF_REMINDER = "dayoff_reminder", _("Day-off request reminder")
        DAYOFF_APPROVED = "dayoff_approved", _("Day off approved")
        DAYOFF_REJECTED = "dayoff_rejected", _("Day off rejected")
        SCHEDULE_PUBLISHED = "schedule_published", _("Schedule published")
        SWAP_TAKEN = "swap_taken", _("Shift taken")
        SWAP_APPROVED = "swap_approved", _("Shift swap approved")
        SWAP_REJECTED = "swap_rejected", _("Shift swap rejected")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scheduling_notifications"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    # Shown in the recipient's language at display time (see services.notification_text).
    params = models.JSONField(default=dict, blank=True)
    # Set for notifications that must be sent once only (the weekly reminder).
    key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx")]

    def __str__(self):
        return f"{self.recipient}: {self.kind}"
