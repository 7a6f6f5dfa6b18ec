"""Reads of clients, campaigns and outcomes with their rules: who may see which client.

The rule (personal data is confidential, think of a bank's clients):
- an agent sees the clients of the campaigns they are on (by name or through their team,
  while the campaign is not finished), of the calls they handled and of the contacts
  they recorded;
- a supervisor sees that for every agent of their teams, and the clients of their
  teams' campaigns (finished ones included, for the reports);
- a QA analyst sees the clients of calls (they review recorded calls across teams);
- HR and managers see every client; trainers none.
"""

import operator
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

import phonenumbers
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from agents.models import Agent
from agents.roles import ALL_SEEING_ROLES, Role, roles_of
from contactcenter.errors import NotFound

from .models import Campaign, CampaignMember, Client, ContactOutcome, Offer, ProviderSurveyAnswer, RefusalReason


def phone_to_e164(raw: str, *, region: str | None = None) -> str | None:
    """The E.164 form of a phone number as typed or sent by a PBX, or None when it is not a
    valid number. National numbers are read in the center's country (PHONE_REGION)."""
    try:
        parsed = phonenumbers.parse(raw or "", region or settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def client_find_by_number(*, number: str) -> Client | None:
    """The client who owns this number (any format), or None. Used to match incoming calls."""
    e164 = phone_to_e164(number)
    if e164 is None:
        return None
    return Client.objects.filter(phones__number=e164).first()


# --- Scope ----------------------------------------------------------------------------


def _team_agents(user) -> QuerySet:
    return Agent.objects.filter(Q(team__supervisor=user) | Q(supervisor=user)).values("pk")


def campaigns_for_user(*, user) -> QuerySet[Campaign]:
    """Campaigns a user may see: an agent those they are on (not finished); a supervisor their
    teams' and their agents'; HR and managers all."""
    qs = Campaign.objects.select_related("offer")
    user_roles = roles_of(user)
    if user_roles & ALL_SEEING_ROLES:
        return qs
    conditions = []
    if Role.AGENT in user_roles:
        conditions.append(
            Q(pk__in=Campaign.objects.filter(Q(agents__user=user) | Q(teams__agents__user=user)).values("pk"))
            & ~Q(status=Campaign.Status.FINISHED)
        )
    if Role.SUPERVISOR in user_roles:
        conditions.append(
            Q(
                pk__in=Campaign.objects.filter(
                    Q(teams__supervisor=user)
                    | Q(agents__in=_team_agents(user))
                    | Q(teams__agents__in=_team_agents(user))
                ).values("pk")
            )
        )
    if not conditions:
        return qs.none()
    return qs.filter(reduce(operator.or_, conditions))


def campaign_get_for_user(*, user, campaign_id) -> Campaign:
    try:
        return campaigns_for_user(user=user).get(pk=campaign_id)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such campaign.")) from None


def clients_for_user(*, user) -> QuerySet[Client]:
    """Clients the user may see (see the module docstring for the rule)."""
    from calls.models import Call

    qs = Client.objects.all()
    user_roles = roles_of(user)
    if user_roles & ALL_SEEING_ROLES:
        return qs
    conditions = []
    if Role.AGENT in user_roles:
        agent_campaigns = Campaign.objects.filter(Q(agents__user=user) | Q(teams__agents__user=user)).exclude(
            status=Campaign.Status.FINISHED
        )
        conditions += [
            Exists(CampaignMember.objects.filter(client=OuterRef("pk"), campaign__in=agent_campaigns.values("pk"))),
            Exists(Call.objects.filter(client=OuterRef("pk"), agent__user=user)),
            Exists(ContactOutcome.objects.filter(client=OuterRef("pk"), by=user)),
        ]
    if Role.SUPERVISOR in user_roles:
        conditions += [
            Exists(
                CampaignMember.objects.filter(
                    client=OuterRef("pk"), campaign__in=campaigns_for_user(user=user).values("pk")
                )
            ),
            Exists(Call.objects.filter(client=OuterRef("pk"), agent__in=_team_agents(user))),
            Exists(ContactOutcome.objects.filter(client=OuterRef("pk"), agent__in=_team_agents(user))),
        ]
    if Role.QA_ANALYST in user_roles:
        conditions.append(Exists(Call.objects.filter(client=OuterRef("pk"))))
    if not conditions:
        return qs.none()
    return qs.filter(reduce(operator.or_, (Q(c) for c in conditions)))


def client_get_for_user(*, user, client_id) -> Client:
    """One client, or NotFound when it does not exist or is out of the user's scope."""
    try:
        return clients_for_user(user=user).select_related("preferred_language").get(pk=client_id)
    except (Client.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such client.")) from None


def outcomes_for_user(*, user) -> QuerySet[ContactOutcome]:
    """Outcomes a user may see: those of the clients they may see."""
    return ContactOutcome.objects.select_related(
        "client", "agent__user", "by", "campaign", "offer", "refusal_reason"
    ).filter(client__in=clients_for_user(user=user).values("pk"))


def members_for_campaign(*, campaign: Campaign) -> QuerySet[CampaignMember]:
    return CampaignMember.objects.filter(campaign=campaign).select_related("client", "assigned_agent__user")


# --- The client's timeline -------------------------------------------------------------


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # call, outcome, order, callback, survey
    title: str
    detail: str
    by: str
    url: str | None
    obj: object


def _who(agent=None, user=None) -> str:
    person = agent.user if agent is not None else user
    if person is None:
        return ""
    return person.get_full_name() or person.username


def client_timeline(*, client: Client, limit: int = 200) -> list[TimelineEntry]:
    """Every contact with a client as one list, newest first: calls, outcomes, orders,
    callbacks and survey answers. One query per kind, whatever the history's length."""
    from calls.models import Call, Callback
    from orders.models import Order

    entries: list[TimelineEntry] = []
    for call in (
        Call.objects.filter(client=client)
        .select_related("agent__user", "queue", "disposition")
        .order_by("-offered_at")[:limit]
    ):
        detail = ", ".join(
            part
            for part in (
                call.queue.name if call.queue_id else "",
                call.get_state_display(),
                call.disposition.label if call.disposition_id else "",
                _("%(s)d s talk") % {"s": call.talk_s} if call.talk_s else "",
            )
            if part
        )
        entries.append(
            TimelineEntry(call.offered_at, "call", call.get_direction_display(), detail, _who(call.agent), None, call)
        )
    for outcome in (
        ContactOutcome.objects.filter(client=client)
        .select_related("agent__user", "by", "campaign", "offer", "refusal_reason")
        .order_by("-created_at")[:limit]
    ):
        detail = " · ".join(
            part
            for part in (
                outcome.offer.name if outcome.offer_id else "",
                outcome.campaign.name if outcome.campaign_id else "",
                outcome.refusal_reason.label if outcome.refusal_reason_id else "",
                outcome.refusal_text,
                _("call back %(at)s") % {"at": _local(outcome.callback_at)} if outcome.callback_at else "",
                outcome.note,
            )
            if part
        )
        entries.append(
            TimelineEntry(
                outcome.created_at, "outcome", outcome.get_kind_display(), detail, _who(user=outcome.by), None, outcome
            )
        )
    for order in (
        Order.objects.filter(client=client).select_related("offer", "agent__user").order_by("-created_at")[:limit]
    ):
        entries.append(
            TimelineEntry(
                order.created_at,
                "order",
                _("Order %(ref)s") % {"ref": order.reference},
                f"{order.what} · {order.get_status_display()}",
                _who(order.agent),
                reverse("orders:order-detail", args=[order.pk]),
                order,
            )
        )
    for callback in Callback.objects.filter(client=client).select_related("owner__user").order_by("-due_at")[:limit]:
        entries.append(
            TimelineEntry(
                callback.created_at,
                "callback",
                _("Callback (%(kind)s)") % {"kind": callback.get_kind_display()},
                _("due %(at)s, %(state)s") % {"at": _local(callback.due_at), "state": callback.get_state_display()},
                _who(callback.owner),
                None,
                callback,
            )
        )
    for answer in ProviderSurveyAnswer.objects.filter(client=client).select_related("reason", "by")[:limit]:
        entries.append(
            TimelineEntry(
                answer.created_at,
                "survey",
                _("Stays with %(provider)s") % {"provider": answer.provider},
                " · ".join(p for p in (answer.reason.label, answer.text) if p),
                _who(user=answer.by),
                None,
                answer,
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _local(at: datetime) -> str:
    from django.utils import formats, timezone

    return formats.date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")


# --- Campaign progress -------------------------------------------------------------------

REACHED_KINDS = (
    ContactOutcome.Kind.ACCEPTED,
    ContactOutcome.Kind.REFUSED,
    ContactOutcome.Kind.CALLBACK_REQUESTED,
    ContactOutcome.Kind.DO_NOT_CALL,
)


def campaign_progress(*, campaign: Campaign) -> dict:
    """Figures for supervisors: members by state, clients reached, accepted, refused (by
    reason), conversion rate (accepted / reached) and attempts per contacted member."""
    Kind = ContactOutcome.Kind
    members = CampaignMember.objects.filter(campaign=campaign)
    by_state = dict.fromkeys(CampaignMember.State.values, 0)
    by_state.update(dict(members.values_list("state").annotate(n=Count("id")).order_by()))
    totals = members.aggregate(
        members=Count("id"), total_attempts=Sum("attempts"), tried=Count("id", filter=Q(attempts__gt=0))
    )
    outcomes = ContactOutcome.objects.filter(campaign=campaign)
    clients = outcomes.aggregate(
        reached=Count("client", distinct=True, filter=Q(kind__in=REACHED_KINDS)),
        accepted=Count("client", distinct=True, filter=Q(kind=Kind.ACCEPTED)),
        refused=Count("client", distinct=True, filter=Q(kind=Kind.REFUSED)),
    )
    by_kind = dict.fromkeys(Kind.values, 0)
    by_kind.update(dict(outcomes.values_list("kind").annotate(n=Count("id")).order_by()))
    refused_by_reason = list(
        outcomes.filter(kind=Kind.REFUSED)
        .values("refusal_reason__code", "refusal_reason__label")
        .annotate(count=Count("id"))
        .order_by("-count", "refusal_reason__label")
    )
    reached = clients["reached"]
    return {
        "members": totals["members"],
        "by_state": by_state,
        "reached": reached,
        "accepted": clients["accepted"],
        "refused": clients["refused"],
        "refused_by_reason": [
            {"code": r["refusal_reason__code"], "label": r["refusal_reason__label"], "count": r["count"]}
            for r in refused_by_reason
        ],
        "outcomes_by_kind": by_kind,
        "conversion_rate_pct": round(100 * clients["accepted"] / reached, 1) if reached else None,
        "attempts": totals["total_attempts"] or 0,
        "attempts_per_contact": round((totals["total_attempts"] or 0) / totals["tried"], 2)
        if totals["tried"]
        else None,
    }


# --- Re-offers and the provider survey ----------------------------------------------------


def _answers_refusal(offer: Offer) -> Q:
    """The refused outcomes whose reason's re-offer rule this new offer answers."""
    Rule = RefusalReason.ReofferRule
    answers = Q(refusal_reason__reoffer_rule=Rule.ANY_OFFER)
    answers |= Q(
        refusal_reason__reoffer_rule=Rule.CHEAPER, offer__category=offer.category, offer__price__gt=offer.price
    )
    answers |= Q(refusal_reason__reoffer_rule=Rule.NEW_SERVICE) & ~Q(offer__category=offer.category)
    if offer.commitment_months == 0:
        answers |= Q(
            refusal_reason__reoffer_rule=Rule.NO_COMMITMENT,
            offer__category=offer.category,
            offer__commitment_months__gt=0,
        )
    return answers & ~Q(offer=offer)


def reoffer_clients(*, offer: Offer) -> QuerySet[Client]:
    """The clients whose latest refusal this offer answers (RefusalReason.reoffer_rule): a
    cheaper offer of the same category for "too expensive", another category for "no need",
    the same service without commitment for "already has a provider", any offer for "bad
    timing". Leaves out do-not-call clients and clients who accepted an offer since."""
    latest_refusal = (
        ContactOutcome.objects.filter(client=OuterRef("client"), kind=ContactOutcome.Kind.REFUSED)
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    accepted_since = ContactOutcome.objects.filter(
        client=OuterRef("client"), kind=ContactOutcome.Kind.ACCEPTED, created_at__gt=OuterRef("created_at")
    )
    refusals = (
        ContactOutcome.objects.filter(
            kind=ContactOutcome.Kind.REFUSED, offer__isnull=False, pk=Subquery(latest_refusal)
        )
        .filter(_answers_refusal(offer))
        .exclude(Exists(accepted_since))
        .values("client_id")
    )
    return Client.objects.filter(pk__in=refusals, do_not_call=False)


def provider_survey_report(*, since: datetime | None = None, provider: str = "") -> dict:
    """Why clients stay with their provider: answers counted per reason, and per provider."""
    answers = ProviderSurveyAnswer.objects.all()
    if since:
        answers = answers.filter(created_at__gte=since)
    if provider:
        answers = answers.filter(provider__iexact=provider)
    by_reason = list(
        answers.values("reason__code", "reason__label").annotate(count=Count("id")).order_by("-count", "reason__label")
    )
    by_provider = list(answers.values("provider").annotate(count=Count("id")).order_by("-count", "provider"))
    return {
        "total": sum(r["count"] for r in by_reason),
        "by_reason": [{"code": r["reason__code"], "label": r["reason__label"], "count": r["count"]} for r in by_reason],
        "by_provider": by_provider,
    }
