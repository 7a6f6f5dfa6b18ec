"""Every write on orders: the form, the status machine, problems and their follow-ups."""

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent
from contactcenter.errors import ApplicationError, Conflict

from .addresses import address_normalise
from .models import FollowUp, Order, OrderStatusChange

Status = Order.Status

# Fields of the order form, and those the back office may still change once it is submitted.
FORM_FIELDS = (
    "offer",
    "service",
    "address_line",
    "postal_code",
    "city",
    "country",
    "scheduled_date",
    "visit_from",
    "visit_to",
    "materials",
    "amount",
    "payment_method",
    "notes",
)
SCHEDULING_FIELDS = ("scheduled_date", "visit_from", "visit_to", "materials", "notes")
EDITABLE_FIELDS = {
    Status.DRAFT: FORM_FIELDS,
    Status.SUBMITTED: SCHEDULING_FIELDS,
    Status.SCHEDULED: SCHEDULING_FIELDS,
    Status.PROBLEM: SCHEDULING_FIELDS,
    Status.COMPLETED: (),
    Status.CANCELLED: (),
}
ADDRESS_FIELDS = ("address_line", "postal_code", "city", "country")


def _clean(order: Order, values: dict) -> dict:
    """Check and normalise form values; raise ApplicationError with field messages."""
    errors = {}
    cleaned = dict(values)
    if "amount" in values:
        try:
            amount = Decimal(str(values["amount"] if values["amount"] not in (None, "") else "0"))
            if not amount.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["amount"] = _("Not an amount.")
        else:
            if amount < 0:
                errors["amount"] = _("The amount cannot be negative.")
            elif amount >= Decimal("100000000"):
                errors["amount"] = _("The amount is too large.")
            cleaned["amount"] = amount.quantize(Decimal("0.01"))
    if "payment_method" in values:
        method = values["payment_method"] or ""
        if method == "cash":
            errors["payment_method"] = _("Never cash to the technician: card, direct debit, transfer or invoice.")
        elif method and method not in Order.PaymentMethod.values:
            errors["payment_method"] = _("Unknown payment method.")
    if any(name in values for name in ADDRESS_FIELDS):
        given = {name: values.get(name, getattr(order, name)) for name in ADDRESS_FIELDS}
        address, address_errors = address_normalise(
            line=given["address_line"], postal_code=given["postal_code"], city=given["city"], country=given["country"]
        )
        # Emptiness is checked when the order is submitted; a wrong value at once.
        errors.update({k: v for k, v in address_errors.items() if given.get(k) or k == "country"})
        cleaned.update(
            address_line=address.line, postal_code=address.postal_code, city=address.city, country=address.country
        )
    visit_from = values.get("visit_from", order.visit_from)
    visit_to = values.get("visit_to", order.visit_to)
    if isinstance(visit_from, time) and isinstance(visit_to, time) and visit_to <= visit_from:
        errors["visit_to"] = _("The visit window must end after it starts.")
    scheduled = values.get("scheduled_date")
    if isinstance(scheduled, date) and scheduled < timezone.localdate() and scheduled != order.scheduled_date:
        errors["scheduled_date"] = _("This date is in the past.")
    offer = values.get("offer")
    if offer is not None and offer != order.offer and not offer.is_active_on(timezone.localdate()):
        errors["offer"] = _("This offer is not on sale today.")
    if "service" in values:
        cleaned["service"] = (values["service"] or "").strip()[:200]
    if errors:
        raise ApplicationError(_("The order has errors."), fields=errors)
    return cleaned


