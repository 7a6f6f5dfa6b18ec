"""Forms of the order pages: they parse input; orders.services checks the rules."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Offer

from .models import Order

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class OrderForm(forms.Form):
    offer = forms.ModelChoiceField(label=_("Offer"), queryset=Offer.objects.none(), required=False)
    service = forms.CharField(label=_("Or the service"), max_length=200, required=False)
    address_line = forms.CharField(label=_("Address"), max_length=255, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=16, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.CharField(label=_("Country"), max_length=2, initial="FR")
    scheduled_date = forms.DateField(label=_("Date"), required=False, widget=DATE)
    visit_from = forms.TimeField(label=_("Visit window from"), required=False, widget=TIME)
    visit_to = forms.TimeField(label=_("to"), required=False, widget=TIME)
    materials = forms.CharField(label=_("Materials needed"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    amount = forms.DecimalField(label=_("Amount the client pays (€)"), max_digits=10, decimal_places=2, min_value=0)
    payment_method = forms.ChoiceField(
        label=_("Payment"), choices=[("", "—"), *Order.PaymentMethod.choices], required=False
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, editable=None, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["offer"].queryset = Offer.objects.filter(active_from__lte=today).exclude(active_to__lt=today)
        if editable is not None:
            for name in list(self.fields):
                if name not in editable:
                    del self.fields[name]


class ScheduleForm(forms.Form):
    scheduled_date = forms.DateField(label=_("Date"), widget=DATE)
    visit_from = forms.TimeField(label=_("Visit from"), required=False, widget=TIME)
    visit_to = forms.TimeField(label=_("to"), required=False, widget=TIME)


class ProblemForm(forms.Form):
    description = forms.CharField(label=_("What went wrong"), widget=forms.Textarea(attrs={"rows": 2}))
    assigned_to = forms.ModelChoiceField(label=_("Assigned to"), queryset=get_user_model().objects.none())
    due_at = forms.DateTimeField(
        label=_("Due"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # People who sort out problems: agents, supervisors and managers.
        self.fields["assigned_to"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, groups__name__in=["agent", "supervisor", "manager"])
            .distinct()
            .order_by("last_name", "first_name", "username")
        )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class ResolveForm(forms.Form):
    resolution = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}))
