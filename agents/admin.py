"""The HR and trainers' back office.

What each role may do here is the permissions of its group (agents/roles.py and
the data migrations): HR manage agents, contracts and training; trainers see
agents and manage courses, training records, skills levels and onboarding, but
neither edit agents nor ever see contracts and pay.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from .models import (
    Agent,
    AgentSkill,
    EmploymentContract,
    Language,
    OnboardingStep,
    OnboardingTask,
    Skill,
    Team,
    TrainingCourse,
    TrainingRecord,
    User,
)
from .resources import AgentResource, TrainingRecordResource


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("Preferences"), {"fields": ("time_zone",)}),)
    list_filter = ("groups", "is_staff", "is_active")


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "supervisor", "manager")
    list_filter = ("kind",)
    search_fields = ("name",)
    autocomplete_fields = ("supervisor", "manager")


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


class AgentSkillInline(admin.TabularInline):
    model = AgentSkill
    extra = 0
    autocomplete_fields = ("skill",)


class EmploymentContractInline(admin.StackedInline):
    # Shown only to users with a permission on contracts (HR, managers); Django's
    # inline permission checks hide it from trainers entirely.
    model = EmploymentContract
    extra = 0
    max_num = 1


class OnboardingTaskInline(admin.TabularInline):
    model = OnboardingTask
    extra = 0
    fields = ("step", "done_at", "done_by")
    autocomplete_fields = ("done_by",)


class TrainingRecordInline(admin.TabularInline):
    model = TrainingRecord
    extra = 0
    fields = ("course", "date", "trainer", "score", "passed")
    autocomplete_fields = ("course", "trainer")


@admin.register(Agent)
class AgentAdmin(ImportExportModelAdmin):
    resource_classes = [AgentResource]
    list_display = ("employee_number", "user", "team", "supervisor", "contract_type", "employment_status", "hire_date")
    list_filter = ("team", "employment_status", "contract_type", "work_mode", "languages")
    search_fields = ("employee_number", "user__username", "user__first_name", "user__last_name", "user__email")
    date_hierarchy = "hire_date"
    autocomplete_fields = ("user", "team", "supervisor")
    filter_horizontal = ("languages",)
    list_select_related = ("user", "team", "supervisor")
    inlines = [AgentSkillInline, TrainingRecordInline, OnboardingTaskInline, EmploymentContractInline]


@admin.register(EmploymentContract)
class EmploymentContractAdmin(admin.ModelAdmin):
    list_display = ("agent", "start_date", "end_date", "weekly_hours", "gross_monthly_salary")
    search_fields = ("agent__employee_number", "agent__user__last_name")
    autocomplete_fields = ("agent",)
    list_select_related = ("agent__user",)


@admin.register(TrainingCourse)
class TrainingCourseAdmin(admin.ModelAdmin):
    list_display = ("title", "skill", "duration_hours", "passing_score", "is_active")
    list_filter = ("is_active", "skill")
    search_fields = ("title",)
    autocomplete_fields = ("skill",)


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ImportExportModelAdmin):
    resource_classes = [TrainingRecordResource]
    list_display = ("agent", "course", "date", "trainer", "score", "passed")
    list_filter = ("course", "passed", "agent__team")
    search_fields = ("agent__employee_number", "agent__user__last_name", "course__title")
    date_hierarchy = "date"
    autocomplete_fields = ("agent", "course", "trainer")
    list_select_related = ("agent__user", "course", "trainer")


@admin.register(OnboardingStep)
class OnboardingStepAdmin(admin.ModelAdmin):
    list_display = ("title", "position", "course", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("title",)


@admin.register(OnboardingTask)
class OnboardingTaskAdmin(admin.ModelAdmin):
    list_display = ("agent", "step", "done_at", "done_by")
    list_filter = ("step", ("done_at", admin.EmptyFieldListFilter))
    search_fields = ("agent__employee_number", "agent__user__last_name")
    autocomplete_fields = ("agent", "done_by")
    list_select_related = ("agent__user", "step", "done_by")