def order_create(
    *, by, client, offer=None, service: str = "", outcome=None, agent: Agent | None = None, **fields
) -> Order:
    """Open a draft order for a client, with the client's address and the offer's price as a
    start. Called by the outcome form (accepted) or from the desk's order form."""
    unknown = set(fields) - set(FORM_FIELDS)
    if unknown:
        raise ApplicationError(_("Unknown fields: %s") % ", ".join(sorted(unknown)))
    with transaction.atomic():
        # The client's address as a start, tidied but not checked (the agent confirms it
        # before submitting); an address given here is checked at once.
        address, _unchecked = address_normalise(
            line=client.address_line, postal_code=client.postal_code, city=client.city, country=client.country
        )
        order = Order(
            client=client,
            taken_by=by,
            agent=agent if agent is not None else Agent.objects.filter(user=by).first(),
            outcome=outcome,
            address_line=address.line,
            postal_code=address.postal_code,
            city=address.city,
            country=address.country,
        )
        values = {"offer": offer, "service": service, **fields}
        if offer is not None and "amount" not in fields:
            values["amount"] = offer.price
        for name, value in _clean(order, values).items():
            setattr(order, name, value)
        order.save()
        OrderStatusChange.objects.create(order=order, from_status="", to_status=Status.DRAFT, by=by)
    return order


def order_update(*, order: Order, by, **values) -> Order:
    """Change the order form. A draft is wholly editable; once submitted only the
    scheduling fields are; a completed or cancelled order is not."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        allowed = EDITABLE_FIELDS[order.status]
        refused = [name for name in values if name not in allowed]
        if refused:
            raise Conflict(
                _("These fields cannot be changed on a %(status)s order: %(fields)s")
                % {"status": order.get_status_display().lower(), "fields": ", ".join(refused)},
                code="not_editable",
            )
        cleaned = _clean(order, values)
        for name, value in cleaned.items():
            setattr(order, name, value)
        if cleaned:
            order.save(update_fields=[*cleaned, "updated_at"])
    return order


def _transition(order: Order, to: str, *, by, note: str = "", check=None, changes: dict | None = None) -> Order:
    """The one status transition: lock, check Order.TRANSITIONS (and `check`), save, history."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("offer").get(pk=order.pk)
        if to not in Order.TRANSITIONS.get(order.status, set()):
            raise Conflict(
                _("A %(from)s order cannot become %(to)s.")
                % {"from": order.get_status_display().lower(), "to": Status(to).label.lower()},
                code="illegal_transition",
            )
        for name, value in (changes or {}).items():
            setattr(order, name, value)
        if check:
            check(order)
        OrderStatusChange.objects.create(
            order=order, from_status=order.status, to_status=to, by=by, note=(note or "").strip()[:500]
        )
        order.status = to
        order.save(update_fields=["status", "updated_at", *(changes or {})])
    return order


def _check_complete(order: Order) -> None:
    errors = {}
    if not order.offer_id and not order.service:
        errors["offer"] = _("Choose an offer or describe the service.")
    _address, address_errors = address_normalise(
        line=order.address_line, postal_code=order.postal_code, city=order.city, country=order.country
    )
    errors.update(address_errors)
    if not order.payment_method:
        errors["payment_method"] = _("How will the client pay?")
    if errors:
        raise ApplicationError(_("The order is not complete."), fields=errors, code="incomplete")


def order_submit(*, order: Order, by, note: str = "") -> Order:
    """The agent has read the summary back to the client: the order goes to the back office."""
    return _transition(order, Status.SUBMITTED, by=by, note=note, check=_check_complete)


def order_schedule(
    *, order: Order, by, scheduled_date: date, visit_from: time | None = None, visit_to: time | None = None, note=""
) -> Order:
    """Book the date (and, for a technician, the visit window)."""
    values = {"scheduled_date": scheduled_date, "visit_from": visit_from, "visit_to": visit_to}
    if scheduled_date is None:
        raise ApplicationError(_("A date is required."), fields={"scheduled_date": _("A date is required.")})
    order = Order.objects.select_related("offer").get(pk=order.pk)
    if order.offer_id and order.offer.needs_technician and (visit_from is None or visit_to is None):
        raise ApplicationError(
            _("A technician visit needs a time window."), fields={"visit_from": _("Give the visit window.")}
        )
    values = _clean(order, values)
    return _transition(order, Status.SCHEDULED, by=by, note=note, changes=values)


def order_complete(*, order: Order, by, note: str = "") -> Order:
    return _transition(order, Status.COMPLETED, by=by, note=note)


def order_cancel(*, order: Order, by, reason: str) -> Order:
    if not (reason or "").strip():
        raise ApplicationError(_("Say why the order is cancelled."), fields={"note": _("A reason is required.")})
    return _transition(order, Status.CANCELLED, by=by, note=reason)


