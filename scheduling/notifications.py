"""What a scheduling notification says, and its push to the agent's desk.

A Notification row keeps a kind and its parameters; the text is made in the reader's
language when shown (the schedule page, the API). The push goes, after commit, through
the channel layer to the group the desk listens to, `agent.<agent_id>` (the calls app's
naming), as {"type": "notification", "id", "kind", "text", "created_at"}. A push that
fails is logged, never raised: the row is there, the page shows it.
"""

from datetime import date, datetime

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from contactcenter import pushes


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def _day(value: str) -> str:
    try:
        return formats.date_format(date.fromisoformat(value), "DATE_FORMAT")
    except (TypeError, ValueError):
        return str(value)


def _moment(value: str) -> str:
    try:
        return formats.date_format(timezone.localtime(datetime.fromisoformat(value)), "DATETIME_FORMAT")
    except (TypeError, ValueError):
        return str(value)


def text(notification) -> str:
    """The notification's sentence in the active language."""
    from .models import Notification

    p = notification.params or {}
    kind = notification.kind
    if kind == Notification.Kind.DAYOFF_REMINDER:
        return _("You have not asked for your days off for the week of %(week)s yet: the deadline is %(deadline)s.") % {
            "week": _day(p.get("week")),
            "deadline": _moment(p.get("deadline")),
        }
    if kind == Notification.Kind.DAYOFF_APPROVED:
        message = _("Your days off are approved: %(days)s.") % {"days": ", ".join(_day(d) for d in p.get("days", []))}
        return f"{message} {p['comment']}" if p.get("comment") else message
    if kind == Notification.Kind.DAYOFF_REJECTED:
        return _("Your request for %(days)s is rejected: %(comment)s") % {
            "days": ", ".join(_day(d) for d in p.get("days", [])),
            "comment": p.get("comment", ""),
        }
    if kind == Notification.Kind.SCHEDULE_PUBLISHED:
        return _("Your schedule for the week of %(week)s is published.") % {"week": _day(p.get("week"))}
    if kind == Notification.Kind.SWAP_TAKEN:
        return _("%(who)s took the shift of %(day)s you offered; your supervisor decides next.") % {
            "who": p.get("by", ""),
            "day": _day(p.get("date")),
        }
    if kind == Notification.Kind.SWAP_APPROVED:
        return _("The swap of the shift of %(day)s is approved: %(taker)s works it.") % {
            "day": _day(p.get("date")),
            "taker": p.get("taker", ""),
        }
    if kind == Notification.Kind.SWAP_REJECTED:
        return _("The shift swap is rejected: %(comment)s") % {"comment": p.get("comment", "")}
    return notification.get_kind_display()


def push_after_commit(notification) -> None:
    """Push a new notification to the recipient's desk once the transaction commits (no
    push for users without an agent profile: they have no desk)."""
    from agents.models import Agent

    agent_id = Agent.objects.filter(user_id=notification.recipient_id).values_list("pk", flat=True).first()
    if agent_id is None:
        return
    message = {
        "type": "notification",
        "id": notification.pk,
        "kind": notification.kind,
        "text": text(notification),
        "created_at": notification.created_at.isoformat(),
    }
    transaction.on_commit(lambda: pushes.group_send([(agent_group(agent_id), message)]))
