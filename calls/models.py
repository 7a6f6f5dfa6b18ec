"""Queues, calls, telephony events, agent presence and callbacks.

Three state machines live here (calls, agent presence, callbacks). Each has its
status constants with a comment, an allowed-transitions table next to it, and
one transition function in calls/services that checks the move, saves with
update_fields and writes a history row. Routing (who gets which call) is in
calls/acd.py; the rules of the floor are described in docs/telephony.md.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Disposition(models.Model):
    """The outcome an agent records when wrapping up a call (resolved, sale, complaint…)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["label"]
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")

    def __str__(self):
        return self.label


class Queue(models.Model):
    """Where callers wait for an agent who holds the queue's skill and language."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True, help_text=_("The name the PBX sends."))
    required_skill = models.ForeignKey(
        "agents.Skill",
        verbose_name=_("required skill"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="queues",
    )
    required_language = models.ForeignKey(
        "agents.Language",
        verbose_name=_("required language"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="queues",
    )
    # The teams that serve the queue: a supervisor's wallboard shows their teams' queues.
    teams = models.ManyToManyField("agents.Team", verbose_name=_("teams"), blank=True, related_name="queues")
    # Higher first: an agent in several queues takes the highest-priority queue's caller first.
    priority = models.SmallIntegerField(_("priority"), default=0)
    service_level_threshold_s = models.PositiveIntegerField(
        _("service-level threshold (s)"), default=20, validators=[MinValueValidator(1), MaxValueValidator(3600)]
    )
    service_level_target_pct = models.PositiveSmallIntegerField(
        _("service-level target (%)"), default=80, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    # Callers who hang up sooner than this are not counted against the service level.
    short_abandon_threshold_s = models.PositiveIntegerField(
        _("short-abandon threshold (s)"), default=5, validators=[MaxValueValidator(600)]
    )
    target_aht_s = models.PositiveIntegerField(
        _("target handle time (s)"), default=300, validators=[MinValueValidator(1), MaxValueValidator(7200)]
    )
    # After a call the agent is in wrap-up at most this long, then available again (0: until they finish).
    wrap_up_s = models.PositiveIntegerField(_("wrap-up time (s)"), default=60, validators=[MaxValueValidator(3600)])
    # A call ringing on a desk this long without being accepted goes back to the queue.
    reservation_timeout_s = models.PositiveIntegerField(
        _("reservation timeout (s)"), default=15, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    # Callback rule: an abandoned call creates a callback when this is on and the caller waited at
    # least callback_min_wait_s; it is due callback_delay_s later and tried at most
    # callback_max_attempts times, callback_retry_s apart.
    callback_on_abandon = models.BooleanField(_("call back abandoned callers"), default=True)
    callback_min_wait_s = models.PositiveIntegerField(_("callback: minimum wait before abandon (s)"), default=0)
    callback_delay_s = models.PositiveIntegerField(_("callback: delay (s)"), default=120)
    callback_max_attempts = models.PositiveSmallIntegerField(
        _("callback: attempts"), default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    callback_retry_s = models.PositiveIntegerField(_("callback: time between attempts (s)"), default=900)

    class ServiceLevelFormula(models.TextChoices):
        # answered within the threshold ÷ (answered + abandoned after the short-abandon threshold)
        STANDARD = "standard", _("Answered within ÷ (answered + abandoned, short abandons left out)")
        # Asterisk's SL: answered within the threshold ÷ answered
        ASTERISK_ANSWERED = "asterisk_sl", _("Asterisk SL: answered within ÷ answered")
        # Asterisk's SL2: (answered within + abandoned within the threshold) ÷ (answered + abandoned)
        ASTERISK_SL2 = "asterisk_sl2", _("Asterisk SL2: (answered within + abandoned within) ÷ (answered + abandoned)")

    # Which service-level formula this queue's figures use (docs/kpis.md).
    service_level_formula = models.CharField(
        _("service-level formula"),
        max_length=16,
        choices=ServiceLevelFormula.choices,
        default=ServiceLevelFormula.STANDARD,
    )
    # A waiting caller may ask to be called back and keep their place (virtual hold).
    virtual_hold_enabled = models.BooleanField(_("virtual hold"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-priority", "name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        constraints = [
            models.CheckConstraint(
                condition=Q(service_level_target_pct__gte=1, service_level_target_pct__lte=100),
                name="queue_sl_target_1_100",
            ),
            models.CheckConstraint(condition=Q(reservation_timeout_s__gte=1), name="queue_reservation_timeout_pos"),
        ]

    def __str__(self):
        return self.name


class Call(models.Model):
    """One call through the center: waiting, ringing on a desk, talking, wrapped up."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")  # the caller dialled the center
        OUTBOUND = "outbound", _("Outbound")  # an agent dials out (callbacks, campaigns)

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting")  # in the queue, no agent yet
        RINGING = "ringing", _("Ringing")  # offered to one agent, who has reservation_timeout_s to accept
        IN_PROGRESS = "in_progress", _("In progress")  # agent and caller talking
        WRAP_UP = "wrap_up", _("Wrap-up")  # conversation over, agent writing it up
        COMPLETED = "completed", _("Completed")  # final: handled
        ABANDONED = "abandoned", _("Abandoned")  # final: the caller hung up before talking to anyone

    class EndReason(models.TextChoices):
        COMPLETED = "completed", _("Completed")  # the conversation ended normally
        DROPPED = "dropped", _("Dropped")  # cut mid-conversation: a callback owned by the same agent follows
        NO_ANSWER = "no_answer", _("No answer")  # outbound: the person called did not answer
        ABANDONED = "abandoned", _("Abandoned")  # the caller hung up while waiting or ringing

    # The call's state machine: from → the states it may move to.
    TRANSITIONS = {
        State.QUEUED: {State.RINGING, State.ABANDONED},
        State.RINGING: {State.IN_PROGRESS, State.QUEUED, State.ABANDONED},
        State.IN_PROGRESS: {State.WRAP_UP},
        State.WRAP_UP: {State.COMPLETED},
        State.COMPLETED: set(),
        State.ABANDONED: set(),
    }
    # States in which the call holds its agent.
    HELD_STATES = (State.RINGING, State.IN_PROGRESS, State.WRAP_UP)
    FINAL_STATES = (State.COMPLETED, State.ABANDONED)

    # The PBX's id for the call ("cb-<callback id>-<attempt>" for callbacks the center places).
    # Unique by a constraint (Meta), not unique=True: on PostgreSQL that would add a second,
    # pattern-matching index nobody queries, on a table whose rows change at every step.
    external_id = models.CharField(_("PBX call id"), max_length=100)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices, default=Direction.INBOUND)
    caller_number = models.CharField(_("caller number (E.164)"), max_length=20)  # indexed with offered_at (Meta)
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
    )
    # The queue and the agent are indexed with offered_at (Meta), which serves lookups by either alone.
    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.PROTECT, related_name="calls", db_index=False
    )
    agent = models.ForeignKey(
        "agents.Agent",
        verbose_name=_("agent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        db_index=False,
    )
    # Only this agent may take the call (a callback for a conversation they were cut off from).
    reserved_for = models.ForeignKey(
        "agents.Agent",
        verbose_name=_("reserved for"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reserved_calls",
    )
    # The callback this call carries out, when it is one.
    callback = models.ForeignKey(
        "Callback",
        verbose_name=_("callback"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.QUEUED)
    # The caller asked to be called back and hung up; the call keeps its place in the queue.
    virtual_hold = models.BooleanField(_("virtual hold"), default=False)
    # Arrival in the queue; the queue order (after the queue's priority). A call whose
    # reservation timed out goes back at this, its original, place.
    offered_at = models.DateTimeField(_("offered at"), db_index=True)
    ringing_at = models.DateTimeField(_("ringing since"), null=True, blank=True)
    reservation_expires_at = models.DateTimeField(_("reservation expires at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # When the wrap-up ends by itself (ended_at + the queue's wrap-up time); empty: no limit.
    wrap_up_expires_at = models.DateTimeField(_("wrap-up ends at"), null=True, blank=True)
    wrap_up_done_at = models.DateTimeField(_("wrap-up done at"), null=True, blank=True)
    wait_s = models.PositiveIntegerField(_("wait (s)"), default=0)
    talk_s = models.PositiveIntegerField(_("talk (s)"), default=0)
    hold_s = models.PositiveIntegerField(_("hold (s)"), default=0)  # 0 unless the PBX reports hold
    wrap_up_s = models.PositiveIntegerField(_("wrap-up (s)"), default=0)
    # Times the call rang on a desk without being accepted.
    missed_count = models.PositiveSmallIntegerField(_("missed offers"), default=0)
    end_reason = models.CharField(_("end reason"), max_length=12, choices=EndReason.choices, blank=True)
    disposition = models.ForeignKey(
        Disposition, verbose_name=_("disposition"), on_delete=models.PROTECT, null=True, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    escalated = models.BooleanField(_("escalated"), default=False)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalation_reason = models.TextField(_("escalation reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-offered_at"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            # Dashboards and forecasts aggregate by queue or agent over a time range.
            models.Index(fields=["queue", "offered_at"], name="call_queue_offered_idx"),
            models.Index(fields=["agent", "offered_at"], name="call_agent_offered_idx"),
            # First-contact resolution looks for a later call from the same number (calls/kpis.py).
            models.Index(fields=["caller_number", "offered_at"], name="call_number_offered_idx"),
            # An agent's calls handled today (the desk's "my day", the wallboard's agents).
            models.Index(fields=["agent", "answered_at"], name="call_agent_answered_idx"),
            # The KPI roll-ups' freshness check: the calls changed lately (calls/kpis.py).
            models.Index(fields=["updated_at"], name="call_updated_kpi_idx"),
            # Today's escalations on the wallboard.
            models.Index(fields=["escalated_at"], condition=Q(escalated=True), name="call_escalated_idx"),
            # The routing scan: waiting calls of a queue in arrival order.
            models.Index(fields=["queue", "offered_at", "id"], condition=Q(state="queued"), name="call_waiting_idx"),
            models.Index(fields=["reservation_expires_at"], condition=Q(state="ringing"), name="call_ringing_idx"),
            models.Index(fields=["wrap_up_expires_at"], condition=Q(state="wrap_up"), name="call_wrap_up_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="call_external_id_unique"),
            # An agent holds at most one call at a time (ringing, talking or wrapping up):
            # the database refuses a second, whatever a bug in routing might try.
            models.UniqueConstraint(
                fields=["agent"],
                condition=Q(state__in=["ringing", "in_progress", "wrap_up"]),
                name="call_one_held_per_agent",
            ),
            models.CheckConstraint(
                condition=Q(state="queued") | Q(state="abandoned") | Q(agent__isnull=False),
                name="call_agent_when_offered",
            ),
            models.CheckConstraint(condition=~Q(state="queued") | Q(agent__isnull=True), name="call_queued_no_agent"),
        ]

    def __str__(self):
        return f"{self.external_id} ({self.get_state_display()})"


class CallStateChange(models.Model):
    """History of a call: who or what moved it, when, from which state to which, and why."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="history")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    at = models.DateTimeField(db_index=True)
    agent = models.ForeignKey("agents.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    # "event:<event id>", "routing", "reservation timeout", "agent", "sweep"…
    cause = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("call state change")
        verbose_name_plural = _("call state changes")

    def __str__(self):
        return f"{self.from_state or '-'} → {self.to_state} ({self.cause})"


class CallEvent(models.Model):
    """A telephony event as received. The event id is unique: a replay answers what the
    first delivery answered and changes nothing."""

    class Type(models.TextChoices):
        OFFERED = "call.offered", "call.offered"
        ANSWERED = "call.answered", "call.answered"
        ENDED = "call.ended", "call.ended"
        ABANDONED = "call.abandoned", "call.abandoned"
        CALLBACK_REQUESTED = "call.callback_requested", "call.callback_requested"

    class Result(models.TextChoices):
        APPLIED = "applied", _("Applied")  # changed the call
        UNCHANGED = "unchanged", _("Unchanged")  # valid, but the call was already past it (out of order)
        REJECTED = "rejected", _("Rejected")  # invalid for this call (unknown call, bad field)

    event_id = models.CharField(_("event id"), max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=32)
    external_call_id = models.CharField(_("PBX call id"), max_length=100, db_index=True)
    call = models.ForeignKey(Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    payload = models.JSONField(_("payload"))
    # SHA-256 of the raw body: the same event id with another body is refused (409).
    body_sha256 = models.CharField(max_length=64)
    result = models.CharField(_("result"), max_length=12, choices=Result.choices, blank=True)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    # When the answer was flushed to disk, just before it was sent (see calls/telephony.py).
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("telephony event")
        verbose_name_plural = _("telephony events")

    def __str__(self):
        return f"{self.event_id} {self.type}"


class AgentPresence(models.Model):
    """An agent's current state on the floor: one row per agent."""

    class State(models.TextChoices):
        OFFLINE = "offline", _("Offline")  # signed out of the phone
        AVAILABLE = "available", _("Available")  # waiting for a call
        RESERVED = "reserved", _("Reserved")  # a call is ringing on their desk
        ON_CALL = "on_call", _("On call")  # talking
        WRAP_UP = "wrap_up", _("Wrap-up")  # writing up the last call
        BREAK = "break", _("Break")  # away, with a reason

    class Reason(models.TextChoices):
        LUNCH = "lunch", _("Lunch")
        TRAINING = "training", _("Training")
        COACHING = "coaching", _("Coaching")
        MEETING = "meeting", _("Meeting")
        MISSED = "missed", _("Missed call")  # set by the system when an offered call rang out

    # The presence state machine: from → the states it may move to. Agents choose
    # available, break and offline; routing and calls move them through the rest.
    TRANSITIONS = {
        State.OFFLINE: {State.AVAILABLE, State.BREAK},
        State.AVAILABLE: {State.RESERVED, State.BREAK, State.OFFLINE},
        # Accepting; the caller hanging up while it rings (back to available); letting
        # it ring out (break "missed"); declining by going on break or offline.
        State.RESERVED: {State.ON_CALL, State.AVAILABLE, State.BREAK, State.OFFLINE},
        State.ON_CALL: {State.WRAP_UP},
        State.WRAP_UP: {State.AVAILABLE, State.BREAK, State.OFFLINE},
        State.BREAK: {State.AVAILABLE, State.OFFLINE, State.BREAK},
    }

    agent = models.OneToOneField("agents.Agent", on_delete=models.CASCADE, related_name="presence")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OFFLINE)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices, blank=True)
    since = models.DateTimeField(_("since"))
    # Longest idle first: set when the agent becomes available (end of wrap-up, back
    # from break). Kept while a call rings, so a caller hanging up costs no place.
    idle_since = models.DateTimeField(_("idle since"), null=True, blank=True)
    # The call the agent holds (ringing, talking, wrapping up).
    current_call = models.OneToOneField(
        Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="held_by_presence"
    )

    class Meta:
        verbose_name = _("agent presence")
        verbose_name_plural = _("agent presences")
        # No index on state or idle_since: the row changes at every move of the agent, and an
        # update that changes no indexed column is HOT (a new version in the same page, no new
        # index entries), which matters under long REPEATABLE READ reads that keep old versions
        # alive. The table has one row per agent, so routing reads it whole. Its fillfactor is
        # lowered (migration 0009) to leave room in each page for those versions.
        constraints = [
            models.CheckConstraint(
                condition=Q(state="break") | Q(reason=""),
                name="presence_reason_only_on_break",
            ),
        ]

    def __str__(self):
        return f"{self.agent}: {self.get_state_display()}"


class PresenceInterval(models.Model):
    """One stretch of an agent in one state; the open one (ended_at empty) is the current.
    Occupancy and adherence are computed from these. Also the presence history: who or
    what caused the change."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="presence_intervals")
    state = models.CharField(_("state"), max_length=10, choices=AgentPresence.State.choices)
    reason = models.CharField(_("reason"), max_length=10, choices=AgentPresence.Reason.choices, blank=True)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    call = models.ForeignKey(Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    cause = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["agent", "started_at"]
        verbose_name = _("presence interval")
        verbose_name_plural = _("presence intervals")
        indexes = [
            models.Index(fields=["agent", "started_at"], name="presence_agent_started_idx"),
            models.Index(fields=["started_at"], name="presence_started_idx"),
            # Occupancy: the intervals that began before the period and end inside or after it.
            models.Index(fields=["agent", "ended_at"], name="presence_agent_ended_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["agent"], condition=Q(ended_at__isnull=True), name="presence_one_open"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="presence_interval_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.agent} {self.state} {self.started_at:%Y-%m-%d %H:%M}"


class Callback(models.Model):
    """A promise to call someone back: after an abandon, a dropped call, a wrap-up
    follow-up, or a caller on virtual hold. Routed like a call when due."""

    class Kind(models.TextChoices):
        ABANDONED = "abandoned", _("Abandoned call")  # the caller hung up while waiting
        DROPPED = "dropped", _("Dropped call")  # cut mid-conversation: owned by the same agent
        VIRTUAL_HOLD = "virtual_hold", _("Virtual hold")  # asked to be called back, kept their place
        FOLLOW_UP = "follow_up", _("Follow-up")  # promised by the agent at wrap-up

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")  # waiting for its due time
        DISPATCHED = "dispatched", _("In queue")  # its call is in the queue or with an agent
        COMPLETED = "completed", _("Completed")  # final: the person was reached
        FAILED = "failed", _("Failed")  # final: every attempt went unanswered
        CANCELLED = "cancelled", _("Cancelled")  # final: no longer needed (the person called again)

    # The callback state machine: from → the states it may move to.
    TRANSITIONS = {
        State.PENDING: {State.DISPATCHED, State.CANCELLED},
        # Reached; not reached (try again later, or give up after the last attempt).
        State.DISPATCHED: {State.COMPLETED, State.PENDING, State.FAILED, State.CANCELLED},
        State.COMPLETED: set(),
        State.FAILED: set(),
        State.CANCELLED: set(),
    }
    OPEN_STATES = (State.PENDING, State.DISPATCHED)

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    number = models.CharField(_("number (E.164)"), max_length=20, db_index=True)
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), on_delete=models.PROTECT, related_name="callbacks")
    # Only this agent takes it (dropped calls, follow-ups); empty: any eligible agent.
    owner = models.ForeignKey(
        "agents.Agent",
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="callbacks",
    )
    origin_call = models.ForeignKey(
        Call, verbose_name=_("origin call"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField(_("due at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("attempts allowed"), default=3)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="callback_due_idx"),
            models.Index(fields=["owner", "state"], name="callback_owner_state_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(attempts__lte=models.F("max_attempts")), name="callback_attempts_max"),
        ]

    def __str__(self):
        return f"{self.number} ({self.get_state_display()})"


class CallbackStateChange(models.Model):
    """History of a callback: who or what moved it, when, from which state to which, and why."""

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="history")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    cause = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("callback state change")
        verbose_name_plural = _("callback state changes")

    def __str__(self):
        return f"{self.from_state or '-'} → {self.to_state} ({self.cause})"


class Announcement(models.Model):
    """A message from a supervisor or manager to the desks of one or more teams
    ("keep agents informed of developments"). Agents mark it read; the author sees who did."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="announcements"
    )
    teams = models.ManyToManyField("agents.Team", verbose_name=_("teams"), related_name="announcements")
    body = models.TextField(_("message"), max_length=2000)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")

    def __str__(self):
        return self.body[:60]


class AnnouncementReceipt(models.Model):
    """An agent read an announcement (once: the first reading counts)."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="receipts")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="announcement_receipts")
    read_at = models.DateTimeField(_("read at"))

    class Meta:
        ordering = ["read_at"]
        verbose_name = _("announcement receipt")
        verbose_name_plural = _("announcement receipts")
        constraints = [
            models.UniqueConstraint(fields=["announcement", "agent"], name="announcement_receipt_once"),
        ]

    def __str__(self):
        return f"{self.agent} {self.read_at:%Y-%m-%d %H:%M}"


# --- KPI roll-ups ---
# Half-hour roll-ups of the figures of calls/kpis.py (docs/kpis.md, "Speed"), built from the call and
# presence records by kpis.rollup_fold (the calls.kpi_rollup beat task), never by the call hot path.
# A half-hour is a UTC half-hour; its rows are right as of KpiSlot.folded_at, and calls/kpis.py
# reads them only while no call of the half-hour has changed since (Call.updated_at), else it
# counts that half-hour and the ones after it from the records.


class KpiSlot(models.Model):
    """One rolled-up half-hour: its queue figures, agents' presence and repeat contacts."""

    start = models.DateTimeField(_("start"), unique=True)
    end = models.DateTimeField(pgettext_lazy("time", "end"))  # start + 30 min, stored so that reads only compare
    # When the fold began reading the records.
    folded_at = models.DateTimeField(_("folded at"))
    # folded_at − kpis.FOLD_MARGIN: a call saved (updated_at) from this on may have been
    # uncommitted when the fold read, so such a call makes the half-hour out of date.
    changed_since = models.DateTimeField(_("out of date if a call changed since"))
    # Presence is rolled up only once the half-hour ended FOLD_MARGIN before the fold (a
    # presence change is stamped with the PBX's time, which may be a little late).
    presence_folded = models.BooleanField(_("presence rolled up"), default=False)

    class Meta:
        ordering = ["start"]
        verbose_name = _("KPI half-hour")
        verbose_name_plural = _("KPI half-hours")

    def __str__(self):
        return f"{self.start:%Y-%m-%d %H:%M}"


class QueueSlotFigures(models.Model):
    """One queue's inbound calls offered in a half-hour, counted as calls/kpis.py counts them."""

    slot = models.ForeignKey(KpiSlot, on_delete=models.CASCADE, related_name="queue_figures")
    slot_start = models.DateTimeField()  # the slot's start, for range reads without a join
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+")
    # The queue's thresholds these counts were made with: a queue whose thresholds have changed
    # since is counted from the records until the half-hour is folded again.
    service_level_threshold_s = models.PositiveIntegerField()
    short_abandon_threshold_s = models.PositiveIntegerField()
    offered = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    answered_within = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    short_abandoned = models.PositiveIntegerField(default=0)
    abandoned_within = models.PositiveIntegerField(default=0)
    answered_wait_s = models.BigIntegerField(default=0)  # sum of the answered calls' waits (ASA)
    completed = models.PositiveIntegerField(default=0)
    completed_handle_s = models.BigIntegerField(default=0)  # sum of talk + hold + wrap-up (AHT)

    class Meta:
        verbose_name = _("queue half-hour figures")
        verbose_name_plural = _("queue half-hour figures")
        indexes = [models.Index(fields=["slot_start", "queue"], name="kpi_queue_slot_idx")]
        constraints = [models.UniqueConstraint(fields=["slot", "queue"], name="kpi_queue_slot_once")]

    def __str__(self):
        return f"{self.queue_id} {self.slot_start:%Y-%m-%d %H:%M}"


class AgentSlotPresence(models.Model):
    """Time an agent spent in each presence state within a half-hour (intervals clipped to it),
    in microseconds so that sums are exact."""

    slot = models.ForeignKey(KpiSlot, on_delete=models.CASCADE, related_name="agent_presence")
    slot_start = models.DateTimeField()
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+")
    available_us = models.BigIntegerField(default=0)
    reserved_us = models.BigIntegerField(default=0)
    on_call_us = models.BigIntegerField(default=0)
    wrap_up_us = models.BigIntegerField(default=0)
    break_us = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("agent half-hour presence")
        verbose_name_plural = _("agent half-hour presence")
        indexes = [models.Index(fields=["slot_start", "agent"], name="kpi_agent_slot_idx")]
        constraints = [models.UniqueConstraint(fields=["slot", "agent"], name="kpi_agent_slot_once")]

    def __str__(self):
        return f"{self.agent_id} {self.slot_start:%Y-%m-%d %H:%M}"


class RepeatContact(models.Model):
    """An answered inbound call followed, within settings.FCR_WINDOW_DAYS, by another inbound
    call of the same client (or number): first-contact resolution's repeats, found when either
    call's half-hour is folded and kept only while both half-hours are."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+")
    call_queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+")
    call_offered_at = models.DateTimeField()
    repeat_call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+")
    repeat_offered_at = models.DateTimeField()

    class Meta:
        verbose_name = _("repeat contact")
        verbose_name_plural = _("repeat contacts")
        indexes = [
            models.Index(fields=["call_offered_at"], name="kpi_repeat_call_idx"),
            models.Index(fields=["repeat_offered_at"], name="kpi_repeat_later_idx"),
        ]
        constraints = [models.UniqueConstraint(fields=["call", "repeat_call"], name="kpi_repeat_once")]

    def __str__(self):
        return f"{self.call_id} → {self.repeat_call_id}"
