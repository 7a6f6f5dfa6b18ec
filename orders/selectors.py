"""Reads of orders and follow-ups with their rule: who may see which order.

- an agent sees the orders they took;
- a supervisor the orders taken by their teams' agents (the back office of their teams);
- managers every order. HR, trainers and QA analysts none: orders are not theirs.
Follow-ups: the person they are assigned or escalated to, and whoever sees the order.
"""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from agents.roles import Role, roles_of
from contactcenter.errors import NotFound

from .models import FollowUp, Order


def orders_for_user(*, user) -> QuerySet[Order]:
    qs = Order.objects.select_related("client", "offer", "agent__user", "taken_by")
    user_roles = roles_of(user)
    if Role.MANAGER in user_roles:
        return qs
    scope = Q(pk__in=[])
    if user_roles & {Role.AGENT, Role.SUPERVISOR}:
        scope |= Q(taken_by=user) | Q(agent__user=user)
    if Role.SUPERVISOR in user_roles:
        scope |= Q(agent__team__supervisor=user) | Q(agent__supervisor=user)
    return qs.filter(scope)


def order_get_for_user(*, user, order_id) -> Order:
    try:
        return orders_for_user(user=user).get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such order.")) from None


def followups_for_user(*, user) -> QuerySet[FollowUp]:
    qs = FollowUp.objects.select_related("order__client", "assigned_to", "escalated_to", "created_by")
    if Role.MANAGER in roles_of(user):
        return qs
    return qs.filter(Q(assigned_to=user) | Q(escalated_to=user) | Q(order__in=orders_for_user(user=user).values("pk")))


def followup_get_for_user(*, user, followup_id) -> FollowUp:
    try:
        return followups_for_user(user=user).get(pk=followup_id)
    except (FollowUp.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such follow-up.")) from None
