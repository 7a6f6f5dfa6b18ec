"""The back office for planning: managers keep the shift templates, HR and managers move
a week's day-off deadline. Shifts, requests and swaps are read-only here: they change
through the pages and the API, whose services check overlaps, deadlines, staffing and
access, and keep the history."""

from django.contrib import admin

from .models import DayOffDeadline, DayOffRequest, DayOffTransition, Shift, ShiftBreak, ShiftSwap, ShiftTemplate


@admin.register(ShiftTemplate)
class ShiftTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "start_time", "end_time", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)


@admin.register(DayOffDeadline)
class DayOffDeadlineAdmin(admin.ModelAdmin):
    list_display = ("week_start", "deadline_at")
    date_hierarchy = "week_start"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ShiftBreakInline(admin.TabularInline):
    model = ShiftBreak
    extra = 0
    can_delete = False
    readonly_fields = ("start_at", "end_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin):
    list_display = ("agent", "date", "start_at", "end_at", "template", "state", "is_published")
    list_filter = ("state", "is_published", "template", "agent__team")
    date_hierarchy = "date"
    search_fields = ("agent__user__username", "agent__user__last_name", "agent__employee_number")
    list_select_related = ("agent__user", "template")
    inlines = [ShiftBreakInline]


class DayOffTransitionInline(admin.TabularInline):
    model = DayOffTransition
    extra = 0
    can_delete = False
    readonly_fields = ("from_state", "to_state", "at", "by", "comment")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DayOffRequest)
class DayOffRequestAdmin(ReadOnlyAdmin):
    list_display = ("agent", "week_start", "state", "decided_by", "decided_at")
    list_filter = ("state", "agent__team")
    date_hierarchy = "week_start"
    search_fields = ("agent__user__username", "agent__user__last_name", "agent__employee_number")
    list_select_related = ("agent__user", "decided_by")
    inlines = [DayOffTransitionInline]


@admin.register(ShiftSwap)
class ShiftSwapAdmin(ReadOnlyAdmin):
    list_display = ("shift", "offered_by", "taken_by", "state", "decided_by")
    list_filter = ("state",)
    list_select_related = ("shift__agent__user", "offered_by__user", "taken_by__user", "decided_by")
