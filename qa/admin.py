"""The quality back office: QA analysts keep the scorecards here; HR and managers read
evaluations and self-reported results; reviews are shown read only (they change only
through the review workflow on the pages and the API).

A scorecard version that a review uses is frozen: its sections and criteria are shown
read only, and changing the grid means "Create a new version" (a copy to edit, then publish).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contactcenter.errors import ApplicationError

from . import services
from .models import (
    CalibrationSession,
    CoachingAction,
    Criterion,
    Evaluation,
    Review,
    ReviewAssignment,
    ReviewScore,
    SamplingRun,
    Scorecard,
    ScorecardVersion,
    Section,
    SelfReport,
)
from .services.scorecards import scorecard_version_assert_editable


def _version_of(obj) -> ScorecardVersion | None:
    if isinstance(obj, ScorecardVersion):
        return obj
    if isinstance(obj, Section):
        return obj.version
    if isinstance(obj, Criterion):
        return obj.section.version
    return None


class EditableOnlyWhileUnusedMixin:
    """Change and delete only while the scorecard version is not used by any review."""

    def has_change_permission(self, request, obj=None):
        version = _version_of(obj)
        if version is not None and version.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        version = _version_of(obj)
        if version is not None and version.is_frozen:
            return False
        return super().has_delete_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        version = _version_of(obj)
        if version is not None and version.is_frozen:
            return False
        if isinstance(self, admin.options.InlineModelAdmin):
            return super().has_add_permission(request, obj)
        return super().has_add_permission(request)


class _RefuseFrozenForm(forms.ModelForm):
    """Refuses a section or criterion placed in a frozen version (the add pages choose it)."""

    def _check_version(self, version):
        if version is not None:
            try:
                scorecard_version_assert_editable(version)
            except ApplicationError as exc:
                raise ValidationError(exc.message) from None


class SectionForm(_RefuseFrozenForm):
    class Meta:
        model = Section
        fields = ["version", "title", "position"]

    def clean(self):
        cleaned = super().clean()
        self._check_version(cleaned.get("version"))
        return cleaned


class CriterionForm(_RefuseFrozenForm):
    class Meta:
        model = Criterion
        fields = [
            "section",
            "label",
            "guidance",
            "position",
            "weight",
            "scale",
            "max_points",
            "allows_na",
            "is_critical",
        ]

    def clean(self):
        cleaned = super().clean()
        section = cleaned.get("section")
        self._check_version(section.version if section else None)
        if cleaned.get("scale") == Criterion.Scale.YES_NO and cleaned.get("max_points") not in (None, 1):
            self.add_error("max_points", _("A yes/no criterion is worth 1 point."))
        return cleaned


class CriterionInline(EditableOnlyWhileUnusedMixin, admin.TabularInline):
    model = Criterion
    form = CriterionForm
    extra = 0
    fields = ["position", "label", "weight", "scale", "max_points", "allows_na", "is_critical", "guidance"]


class SectionInline(EditableOnlyWhileUnusedMixin, admin.TabularInline):
    model = Section
    form = SectionForm
    extra = 0
    fields = ["position", "title"]
    show_change_link = True


class VersionInline(admin.TabularInline):
    model = ScorecardVersion
    extra = 0
    fields = ["number", "published_at", "frozen_at", "notes"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    inlines = [VersionInline]
    actions = ["create_next_version"]

    @admin.action(description=_("Create a new version (a copy of the latest, to edit then publish)"))
    def create_next_version(self, request, queryset):
        for scorecard in queryset:
            version = services.scorecard_version_create_next(scorecard=scorecard)
            self.message_user(request, _("%(version)s created.") % {"version": version}, messages.SUCCESS)


@admin.register(ScorecardVersion)
class ScorecardVersionAdmin(EditableOnlyWhileUnusedMixin, admin.ModelAdmin):
    list_display = ["__str__", "published_at", "frozen_at"]
    list_filter = ["scorecard"]
    fields = ["scorecard", "number", "notes", "published_at", "frozen_at"]
    readonly_fields = ["scorecard", "number", "published_at", "frozen_at"]
    inlines = [SectionInline]
    actions = ["publish"]

    def has_add_permission(self, request, obj=None):
        return False  # versions are made by the scorecard's "Create a new version" action

    @admin.action(description=_("Publish (new reviews use the latest published version)"))
    def publish(self, request, queryset):
        for version in queryset:
            try:
                services.scorecard_version_publish(version=version)
            except ApplicationError as exc:
                self.message_user(request, f"{version}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("%(version)s published.") % {"version": version}, messages.SUCCESS)


@admin.register(Section)
class SectionAdmin(EditableOnlyWhileUnusedMixin, admin.ModelAdmin):
    form = SectionForm
    list_display = ["title", "version", "position"]
    list_filter = ["version__scorecard"]
    inlines = [CriterionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("version__scorecard")


@admin.register(Criterion)
class CriterionAdmin(EditableOnlyWhileUnusedMixin, admin.ModelAdmin):
    form = CriterionForm
    list_display = ["label", "section", "weight", "scale", "max_points", "is_critical"]
    list_filter = ["section__version__scorecard", "is_critical", "scale"]
    search_fields = ["label"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("section__version__scorecard")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that change only through their workflow: shown, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReviewScoreInline(admin.TabularInline):
    model = ReviewScore
    fields = ["criterion", "points", "failed", "comment"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["id", "agent", "reviewer", "kind", "status", "score_pct", "critical_failed", "submitted_at"]
    list_filter = ["status", "kind", "critical_failed", "scorecard_version__scorecard"]
    search_fields = ["agent__user__last_name", "agent__employee_number", "reviewer__username"]
    list_select_related = ["agent__user", "reviewer"]
    inlines = [ReviewScoreInline]


@admin.register(ReviewAssignment)
class ReviewAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["week_start", "analyst", "agent", "call", "review"]
    list_filter = ["week_start", "analyst"]
    list_select_related = ["analyst", "agent__user", "call", "review"]


@admin.register(SamplingRun)
class SamplingRunAdmin(ReadOnlyAdmin):
    list_display = ["week_start", "ran_at", "assigned_count"]


@admin.register(CalibrationSession)
class CalibrationSessionAdmin(ReadOnlyAdmin):
    list_display = ["title", "call", "status", "created_by", "created_at"]
    list_filter = ["status"]


@admin.register(CoachingAction)
class CoachingActionAdmin(ReadOnlyAdmin):
    list_display = ["agent", "kind", "course", "due_date", "done_at", "created_by"]
    list_filter = ["kind", "course"]
    list_select_related = ["agent__user", "course", "created_by"]


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["agent", "period_start", "period_end", "status", "supervisor", "qa_average_pct", "agent_signed_at"]
    list_filter = ["status", "period_start"]
    search_fields = ["agent__user__last_name", "agent__employee_number"]
    list_select_related = ["agent__user", "supervisor"]


@admin.register(SelfReport)
class SelfReportAdmin(ReadOnlyAdmin):
    list_display = ["agent", "date", "applications_signed", "sales", "collections_amount", "status", "confirmed_sales"]
    list_filter = ["status", "date"]
    search_fields = ["agent__user__last_name", "agent__employee_number"]
    list_select_related = ["agent__user"]
