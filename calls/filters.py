"""Filters of the dashboard's call log and its CSV export."""

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Call, Disposition, Queue


class CallLogFilter(django_filters.FilterSet):
    offered_from = django_filters.DateFilter(field_name="offered_at", lookup_expr="date__gte", label=_("From"))
    offered_to = django_filters.DateFilter(field_name="offered_at", lookup_expr="date__lte", label=_("To"))
    queue = django_filters.ModelChoiceFilter(queryset=Queue.objects.all(), label=_("Queue"))
    state = django_filters.ChoiceFilter(choices=Call.State.choices, label=_("State"))
    direction = django_filters.ChoiceFilter(choices=Call.Direction.choices, label=_("Direction"))
    disposition = django_filters.ModelChoiceFilter(
        queryset=Disposition.objects.all(), field_name="disposition", label=_("Outcome")
    )
    escalated = django_filters.BooleanFilter(label=_("Escalated"))
    caller_number = django_filters.CharFilter(lookup_expr="startswith", label=_("Number starts with"))

    class Meta:
        model = Call
        fields = ["offered_from", "offered_to", "queue", "state", "direction", "disposition", "escalated"]

    def __init__(self, *args, queues=None, **kwargs):
        super().__init__(*args, **kwargs)
        if queues is not None:  # only the queues the user watches are offered as a choice
            self.filters["queue"].queryset = queues
