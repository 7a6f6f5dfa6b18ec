"""Forms of the desk pages: they parse input; clients.services checks the rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ContactOutcome, Offer, RefusalReason, StayReason


class OutcomeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.Kind.choices, widget=forms.RadioSelect)
    offer = forms.ModelChoiceField(label=_("Offer"), queryset=Offer.objects.none(), required=False)
    refusal_reason = forms.ModelChoiceField(
        label=_("Refusal reason"), queryset=RefusalReason.objects.filter(is_active=True), required=False
    )
    refusal_text = forms.CharField(label=_("In the client's words"), max_length=500, required=False)
    callback_at = forms.DateTimeField(
        label=_("Call back at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["offer"].queryset = Offer.objects.filter(active_from__lte=today).exclude(active_to__lt=today)


class SurveyForm(forms.Form):
    provider = forms.CharField(label=_("Provider"), max_length=100, required=False)
    reason = forms.ModelChoiceField(label=_("Why they stay"), queryset=StayReason.objects.filter(is_active=True))
    text = forms.CharField(label=_("In the client's words"), max_length=500, required=False)
    satisfaction = forms.TypedChoiceField(
        label=_("Satisfaction with the provider"),
        choices=[("", "—")] + [(i, str(i)) for i in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
    )


def add_domain_errors(form: forms.Form, error) -> None:
    """Put a service's field errors on the form's fields (others on the form itself)."""
    for field, message in error.fields.items():
        form.add_error(field if field in form.fields else None, str(message))
    if not error.fields:
        form.add_error(None, error.message)
