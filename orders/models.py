"""Order forms filled after a call, their status history and the follow-ups of problems.

The order is a state machine (Order.Status, Order.TRANSITIONS); orders/services.py
holds the one transition function that checks a move and writes an OrderStatusChange.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Order(models.Model):
    """What a client ordered on the phone: an internet connection, a new tariff with its
    equipment, a taxi ride, a loan application."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")  # being filled by the agent, during or after the call
        SUBMITTED = "submitted", _("Submitted")  # complete and read back to the client; back office's turn
        SCHEDULED = "scheduled", _("Scheduled")  # a date (and visit window) is booked
        COMPLETED = "completed", _("Completed")  # final: delivered, installed, ridden, granted
        CANCELLED = "cancelled", _("Cancelled")  # final: the client or the center called it off
        PROBLEM = "problem", _("Problem")  # something went wrong (installers did not come): a follow-up is open

    # The order's state machine: from → the states it may move to.
    TRANSITIONS = {
        Status.DRAFT: {Status.SUBMITTED, Status.CANCELLED},
        Status.SUBMITTED: {Status.SCHEDULED, Status.CANCELLED, Status.PROBLEM},
        Status.SCHEDULED: {Status.COMPLETED, Status.CANCELLED, Status.PROBLEM},
        # A problem is solved by booking again, or ends the order.
        Status.PROBLEM: {Status.SCHEDULED, Status.CANCELLED},
        Status.COMPLETED: set(),
        Status.CANCELLED: set(),
    }
    FINAL_STATUSES = (Status.COMPLETED, Status.CANCELLED)

    class PaymentMethod(models.TextChoices):
        # Never cash to the technician: it is not a choice, and a database constraint refuses it.
        CARD = "card", _("Card")
        DIRECT_DEBIT = "direct_debit", _("Direct debit")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        INVOICE = "invoice", _("Invoice")

    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="orders"
    )
    offer = models.ForeignKey(
        "clients.Offer", verbose_name=_("offer"), on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    # What is ordered when it is not a catalogued offer ("ride Gare de Lyon → Orly").
    service = models.CharField(_("service"), max_length=200, blank=True)
    # The accepted outcome this order came from, when it came from one.
    outcome = models.OneToOneField(
        "clients.ContactOutcome",
        verbose_name=_("outcome"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="order",
    )
    # The address, normalised by orders.addresses.address_normalise before it is saved.
    address_line = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR")
    scheduled_date = models.DateField(_("scheduled date"), null=True, blank=True)
    visit_from = models.TimeField(_("visit window from"), null=True, blank=True)
    visit_to = models.TimeField(_("visit window to"), null=True, blank=True)
    materials = models.TextField(_("materials needed"), blank=True)
    amount = models.DecimalField(
        _("amount the client pays"), max_digits=10, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    payment_method = models.CharField(_("payment method"), max_length=16, choices=PaymentMethod.choices, blank=True)
    agent = models.ForeignKey(
        "agents.Agent", verbose_name=_("agent"), on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("taken by"), on_delete=models.PROTECT, related_name="orders_taken"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["status", "scheduled_date"], name="order_status_date_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(payment_method="")
                | Q(payment_method__in=["card", "direct_debit", "bank_transfer", "invoice"]),
                name="order_payment_method_known",
            ),
            models.CheckConstraint(
                condition=Q(visit_from__isnull=True)
                | Q(visit_to__isnull=True)
                | Q(visit_to__gt=models.F("visit_from")),
                name="order_visit_window_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.reference} – {self.client}"

    @property
    def reference(self) -> str:
        return f"CMD-{self.pk:06d}" if self.pk else "CMD-new"

    @property
    def what(self) -> str:
        return str(self.offer) if self.offer_id else self.service


class OrderStatusChange(models.Model):
    """History of an order: who moved it, when, from which status to which, and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=10, choices=Order.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=Order.Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")

    def __str__(self):
        return f"{self.order_id}: {self.from_status} → {self.to_status}"


class FollowUp(models.Model):
    """A problem with an order that a person must sort out by a due time. Escalated to
    the assignee's supervisor when overdue (orders.tasks.escalate_overdue_followups)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")  # someone has to act
        DONE = "done", _("Done")  # final: sorted out

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="followups")
    description = models.TextField(_("what went wrong"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), on_delete=models.PROTECT, related_name="followups"
    )
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    # Set once, by the escalation task: the follow-up is then on the supervisor's list too.
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="escalated_followups",
    )
    resolution = models.TextField(_("resolution"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            # The escalation sweep: open, not yet escalated, by due time.
            models.Index(
                fields=["due_at"], condition=Q(status="open", escalated_at__isnull=True), name="followup_due_idx"
            ),
        ]

    def __str__(self):
        return f"{self.order.reference}: {self.description[:40]}"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_at < timezone.now()
