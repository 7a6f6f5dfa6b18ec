"""The back office for calls: managers set up queues and dispositions; the rest is read-only
history (calls, events, presence, callbacks change only through the services)."""

from django.contrib import admin

from .models import (
    AgentPresence,
    Call,
    Callback,
    CallbackStateChange,
    CallEvent,
    CallStateChange,
    Disposition,
    PresenceInterval,
    Queue,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is written by the services only: nobody edits it by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "priority",
        "required_skill",
        "required_language",
        "service_level_threshold_s",
        "service_level_target_pct",
        "is_active",
    ]
    list_filter = ["is_active", "required_language"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["teams"]
    search_fields = ["name", "slug"]


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "active"]
    list_filter = ["active"]


class CallStateChangeInline(admin.TabularInline):
    model = CallStateChange
    fields = ["at", "from_state", "to_state", "agent", "by", "cause"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "queue", "state", "caller_number", "agent", "offered_at", "wait_s", "talk_s"]
    list_filter = ["state", "direction", "queue", "escalated"]
    list_select_related = ["queue", "agent__user"]
    search_fields = ["external_id", "caller_number"]
    date_hierarchy = "offered_at"
    inlines = [CallStateChangeInline]


@admin.register(CallEvent)
class CallEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "external_call_id", "result", "response_status", "received_at"]
    list_filter = ["type", "result", "response_status"]
    search_fields = ["event_id", "external_call_id"]


@admin.register(AgentPresence)
class AgentPresenceAdmin(ReadOnlyAdmin):
    list_display = ["agent", "state", "reason", "since", "idle_since"]
    list_filter = ["state"]
    list_select_related = ["agent__user"]


@admin.register(PresenceInterval)
class PresenceIntervalAdmin(ReadOnlyAdmin):
    list_display = ["agent", "state", "reason", "started_at", "ended_at", "cause"]
    list_filter = ["state", "reason"]
    list_select_related = ["agent__user"]
    date_hierarchy = "started_at"


class CallbackStateChangeInline(admin.TabularInline):
    model = CallbackStateChange
    fields = ["at", "from_state", "to_state", "by", "cause"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Callback)
class CallbackAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "state", "queue", "owner", "due_at", "attempts"]
    list_filter = ["state", "kind", "queue"]
    list_select_related = ["queue", "owner__user"]
    search_fields = ["number"]
    inlines = [CallbackStateChangeInline]
