"""The back-office filters of the order list, shared by the page, the API and the CSV export."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import FollowUp, Order


class OrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Client or reference"))
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices, label=_("Status"))
    payment_method = django_filters.ChoiceFilter(choices=Order.PaymentMethod.choices, label=_("Payment method"))
    scheduled_from = django_filters.DateFilter(
        field_name="scheduled_date", lookup_expr="gte", label=_("Scheduled from")
    )
    scheduled_to = django_filters.DateFilter(field_name="scheduled_date", lookup_expr="lte", label=_("Scheduled to"))
    created_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("Created from"))
    created_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("Created to"))
    city = django_filters.CharFilter(lookup_expr="icontains", label=_("City"))
    has_open_followup = django_filters.BooleanFilter(method="open_followup", label=_("Open follow-up"))

    class Meta:
        model = Order
        fields = ["q", "status", "offer", "agent", "payment_method", "city"]

    def search(self, queryset, name, value):
        value = value.strip()
        condition = Q(client__full_name__icontains=value)
        reference = value.upper().removeprefix("CMD-").lstrip("0")
        if reference.isdigit():
            condition |= Q(pk=int(reference))
        return queryset.filter(condition)

    def open_followup(self, queryset, name, value):
        if value is None:
            return queryset
        has_open = Q(followups__status=FollowUp.Status.OPEN)
        return queryset.filter(has_open).distinct() if value else queryset.exclude(has_open)


class FollowUpFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FollowUp.Status.choices, label=_("Status"))
    escalated = django_filters.BooleanFilter(
        field_name="escalated_at", lookup_expr="isnull", exclude=True, label=_("Escalated")
    )

    class Meta:
        model = FollowUp
        fields = ["status", "assigned_to", "escalated"]
