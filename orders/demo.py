"""Demo orders in every status (draft, submitted, scheduled, completed, cancelled, problem),
with follow-ups: one overdue and escalated to the supervisor, one still in time.

Idempotent: each demo order carries its key in its notes and is made once, through the
services (so each has its status history).
"""

from datetime import time, timedelta

from django.db import transaction
from django.utils import timezone

from agents.models import Agent, User
from clients.models import Client, Offer

from . import services
from .models import FollowUp, Order

# (key, offer code or None, service, final status)
ORDERS = [
    ("draft", "mobile-5g", "", Order.Status.DRAFT),
    ("submitted", "fibre-1g", "", Order.Status.SUBMITTED),
    ("scheduled-fibre", "fibre-1g", "", Order.Status.SCHEDULED),
    ("scheduled-taxi", "taxi-aeroport", "", Order.Status.SCHEDULED),
    ("completed", "box-tv", "", Order.Status.COMPLETED),
    ("completed-loan", "pret-perso", "", Order.Status.COMPLETED),
    ("cancelled", "fibre-1g", "", Order.Status.CANCELLED),
    ("problem-overdue", "fibre-1g", "", Order.Status.PROBLEM),
    ("problem-in-time", None, "Changement de box et nouvelle prise optique", Order.Status.PROBLEM),
]


def _marker(key: str) -> str:
    return f"[demo {key}]"


def seed(*, stdout) -> dict:
    agents = list(
        Agent.objects.filter(team__name="Ventes sortantes").select_related("user").order_by("employee_number")
    )
    clients = list(Client.objects.filter(do_not_call=False, phones__number__startswith="+336").order_by("pk")[:40])
    if not agents or not clients:
        stdout.write("  no outbound agents or clients: skipped")
        return {}
    supervisor = User.objects.filter(username="sup.outbound").first() or agents[0].user
    today = timezone.localdate()
    made = 0
    with transaction.atomic():
        for i, (key, offer_code, service, status) in enumerate(ORDERS):
            if Order.objects.filter(notes=_marker(key)).exists():
                continue
            agent = agents[i % len(agents)]
            client = clients[-(i + 1)]
            offer = Offer.objects.filter(code=offer_code).first() if offer_code else None
            order = services.order_create(
                by=agent.user,
                client=client,
                offer=offer,
                service=service,
                agent=agent,
                notes=_marker(key),
                payment_method=Order.PaymentMethod.DIRECT_DEBIT if i % 2 else Order.PaymentMethod.CARD,
                materials="Box fibre, boîtier ONT" if offer and offer.needs_technician else "",
            )
            if status == Order.Status.DRAFT:
                made += 1
                continue
            services.order_submit(order=order, by=agent.user)
            if status == Order.Status.SUBMITTED:
                made += 1
                continue
            if status == Order.Status.CANCELLED:
                services.order_cancel(order=order, by=agent.user, reason="Le client a trouvé moins cher ailleurs")
                made += 1
                continue
            services.order_schedule(
                order=order,
                by=supervisor,
                scheduled_date=today + timedelta(days=2 + i),
                visit_from=time(8),
                visit_to=time(12),
            )
            if status == Order.Status.COMPLETED:
                services.order_complete(order=order, by=supervisor)
            elif status == Order.Status.PROBLEM:
                services.order_report_problem(
                    order=order,
                    by=agent.user,
                    description="Les installateurs ne sont pas venus au rendez-vous",
                    assigned_to=agents[(i + 1) % len(agents)].user,
                    due_at=timezone.now() + timedelta(hours=6),
                )
                if key == "problem-overdue":
                    # Overdue since this morning: the escalation task sends it to the supervisor.
                    FollowUp.objects.filter(order=order).update(due_at=timezone.now() - timedelta(hours=3))
            made += 1
        escalated = services.followups_escalate_overdue()
    by_status = {s: Order.objects.filter(status=s).count() for s in Order.Status.values}
    stdout.write(
        f"  {made} demo orders made now; by status: "
        + ", ".join(f"{s} {n}" for s, n in by_status.items())
        + f"; {escalated} overdue follow-up(s) escalated"
    )
    return {}
