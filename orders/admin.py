"""Orders in the back office (managers). Status moves go through the order page or the API
(orders.services), so they are read-only here; history rows are never edited."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import FollowUp, Order, OrderStatusChange


class OrderStatusChangeInline(admin.TabularInline):
    model = OrderStatusChange
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "by", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    extra = 0
    fields = ("description", "assigned_to", "due_at", "status", "escalated_to", "resolution")
    readonly_fields = ("status", "escalated_to")
    autocomplete_fields = ("assigned_to",)

    def has_add_permission(self, request, obj=None):
        return False  # a problem is reported from the order page (it moves the order too)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("__str__", "status", "what", "scheduled_date", "city", "amount", "payment_method", "agent")
    list_filter = ("status", "payment_method", "offer", ("scheduled_date", admin.DateFieldListFilter))
    search_fields = ("client__full_name", "city", "postal_code")
    date_hierarchy = "created_at"
    readonly_fields = ("status", "outcome", "taken_by", "created_at", "updated_at")
    raw_id_fields = ("client", "agent")
    list_select_related = ("client", "offer", "agent__user")
    inlines = [FollowUpInline, OrderStatusChangeInline]

    def get_queryset(self, request):
        return selectors.orders_for_user(user=request.user)

    @admin.display(description=_("offer or service"))
    def what(self, order):
        return order.what


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("order", "assigned_to", "due_at", "status", "escalated_at", "escalated_to")
    list_filter = ("status", ("escalated_at", admin.EmptyFieldListFilter))
    readonly_fields = ("order", "created_by", "created_at", "escalated_at", "escalated_to", "done_at", "done_by")
    autocomplete_fields = ("assigned_to",)
    list_select_related = ("order__client", "assigned_to", "escalated_to")

    def get_queryset(self, request):
        return selectors.followups_for_user(user=request.user)
