"""Quality: scorecards, call reviews, calibration, weekly samples, supervisor
evaluations and agents' self-reported results.

Three state machines live here (reviews, evaluations, self-reported days). Each
has its status constants with a comment, an allowed-transitions table next to
it, and one transition function in qa/services that checks the move, saves with
update_fields and writes a history row. How a review's score is computed is in
qa/scoring.py; who sees what is in qa/selectors.py; the rules are described in
docs/quality.md.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# --- Scorecards ------------------------------------------------------------------------


class Scorecard(models.Model):
    """A named grid QA analysts score calls with ("Inbound service", "Outbound sales").
    Its content lives in versions: a review keeps the version it was scored with."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")

    def __str__(self):
        return self.name


class ScorecardVersion(models.Model):
    """One edition of a scorecard's sections and criteria.

    Editable until the first review uses it (frozen_at is then set); changing the
    criteria of a used scorecard means a new version (qa.services.scorecard_version_create_next).
    New reviews use the latest published version.
    """

    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveSmallIntegerField(_("version"))
    notes = models.TextField(_("what changed"), blank=True)
    # Null while in preparation; analysts can only score with a published version.
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Set when the first review starts with this version; from then on it is read-only.
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["scorecard__name", "-number"]
        verbose_name = _("scorecard version")
        verbose_name_plural = _("scorecard versions")
        constraints = [models.UniqueConstraint(fields=["scorecard", "number"], name="qa_scorecard_version_unique")]

    def __str__(self):
        return f"{self.scorecard} v{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class Section(models.Model):
    """A group of criteria on a scorecard ("Opening", "Discovery", "Compliance")."""

    version = models.ForeignKey(
        ScorecardVersion, verbose_name=_("scorecard version"), on_delete=models.CASCADE, related_name="sections"
    )
    title = models.CharField(_("title"), max_length=150)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self):
        return self.title


