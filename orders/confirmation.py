"""The confirmation summary the agent reads back to the client before submitting."""

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _

from .models import Order


def order_confirmation_summary(order: Order, *, language: str | None = None) -> str:
    """The text read back to the client, in their preferred language when the center speaks it
    (else the agent's current language). Never mentions cash: it is not a payment method."""
    supported = {code for code, _name in settings.LANGUAGES}
    client_language = getattr(order.client.preferred_language, "code", None)
    language = language or (client_language if client_language in supported else translation.get_language())
    with translation.override(language):
        lines = [
            _("Order %(reference)s for %(client)s.") % {"reference": order.reference, "client": order.client.full_name},
            _("You are ordering: %(what)s.") % {"what": order.what or _("(not chosen yet)")},
        ]
        if order.offer_id and order.offer.terms:
            lines.append(_("Terms: %(terms)s") % {"terms": order.offer.terms})
        if order.offer_id and order.offer.commitment_months:
            lines.append(_("Commitment: %(months)d months.") % {"months": order.offer.commitment_months})
        address = ", ".join(p for p in (order.address_line, f"{order.postal_code} {order.city}".strip()) if p)
        if address:
            lines.append(_("Address: %(address)s.") % {"address": address})
        if order.scheduled_date:
            day = formats.date_format(order.scheduled_date, "DATE_FORMAT")
            if order.visit_from and order.visit_to:
                lines.append(
                    _("Visit on %(day)s between %(start)s and %(end)s.")
                    % {
                        "day": day,
                        "start": formats.time_format(order.visit_from, "TIME_FORMAT"),
                        "end": formats.time_format(order.visit_to, "TIME_FORMAT"),
                    }
                )
            else:
                lines.append(_("Scheduled on %(day)s.") % {"day": day})
        if order.materials:
            lines.append(_("Equipment: %(materials)s.") % {"materials": order.materials})
        amount = formats.number_format(order.amount, 2, use_l10n=True)
        if order.payment_method:
            lines.append(
                _("You will pay %(amount)s € by %(method)s.")
                % {"amount": amount, "method": order.get_payment_method_display().lower()}
            )
        else:
            lines.append(_("Amount: %(amount)s €.") % {"amount": amount})
        if (order.offer_id and order.offer.needs_technician) or order.visit_from:
            lines.append(_("The technician never takes cash: please do not pay them in person."))
        if order.agent_id:
            lines.append(
                _("Your adviser: %(agent)s.") % {"agent": order.agent.user.get_full_name() or order.agent.user}
            )
        return "\n".join(lines)
