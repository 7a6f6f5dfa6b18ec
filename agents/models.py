from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in. What they may do comes from their groups (agents/roles.py)."""

    # Empty means the center's TIME_ZONE; times are stored in UTC and shown in this zone.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        return self.get_full_name() or self.username


class Language(models.Model):
    """A spoken language, by its ISO 639-1 code ("fr", "en", "ar")."""

    code = models.CharField(_("code"), max_length=8, primary_key=True)
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        ordering = ["name"]
        verbose_name = _("language")
        verbose_name_plural = _("languages")

    def __str__(self):
        return self.name


class Team(models.Model):
    """A department of the center, led by one supervisor."""

    class Kind(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        TECHNICAL_SUPPORT = "technical_support", _("Technical support")
        CUSTOMER_SERVICE = "customer_service", _("Customer service")
        SALES = "sales", _("Sales")
        ACCOUNT_MANAGEMENT = "account_management", _("Account management")
        ESCALATION = "escalation", _("Escalation")
        LANGUAGE_LINE = "language_line", _("Language line")
        BACK_OFFICE = "back_office", _("Back office")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supervisor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervised_teams",
    )
    # The higher authority above the supervisor (approves when the supervisor is away).
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_teams",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self):
        return self.name


class Skill(models.Model):
    """Something a queue may require of the agents it rings (billing, fibre, retention…)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self):
        return self.name


class Agent(models.Model):
    """The working profile of a user who takes or makes calls."""

    class EmploymentStatus(models.TextChoices):
        ACTIVE = "active", _("Active")  # on the floor
        ON_LEAVE = "on_leave", _("On leave")  # employed, not working now
        SUSPENDED = "suspended", _("Suspended")
        LEFT = "left", _("Left the company")

    class ContractType(models.TextChoices):
        PERMANENT = "permanent", _("Permanent")
        TEMPORARY = "temporary", _("Temporary")
        CAMPAIGN_VOLUNTEER = "campaign_volunteer", _("Campaign volunteer")

    class WorkMode(models.TextChoices):
        ON_SITE = "on_site", _("On site")
        REMOTE = "remote", _("Remote")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="agent"
    )
    employee_number = models.CharField(_("employee number"), max_length=20, unique=True)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, null=True, blank=True, related_name="agents"
    )
    # Usually the team's supervisor; kept per agent for agents coached by someone else.
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supervisor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supervised_agents",
    )
    skills = models.ManyToManyField(Skill, through="AgentSkill", verbose_name=_("skills"), blank=True)
    languages = models.ManyToManyField(Language, verbose_name=_("spoken languages"), blank=True)
    hire_date = models.DateField(_("hire date"))
    employment_status = models.CharField(
        _("employment status"), max_length=16, choices=EmploymentStatus.choices, default=EmploymentStatus.ACTIVE
    )
    contract_type = models.CharField(
        _("contract type"), max_length=24, choices=ContractType.choices, default=ContractType.PERMANENT
    )
    calls_per_day_target = models.PositiveSmallIntegerField(
        _("calls per day (target)"), default=60, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    aht_target_s = models.PositiveIntegerField(
        _("average handle time target (s)"), default=300, validators=[MinValueValidator(1), MaxValueValidator(7200)]
    )
    work_mode = models.CharField(_("work mode"), max_length=8, choices=WorkMode.choices, default=WorkMode.ON_SITE)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        constraints = [
            models.CheckConstraint(
                condition=Q(calls_per_day_target__gte=1) & Q(aht_target_s__gte=1), name="agent_targets_positive"
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.employee_number})"


class AgentSkill(models.Model):
    """An agent's level in a skill: 1 (trained) to 5 (expert)."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="skill_levels")
    skill = models.ForeignKey(Skill, verbose_name=_("skill"), on_delete=models.CASCADE, related_name="agent_levels")
    level = models.PositiveSmallIntegerField(
        _("level"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        verbose_name = _("agent skill")
        verbose_name_plural = _("agent skills")
        constraints = [
            models.UniqueConstraint(fields=["agent", "skill"], name="agent_skill_unique"),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=5), name="agent_skill_level_1_5"),
        ]

    def __str__(self):
        return f"{self.skill} ({self.level})"


class EmploymentContract(models.Model):
    """Contract and pay: HR and managers only (trainers and supervisors never see it)."""

    agent = models.OneToOneField(Agent, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="contract")
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    weekly_hours = models.DecimalField(
        _("weekly hours"),
        max_digits=4,
        decimal_places=1,
        default=35,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    gross_monthly_salary = models.DecimalField(
        _("gross monthly salary"), max_digits=9, decimal_places=2, validators=[MinValueValidator(0)]
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("employment contract")
        verbose_name_plural = _("employment contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="contract_ends_after_start",
            ),
        ]

    def __str__(self):
        return str(self.agent)


class TrainingCourse(models.Model):
    """A course trainers run: product knowledge, tools, soft skills, onboarding."""

    title = models.CharField(_("title"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    skill = models.ForeignKey(
        Skill,
        verbose_name=_("skill taught"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="courses",
    )
    duration_hours = models.DecimalField(_("duration (hours)"), max_digits=5, decimal_places=1, default=1)
    passing_score = models.PositiveSmallIntegerField(
        _("passing score"), default=70, validators=[MaxValueValidator(100)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("training course")
        verbose_name_plural = _("training courses")

    def __str__(self):
        return self.title


class TrainingRecord(models.Model):
    """One agent's attendance of one course session, with its result."""

    agent = models.ForeignKey(Agent, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="training")
    course = models.ForeignKey(
        TrainingCourse, verbose_name=_("course"), on_delete=models.PROTECT, related_name="records"
    )
    trainer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("trainer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="trainings_given",
    )
    date = models.DateField(_("date"))
    score = models.DecimalField(
        _("score (0-100)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    passed = models.BooleanField(_("passed"), default=False)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100), name="training_score_0_100"
            ),
        ]

    def __str__(self):
        return f"{self.agent} – {self.course} ({self.date})"


class OnboardingStep(models.Model):
    """One item of the checklist every new hire goes through (badge, tools, first calls)."""

    title = models.CharField(_("title"), max_length=200, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    course = models.ForeignKey(
        TrainingCourse, verbose_name=_("course"), on_delete=models.SET_NULL, null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("onboarding step")
        verbose_name_plural = _("onboarding steps")

    def __str__(self):
        return self.title


class OnboardingTask(models.Model):
    """A new hire's copy of one onboarding step, ticked when done."""

    agent = models.ForeignKey(Agent, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="onboarding")
    step = models.ForeignKey(OnboardingStep, verbose_name=_("step"), on_delete=models.PROTECT)
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
        ordering = ["step__position"]
        verbose_name = _("onboarding task")
        verbose_name_plural = _("onboarding tasks")
        constraints = [models.UniqueConstraint(fields=["agent", "step"], name="onboarding_task_unique")]

    def __str__(self):
        return f"{self.agent}: {self.step}"