class Criterion(models.Model):
    """One thing a reviewer scores, with its weight and scale.

    Scale "yes/no": 1 point for yes, 0 for no. Scale "points": 0 to max_points.
    Not applicable (when allowed) leaves the criterion out of the score entirely.
    A critical criterion that gets 0 points fails the whole review (score 0).
    """

    class Scale(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no")
        POINTS = "points", _("Points (0 to N)")

    section = models.ForeignKey(Section, verbose_name=_("section"), on_delete=models.CASCADE, related_name="criteria")
    label = models.CharField(_("label"), max_length=200)
    guidance = models.TextField(_("guidance for reviewers"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    scale = models.CharField(_("scale"), max_length=8, choices=Scale.choices, default=Scale.YES_NO)
    # 1 for yes/no; N for a 0..N scale.
    max_points = models.PositiveSmallIntegerField(_("maximum points"), default=1)
    allows_na = models.BooleanField(_("may be not applicable"), default=True)
    # Failing it (0 points) sets the whole review to 0: personal data disclosed, rude to the client.
    is_critical = models.BooleanField(_("critical"), default=False)

    class Meta:
        ordering = ["section__position", "position", "id"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1), name="qa_criterion_weight_positive"),
            models.CheckConstraint(condition=Q(max_points__gte=1, max_points__lte=100), name="qa_criterion_max_1_100"),
            models.CheckConstraint(condition=~Q(scale="yes_no") | Q(max_points=1), name="qa_criterion_yes_no_is_1"),
        ]

    def __str__(self):
        return self.label


# --- Reviews ------------------------------------------------------------------------------


class Review(models.Model):
    """A QA analyst's scoring of one recorded call with one scorecard version."""

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Review")  # counts for the agent; one per call
        CALIBRATION = "calibration", _("Calibration")  # one reviewer's blind score in a calibration session

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")  # the reviewer is scoring; nobody else sees it
        SUBMITTED = "submitted", _("Submitted")  # scored; the agent acknowledges or disputes it
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")  # final: the agent accepted it
        DISPUTED = "disputed", _("Disputed")  # the agent contests it; a QA lead decides
        UPHELD = "upheld", _("Dispute resolved: upheld")  # final: the QA lead kept the score
        RESCORED = "rescored", _("Dispute resolved: re-scored")  # final: the QA lead changed the scores

    # The review's state machine: from → the states it may move to.
    TRANSITIONS = {
        Status.DRAFT: {Status.SUBMITTED},
        Status.SUBMITTED: {Status.ACKNOWLEDGED, Status.DISPUTED},
        Status.DISPUTED: {Status.UPHELD, Status.RESCORED},
        Status.ACKNOWLEDGED: set(),
        Status.UPHELD: set(),
        Status.RESCORED: set(),
    }
    # Reviews that count in averages: scored and not contested right now.
    COUNTED_STATUSES = (Status.SUBMITTED, Status.ACKNOWLEDGED, Status.UPHELD, Status.RESCORED)
    # Reviews the agent, their supervisor and trainers may see.
    VISIBLE_STATUSES = (*COUNTED_STATUSES, Status.DISPUTED)

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.REGULAR)
    call = models.ForeignKey("calls.Call", verbose_name=_("call"), on_delete=models.PROTECT, related_name="qa_reviews")
    # The call's agent, copied at creation: reviews are listed and averaged per agent.
    agent = models.ForeignKey(
        "agents.Agent", verbose_name=_("agent"), on_delete=models.PROTECT, related_name="qa_reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="qa_reviews_given"
    )
    scorecard_version = models.ForeignKey(
        ScorecardVersion, verbose_name=_("scorecard version"), on_delete=models.PROTECT, related_name="reviews"
    )
    calibration = models.ForeignKey(
        "CalibrationSession",
        verbose_name=_("calibration session"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reviews",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    # The recording as it was when the review started.
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    comment = models.TextField(_("overall comment"), blank=True)
    # Weighted score in percent (qa/scoring.py); null until submitted.
    score_pct = models.DecimalField(_("score (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    critical_failed = models.BooleanField(_("critical failure"), default=False)
    dispute_reason = models.TextField(_("dispute reason"), blank=True)
    resolution_note = models.TextField(_("resolution"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        permissions = [("resolve_dispute", _("Can resolve disputed reviews (QA lead)"))]
        indexes = [
            models.Index(fields=["agent", "status"], name="qa_review_agent_status_idx"),
            models.Index(fields=["reviewer", "status"], name="qa_review_reviewer_idx"),
        ]
        constraints = [
            # "Skipping calls already reviewed": a call has at most one review that counts.
            models.UniqueConstraint(fields=["call"], condition=Q(kind="regular"), name="qa_review_one_per_call"),
            models.UniqueConstraint(
                fields=["calibration", "reviewer"],
                condition=Q(kind="calibration"),
                name="qa_calibration_one_per_reviewer",
            ),
            models.CheckConstraint(
                condition=(Q(kind="regular") & Q(calibration__isnull=True))
                | (Q(kind="calibration") & Q(calibration__isnull=False)),
                name="qa_review_calibration_kind",
            ),
            models.CheckConstraint(
                condition=Q(score_pct__isnull=True) | Q(score_pct__gte=0, score_pct__lte=100),
                name="qa_review_score_0_100",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.agent} ({self.get_status_display()})"


class ReviewScore(models.Model):
    """The points a review gives one criterion, with the reviewer's comment on it."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(
        Criterion, verbose_name=_("criterion"), on_delete=models.PROTECT, related_name="scores"
    )
    # Null: not applicable (left out of the score).
    points = models.PositiveSmallIntegerField(_("points"), null=True, blank=True)
    # Less than half the criterion's points (a "no" on yes/no): what trainers count as failed.
    # Written by the service with the points, so team aggregates are one GROUP BY.
    failed = models.BooleanField(_("failed"), default=False)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["criterion__section__position", "criterion__position", "criterion_id"]
        verbose_name = _("criterion score")
        verbose_name_plural = _("criterion scores")
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="qa_score_one_per_criterion"),
            models.CheckConstraint(condition=Q(points__isnull=False) | Q(failed=False), name="qa_score_na_not_failed"),
        ]

    def __str__(self):
        return f"{self.criterion}: {'N/A' if self.points is None else self.points}"


class ReviewStatusChange(models.Model):
    """History of a review: who moved it, when, from which status to which, and why.
    A re-score keeps the scores it replaced here."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=12, choices=Review.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Review.Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    # For a re-score: the score and the per-criterion points before it ({criterion id: points}).
    score_before = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    scores_before = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("review status change")
        verbose_name_plural = _("review status changes")

    def __str__(self):
        return f"{self.review_id}: {self.from_status or '-'} → {self.to_status}"


class CoachingAction(models.Model):
    """What follows a review: a coaching action the reviewer or supervisor asks for, or a
    training course a trainer assigns. Each has a due date."""

    class Kind(models.TextChoices):
        COACHING = "coaching", _("Coaching")  # a session or exercise with the supervisor
        TRAINING = "training", _("Training course")  # a course of the agents app

    review = models.ForeignKey(Review, verbose_name=_("review"), on_delete=models.CASCADE, related_name="actions")
    agent = models.ForeignKey(
        "agents.Agent", verbose_name=_("agent"), on_delete=models.CASCADE, related_name="qa_coaching_actions"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COACHING)
    description = models.TextField(_("what to do"), blank=True)
    course = models.ForeignKey(
        "agents.TrainingCourse",
        verbose_name=_("course"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="qa_assignments",
    )
    due_date = models.DateField(_("due date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("coaching action")
        verbose_name_plural = _("coaching actions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="training") | Q(course__isnull=False), name="qa_training_has_course"
            ),
            models.UniqueConstraint(
                fields=["review", "course"], condition=Q(kind="training"), name="qa_training_once_per_review"
            ),
        ]

    def __str__(self):
        return f"{self.agent}: {self.course or self.description[:40]} ({self.due_date})"


# --- Weekly sample ---------------------------------------------------------------------------


class SamplingRun(models.Model):
    """One week's sampling: the row the sampling service locks so that two runs of the same
    week never hand out the same calls, and a record of what it did."""

    week_start = models.DateField(_("week of"), unique=True)  # the Monday of the sampled week
    ran_at = models.DateTimeField(_("last run at"), default=timezone.now)
    assigned_count = models.PositiveIntegerField(_("calls assigned"), default=0)

    class Meta:
        ordering = ["-week_start"]
        verbose_name = _("sampling run")
        verbose_name_plural = _("sampling runs")

    def __str__(self):
        return f"{self.week_start} ({self.assigned_count})"


class ReviewAssignment(models.Model):
    """A call of the weekly sample, handed to one QA analyst to review."""

    # One assignment per call, ever: no call is sampled twice.
    call = models.OneToOneField(
        "calls.Call", verbose_name=_("call"), on_delete=models.CASCADE, related_name="qa_assignment"
    )
    agent = models.ForeignKey("agents.Agent", verbose_name=_("agent"), on_delete=models.CASCADE, related_name="+")
    analyst = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("QA analyst"), on_delete=models.CASCADE, related_name="qa_assignments"
    )
    week_start = models.DateField(_("week of"))
    created_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    # The review made of it, once the analyst starts one.
    review = models.OneToOneField(
        Review, verbose_name=_("review"), on_delete=models.SET_NULL, null=True, blank=True, related_name="assignment"
    )

    class Meta:
        ordering = ["week_start", "id"]
        verbose_name = _("review assignment")
        verbose_name_plural = _("review assignments")
        indexes = [
            models.Index(fields=["week_start", "analyst"], name="qa_assignment_week_analyst_idx"),
            models.Index(fields=["week_start", "agent"], name="qa_assignment_week_agent_idx"),
        ]

    def __str__(self):
        return f"{self.week_start} {self.analyst} ← call {self.call_id}"


# --- Calibration ---------------------------------------------------------------------------


class CalibrationSession(models.Model):
    """Several reviewers score the same call blind, then compare: each criterion's spread
    and each reviewer's distance from the mean (qa/calibration.py)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")  # participants are scoring; each sees results once they submitted
        CLOSED = "closed", _("Closed")  # final: every participant sees the results

    title = models.CharField(_("title"), max_length=200)
    call = models.ForeignKey(
        "calls.Call", verbose_name=_("call"), on_delete=models.PROTECT, related_name="qa_calibrations"
    )
    scorecard_version = models.ForeignKey(
        ScorecardVersion, verbose_name=_("scorecard version"), on_delete=models.PROTECT, related_name="calibrations"
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("participants"), related_name="qa_calibrations"
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("organised by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("calibration session")
        verbose_name_plural = _("calibration sessions")

    def __str__(self):
        return self.title


# --- Supervisor evaluations ------------------------------------------------------------------

# The qualities a supervisor rates, 1 (poor) to 5 (excellent).
EVALUATION_RATINGS = (
    "rating_communication",
    "rating_data_accuracy",
    "rating_product_knowledge",
    "rating_composure",
    "rating_reliability",
)


class Evaluation(models.Model):
    """A supervisor's periodic evaluation of one agent: the figures measured by the system
    for the period (a snapshot taken by qa/performance.py), ratings, comments, goals,
    and the agent's sign-off."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")  # the supervisor is writing it; the agent does not see it
        SHARED = "shared", _("Shared with the agent")  # figures frozen; waiting for the agent's sign-off
        SIGNED = "signed", _("Signed by the agent")  # final

    TRANSITIONS = {
        Status.DRAFT: {Status.SHARED},
        Status.SHARED: {Status.SIGNED},
        Status.SIGNED: set(),
    }
    RATINGS = EVALUATION_RATINGS
    # The measured figures, in the order the history shows them.
    FIGURES = (
        "calls_handled",
        "calls_per_day",
        "aht_s",
        "fcr_pct",
        "qa_average_pct",
        "orders_count",
        "conversion_pct",
        "attendance_pct",
        "adherence_pct",
        "confirmed_applications",
        "confirmed_sales",
        "confirmed_collections",
    )

    agent = models.ForeignKey(
        "agents.Agent", verbose_name=_("agent"), on_delete=models.PROTECT, related_name="evaluations"
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supervisor"),
        on_delete=models.PROTECT,
        related_name="evaluations_written",
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)

    # Measured figures (null: nothing to measure, or the source is not available).
    snapshot_at = models.DateTimeField(_("figures taken at"), null=True, blank=True)
    calls_handled = models.PositiveIntegerField(_("calls handled"), null=True, blank=True)
    days_worked = models.PositiveSmallIntegerField(_("days with calls"), null=True, blank=True)
    calls_per_day = models.DecimalField(_("calls per day"), max_digits=7, decimal_places=2, null=True, blank=True)
    aht_s = models.PositiveIntegerField(_("average handle time (s)"), null=True, blank=True)
    fcr_pct = models.DecimalField(
        _("first-contact resolution (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    qa_average_pct = models.DecimalField(_("QA average (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    qa_reviews = models.PositiveIntegerField(_("QA reviews"), null=True, blank=True)
    orders_count = models.PositiveIntegerField(_("orders"), null=True, blank=True)
    conversion_pct = models.DecimalField(
        _("conversion rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    attendance_pct = models.DecimalField(_("attendance (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    adherence_pct = models.DecimalField(
        _("schedule adherence (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    # Self-reported results as confirmed (by the cross-check or the supervisor), summed.
    confirmed_applications = models.PositiveIntegerField(_("applications signed (confirmed)"), null=True, blank=True)
    confirmed_sales = models.PositiveIntegerField(_("sales (confirmed)"), null=True, blank=True)
    confirmed_collections = models.DecimalField(
        _("collections (confirmed)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    unconfirmed_days = models.PositiveSmallIntegerField(_("self-reported days not confirmed"), null=True, blank=True)
    # What each figure means and where it came from, for the reader ({figure: "note"}).
    figure_notes = models.JSONField(_("figure notes"), default=dict, blank=True)

    # Ratings, 1 (poor) to 5 (excellent).
    rating_communication = models.PositiveSmallIntegerField(_("communication"), null=True, blank=True)
    rating_data_accuracy = models.PositiveSmallIntegerField(_("accuracy of data entry"), null=True, blank=True)
    rating_product_knowledge = models.PositiveSmallIntegerField(_("product knowledge"), null=True, blank=True)
    rating_composure = models.PositiveSmallIntegerField(_("composure under stress"), null=True, blank=True)
    rating_reliability = models.PositiveSmallIntegerField(_("reliability"), null=True, blank=True)
    comments = models.TextField(_("comments"), blank=True)
    goals = models.TextField(_("goals for the next period"), blank=True)

    shared_at = models.DateTimeField(_("shared at"), null=True, blank=True)
    agent_signed_at = models.DateTimeField(_("signed by the agent at"), null=True, blank=True)
    agent_comment = models.TextField(_("agent's comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-period_start", "agent_id"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(fields=["agent", "period_start"], name="qa_evaluation_one_per_period"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="qa_evaluation_period_ordered"
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 1, f"{field}__lte": 5}),
                    name=f"qa_evaluation_{field}_1_5",
                )
                for field in EVALUATION_RATINGS
            ],
        ]

    def __str__(self):
        return f"{self.agent} {self.period_start:%Y-%m}"

    @property
    def ratings(self) -> dict[str, int | None]:
        return {field: getattr(self, field) for field in self.RATINGS}


class EvaluationStatusChange(models.Model):
    """History of an evaluation: shared, signed; by whom and when."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=8, choices=Evaluation.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=8, choices=Evaluation.Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("evaluation status change")
        verbose_name_plural = _("evaluation status changes")

    def __str__(self):
        return f"{self.evaluation_id}: {self.from_status or '-'} → {self.to_status}"


# --- Self-reported results -------------------------------------------------------------------


class SelfReport(models.Model):
    """What an agent paid on results says they achieved on one day, the system's own
    record of that day (qa/crosscheck.py), and the figures that count.

    Confirmed figures are what evaluations use: the reported ones when they match the
    record or the supervisor confirms them, the supervisor's when they correct them.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Not checked")  # not checked yet, or the system has no record to check against
        MATCHED = "matched", _("Matches the record")  # same as what the system recorded that day
        FLAGGED = "flagged", _("Differs from the record")  # the supervisor must confirm or correct
        CONFIRMED = "confirmed", _("Confirmed by the supervisor")  # final: reported figures stand
        CORRECTED = "corrected", _("Corrected by the supervisor")  # final: the supervisor's figures stand

    # The self-report's state machine. Re-checks (the agent edits, an order is cancelled later)
    # move between pending, matched and flagged; the supervisor's decision is final.
    TRANSITIONS = {
        Status.PENDING: {Status.MATCHED, Status.FLAGGED, Status.CONFIRMED, Status.CORRECTED},
        Status.MATCHED: {Status.FLAGGED, Status.PENDING},
        Status.FLAGGED: {Status.MATCHED, Status.PENDING, Status.CONFIRMED, Status.CORRECTED},
        Status.CONFIRMED: set(),
        Status.CORRECTED: set(),
    }
    OPEN_STATUSES = (Status.PENDING, Status.MATCHED, Status.FLAGGED)
    # Waiting for the supervisor.
    TO_REVIEW_STATUSES = (Status.PENDING, Status.FLAGGED)

    # PROTECT: pay depends on these figures; an agent with results is kept (HR marks them as left).
    agent = models.ForeignKey(
        "agents.Agent", verbose_name=_("agent"), on_delete=models.PROTECT, related_name="self_reports"
    )
    date = models.DateField(_("date"))
    applications_signed = models.PositiveIntegerField(_("applications signed"), default=0)
    sales = models.PositiveIntegerField(_("sales"), default=0)
    collections_amount = models.DecimalField(_("collections"), max_digits=10, decimal_places=2, default=0)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # What the system recorded that day (null: no record to compare with).
    recorded_applications = models.PositiveIntegerField(_("applications recorded"), null=True, blank=True)
    recorded_sales = models.PositiveIntegerField(_("sales recorded"), null=True, blank=True)
    recorded_collections = models.DecimalField(
        _("collections recorded"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    # The figures that count (null while not confirmed).
    confirmed_applications = models.PositiveIntegerField(_("applications (confirmed)"), null=True, blank=True)
    confirmed_sales = models.PositiveIntegerField(_("sales (confirmed)"), null=True, blank=True)
    confirmed_collections = models.DecimalField(
        _("collections (confirmed)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("supervisor's note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-date", "agent_id"]
        verbose_name = _("self-reported result")
        verbose_name_plural = _("self-reported results")
        indexes = [models.Index(fields=["status", "date"], name="qa_selfreport_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["agent", "date"], name="qa_selfreport_one_per_day"),
            models.CheckConstraint(condition=Q(collections_amount__gte=0), name="qa_selfreport_collections_positive"),
        ]

    def __str__(self):
        return f"{self.agent} {self.date}"


class SelfReportChange(models.Model):
    """History of a self-reported day: entries, checks and the supervisor's decision."""

    report = models.ForeignKey(SelfReport, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=10, choices=SelfReport.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=SelfReport.Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    # "entry", "check", "confirm", "correct"
    cause = models.CharField(_("cause"), max_length=20)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # The reported, recorded and confirmed figures after the change.
    figures = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("self-report change")
        verbose_name_plural = _("self-report changes")

    def __str__(self):
        return f"{self.report_id}: {self.from_status or '-'} → {self.to_status} ({self.cause})"
