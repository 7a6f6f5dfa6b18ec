from datetime import time

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Client(models.Model):
    """A person or company the center calls or is called by. Personal data: confidential."""

    full_name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    address_line = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR", help_text=_("ISO 3166 code"))
    preferred_language = models.ForeignKey(
        "agents.Language", verbose_name=_("preferred language"), on_delete=models.SET_NULL, null=True, blank=True
    )
    # Empty means the center's TIME_ZONE; outbound calling hours are checked in this zone.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    current_provider = models.CharField(_("current provider"), max_length=100, blank=True)
    segment = models.CharField(_("segment"), max_length=50, blank=True)
    # Free labels, comma-separated ("fibre,premium"): kept as text so a 100,000-row import
    # stays one insert per row; searched with icontains.
    tags = models.CharField(_("tags"), max_length=255, blank=True, help_text=_("Comma-separated labels."))
    # Honoured at once and for good: no campaign, import or manual dial may call a do-not-call client.
    do_not_call = models.BooleanField(_("do not call"), default=False)
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")

    def __str__(self):
        return self.full_name

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]


class ClientPhone(models.Model):
    """One phone number of a client, in E.164. A number identifies at most one client."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number (E.164)"), max_length=20, unique=True)
    label = models.CharField(_("label"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")

    def __str__(self):
        return self.number


class DoNotCallNumber(models.Model):
    """A number that asked never to be called again. Kept even if its client is erased,
    so a later import of a bought list cannot bring the number back ("for good")."""

    number = models.CharField(_("number (E.164)"), max_length=20, unique=True)
    client = models.ForeignKey(
        Client,
        verbose_name=_("client"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="do_not_call_numbers",
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("do-not-call number")
        verbose_name_plural = _("do-not-call numbers")

    def __str__(self):
        return self.number


class ClientAccessLog(models.Model):
    """One view of a client record by a user (page, API, admin) or one export.
    Read by HR and managers; nobody edits it."""

    class Via(models.TextChoices):
        PAGE = "page", _("Client page")
        API = "api", _("API")
        ADMIN = "admin", _("Back office")
        EXPORT = "export", _("Export")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="client_views"
    )
    # Null for an export (one row per export, not per client) or once the client is erased;
    # client_label keeps who it was.
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.SET_NULL, null=True, blank=True, related_name="access_log"
    )
    client_label = models.CharField(_("client"), max_length=200, blank=True)
    via = models.CharField(_("through"), max_length=8, choices=Via.choices)
    path = models.CharField(_("address"), max_length=255, blank=True)
    viewed_at = models.DateTimeField(_("viewed at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-viewed_at"]
        verbose_name = _("client access")
        verbose_name_plural = _("client access log")
        indexes = [models.Index(fields=["client", "viewed_at"], name="client_access_client_idx")]

    def __str__(self):
        return f"{self.user} → {self.client_label} ({self.via})"


class Offer(models.Model):
    """A product or service offered on the phone: a tariff, an internet plan, a loan, a ride."""

    class PricePeriod(models.TextChoices):
        ONCE = "once", _("once")
        MONTHLY = "monthly", _("per month")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # The kind of service ("internet", "mobile", "loan", "taxi"): the re-offer rules compare
    # offers of the same category (cheaper) or of another one (a new service).
    category = models.CharField(_("category"), max_length=50, db_index=True)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    price_period = models.CharField(
        _("price period"), max_length=8, choices=PricePeriod.choices, default=PricePeriod.MONTHLY
    )
    commitment_months = models.PositiveSmallIntegerField(_("commitment (months)"), default=0)
    terms = models.TextField(_("terms"), blank=True)
    needs_technician = models.BooleanField(_("needs a technician visit"), default=False)
    active_from = models.DateField(_("active from"))
    active_to = models.DateField(_("active to"), null=True, blank=True)
    # Set by offer_publish, which also builds the re-offer campaign; null while in preparation.
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        ordering = ["category", "price"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="offer_price_not_negative"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="offer_active_to_after_from",
            ),
        ]

    def __str__(self):
        return self.name

    def is_active_on(self, day) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


class RefusalReason(models.Model):
    """Why a client said no. Its re-offer rule says which later offers answer the refusal."""

    class ReofferRule(models.TextChoices):
        NONE = "none", _("Never re-offer")
        # Too expensive: an offer of the same category at a lower price than the refused one.
        CHEAPER = "cheaper", _("A cheaper offer of the same category")
        # No need: a service of another category than the refused one.
        NEW_SERVICE = "new_service", _("A new service (another category)")
        # Already has a provider: an offer of the same category without commitment.
        NO_COMMITMENT = "no_commitment", _("The same service without commitment")
        # Bad timing: any other offer.
        ANY_OFFER = "any_offer", _("Any new offer")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    # "Other": the agent must type what the client said.
    requires_text = models.BooleanField(_("requires a text"), default=False)
    reoffer_rule = models.CharField(
        _("re-offer rule"), max_length=16, choices=ReofferRule.choices, default=ReofferRule.NONE
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "label"]
        verbose_name = _("refusal reason")
        verbose_name_plural = _("refusal reasons")

    def __str__(self):
        return self.label


class Campaign(models.Model):
    """An outbound campaign: who is called, by whom, for what, and under which dialing rules."""

    class Kind(models.TextChoices):
        SALES = "sales", _("Sales")
        SURVEY = "survey", _("Survey")
        COLLECTIONS = "collections", _("Collections")
        FUNDRAISING = "fundraising", _("Fundraising")
        RETENTION = "retention", _("Retention")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")  # being prepared: nobody is called
        RUNNING = "running", _("Running")  # agents pull "next client"
        PAUSED = "paused", _("Paused")  # held by a supervisor; members keep their place
        FINISHED = "finished", _("Finished")  # closed for good; agents lose access to its clients

    TRANSITIONS = {
        Status.DRAFT: {Status.RUNNING, Status.FINISHED},
        Status.RUNNING: {Status.PAUSED, Status.FINISHED},
        Status.PAUSED: {Status.RUNNING, Status.FINISHED},
        Status.FINISHED: set(),
    }

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SALES)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns"
    )
    # Set on the campaign offer_publish builds from the refusals a new offer answers.
    is_reoffer = models.BooleanField(_("re-offer campaign"), default=False)
    starts_at = models.DateTimeField(_("starts at"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    teams = models.ManyToManyField("agents.Team", verbose_name=_("teams"), blank=True, related_name="campaigns")
    agents = models.ManyToManyField("agents.Agent", verbose_name=_("agents"), blank=True, related_name="campaigns")
    # Dialing rules.
    max_attempts = models.PositiveSmallIntegerField(_("maximum attempts"), default=5)
    retry_no_answer_min = models.PositiveIntegerField(_("retry after no answer (min)"), default=120)
    retry_busy_min = models.PositiveIntegerField(_("retry after busy (min)"), default=30)
    # Calling hours, read in each client's own time zone, on these ISO weekdays (1 = Monday).
    calling_hours_start = models.TimeField(_("calling hours from"), default=time(9, 0))
    calling_hours_end = models.TimeField(_("calling hours to"), default=time(20, 0))
    calling_weekdays = models.CharField(_("calling days"), max_length=7, default="12345", help_text=_("1 = Monday"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="campaign_max_attempts_positive"),
            models.CheckConstraint(
                condition=Q(calling_hours_end__gt=models.F("calling_hours_start")), name="campaign_hours_ordered"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")), name="campaign_ends_after"
            ),
            # One re-offer campaign per published offer.
            models.UniqueConstraint(fields=["offer"], condition=Q(is_reoffer=True), name="campaign_one_reoffer"),
        ]

    def __str__(self):
        return self.name

    @property
    def weekdays(self) -> set[int]:
        return {int(day) for day in self.calling_weekdays if day.isdigit() and 1 <= int(day) <= 7}


class CampaignStatusChange(models.Model):
    """History of a campaign's status: who started, paused or finished it, and when."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=Campaign.Status.choices)
    to_status = models.CharField(max_length=10, choices=Campaign.Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at"]

    def __str__(self):
        return f"{self.campaign_id}: {self.from_status} → {self.to_status}"


class ContactOutcome(models.Model):
    """How one contact with a client ended: who, when, which offer, which campaign.

    The outcomes of a campaign member are also the member's history.
    """

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")  # → a draft order
        REFUSED = "refused", _("Refused")  # a refusal reason is required
        CALLBACK_REQUESTED = "callback_requested", _("Callback requested")  # with callback_at
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        DO_NOT_CALL = "do_not_call", _("Do-not-call request")  # flips the client's flag for good

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="outcomes")
    kind = models.CharField(_("outcome"), max_length=20, choices=Kind.choices)
    agent = models.ForeignKey(
        "agents.Agent",
        verbose_name=_("agent"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_outcomes",
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.SET_NULL, null=True, blank=True, related_name="outcomes"
    )
    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), on_delete=models.PROTECT, null=True, blank=True, related_name="outcomes"
    )
    # The call this contact was, when the desk knows it (inbound, or an outbound call the PBX placed).
    call = models.ForeignKey(
        "calls.Call",
        verbose_name=_("call"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_outcomes",
    )
    refusal_reason = models.ForeignKey(
        RefusalReason,
        verbose_name=_("refusal reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outcomes",
    )
    refusal_text = models.CharField(_("refusal (client's words)"), max_length=500, blank=True)
    callback_at = models.DateTimeField(_("callback at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("contact outcome")
        verbose_name_plural = _("contact outcomes")
        indexes = [
            models.Index(fields=["client", "created_at"], name="outcome_client_idx"),
            models.Index(fields=["campaign", "kind"], name="outcome_campaign_kind_idx"),
        ]
        constraints = [
            # A refusal always says why; the rest never carries a reason.
            models.CheckConstraint(
                condition=(Q(kind="refused") & Q(refusal_reason__isnull=False))
                | (~Q(kind="refused") & Q(refusal_reason__isnull=True)),
                name="outcome_refusal_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind="callback_requested") | Q(callback_at__isnull=False),
                name="outcome_callback_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.client} – {self.get_kind_display()}"


class CampaignMember(models.Model):
    """A client in a campaign's queue: how often they were tried and when to try next."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")  # waits for next_attempt_at
        # Handed to an agent by "next client"; next_attempt_at = locked_until, so a member whose
        # agent never records an outcome comes back in the queue when the lease runs out.
        CLAIMED = "claimed", _("With an agent")
        DONE = "done", _("Done")  # reached, with a final outcome (accepted, refused, wrong number)
        EXHAUSTED = "exhausted", _("Attempts exhausted")  # max attempts without reaching the client
        EXCLUDED = "excluded", _("Excluded (do not call)")  # never called again

    OPEN_STATES = (State.QUEUED, State.CLAIMED)
    TRANSITIONS = {
        State.QUEUED: {State.CLAIMED, State.DONE, State.EXHAUSTED, State.EXCLUDED, State.QUEUED},
        State.CLAIMED: {State.CLAIMED, State.QUEUED, State.DONE, State.EXHAUSTED, State.EXCLUDED},
        State.DONE: {State.EXCLUDED},
        State.EXHAUSTED: {State.EXCLUDED, State.QUEUED},
        State.EXCLUDED: set(),
    }

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="members")
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="campaign_memberships"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_outcome = models.ForeignKey(
        ContactOutcome,
        verbose_name=_("last outcome"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_outcome_kind = models.CharField(
        _("last outcome"), max_length=20, choices=ContactOutcome.Kind.choices, blank=True
    )
    assigned_agent = models.ForeignKey(
        "agents.Agent",
        verbose_name=_("agent"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaign_members",
    )
    locked_until = models.DateTimeField(_("with the agent until"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [models.UniqueConstraint(fields=["campaign", "client"], name="campaign_member_unique")]
        indexes = [
            # "Next client" walks this index in order and stops at the first due, unlocked row:
            # it only holds open members, so finished ones never slow the walk down.
            models.Index(
                fields=["campaign", "next_attempt_at", "id"],
                condition=Q(state__in=["queued", "claimed"]),
                name="member_due_idx",
            ),
            # An agent's current claim, looked up before handing a new one.
            models.Index(fields=["assigned_agent"], condition=Q(state="claimed"), name="member_claimed_idx"),
        ]

    def __str__(self):
        return f"{self.campaign}: {self.client}"


class StayReason(models.Model):
    """Why a client stays with their current provider (the survey of competitor-won contacts)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    requires_text = models.BooleanField(_("requires a text"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "label"]
        verbose_name = _("reason to stay with a provider")
        verbose_name_plural = _("reasons to stay with a provider")

    def __str__(self):
        return self.label


class ProviderSurveyAnswer(models.Model):
    """One answer of the short survey "why do you stay with your provider?"."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="provider_survey_answers"
    )
    provider = models.CharField(_("provider"), max_length=100)
    reason = models.ForeignKey(StayReason, verbose_name=_("reason"), on_delete=models.PROTECT, related_name="answers")
    text = models.CharField(_("in the client's words"), max_length=500, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction with the provider (1-5)"), null=True, blank=True)
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("provider survey answer")
        verbose_name_plural = _("provider survey answers")
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="survey_satisfaction_1_5",
            )
        ]

    def __str__(self):
        return f"{self.client} – {self.provider}: {self.reason}"