def order_report_problem(*, order: Order, by, description: str, assigned_to, due_at: datetime) -> FollowUp:
    """Something went wrong (the installers did not come): the order is in problem and a
    follow-up is assigned to a person with a due time (escalated when overdue)."""
    errors = {}
    if not (description or "").strip():
        errors["description"] = _("Describe the problem.")
    if assigned_to is None:
        errors["assigned_to"] = _("Who sorts it out?")
    if due_at is None:
        errors["due_at"] = _("By when?")
    elif due_at <= timezone.now():
        errors["due_at"] = _("The due time must be in the future.")
    if errors:
        raise ApplicationError(_("The problem could not be reported."), fields=errors)
    with transaction.atomic():
        order = _transition(order, Status.PROBLEM, by=by, note=description)
        return FollowUp.objects.create(
            order=order, description=description.strip(), assigned_to=assigned_to, due_at=due_at, created_by=by
        )


def order_transition(*, order: Order, to: str, by, note: str = "", **details):
    """One entry point for the API's transition endpoint: dispatch to the action for `to`."""
    if to == Status.SUBMITTED:
        return order_submit(order=order, by=by, note=note)
    if to == Status.SCHEDULED:
        return order_schedule(
            order=order,
            by=by,
            note=note,
            scheduled_date=details.get("scheduled_date"),
            visit_from=details.get("visit_from"),
            visit_to=details.get("visit_to"),
        )
    if to == Status.COMPLETED:
        return order_complete(order=order, by=by, note=note)
    if to == Status.CANCELLED:
        return order_cancel(order=order, by=by, reason=note)
    if to == Status.PROBLEM:
        followup = order_report_problem(
            order=order,
            by=by,
            description=details.get("description") or note,
            assigned_to=details.get("assigned_to"),
            due_at=details.get("due_at"),
        )
        return followup.order
    raise ApplicationError(_("Unknown status."), fields={"to": to})


def followup_resolve(*, followup: FollowUp, by, resolution: str) -> FollowUp:
    """Close a follow-up with what was done. Closing it twice keeps the first closing."""
    if not (resolution or "").strip():
        raise ApplicationError(_("Say what was done."), fields={"resolution": _("Required.")})
    with transaction.atomic():
        followup = FollowUp.objects.select_for_update().get(pk=followup.pk)
        if followup.status == FollowUp.Status.DONE:
            return followup
        followup.status = FollowUp.Status.DONE
        followup.resolution = resolution.strip()
        followup.done_at = timezone.now()
        followup.done_by = by
        followup.save(update_fields=["status", "resolution", "done_at", "done_by"])
    return followup


def _supervisor_for(followup: FollowUp):
    """Who an overdue follow-up goes to: the assignee's supervisor, else the supervisor of the
    agent who took the order, else the team's manager; None when nobody is found."""
    for agent in (
        Agent.objects.select_related("team").filter(user_id=followup.assigned_to_id).first(),
        followup.order.agent,
    ):
        if agent is None:
            continue
        if agent.supervisor_id and agent.supervisor_id != followup.assigned_to_id:
            return agent.supervisor
        if agent.team and agent.team.supervisor_id and agent.team.supervisor_id != followup.assigned_to_id:
            return agent.team.supervisor
        if agent.team and agent.team.manager_id:
            return agent.team.manager
    return None


def followups_escalate_overdue(*, now: datetime | None = None) -> int:
    """Escalate every open follow-up past its due time to the supervisor, once.

    Safe to run twice and from two workers: each follow-up is claimed with a
    compare-and-set on escalated_at, so only one run escalates it.
    """
    now = now or timezone.now()
    escalated = 0
    overdue = FollowUp.objects.select_related("order__agent__team", "order__agent__supervisor").filter(
        status=FollowUp.Status.OPEN, escalated_at__isnull=True, due_at__lt=now
    )
    for followup in overdue.iterator(chunk_size=200):
        supervisor = _supervisor_for(followup)
        changed = FollowUp.objects.filter(
            pk=followup.pk, status=FollowUp.Status.OPEN, escalated_at__isnull=True
        ).update(escalated_at=now, escalated_to=supervisor)
        escalated += changed
    return escalated
