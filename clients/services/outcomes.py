"""Outcomes of contacts, re-offers when a new offer is published, the provider survey."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Team
from agents.roles import Role, has_role
from agents.selectors import agent_for_user_profile
from contactcenter.errors import ApplicationError, Conflict, Forbidden
from orders.services import order_create

from ..models import (
    Campaign,
    CampaignMember,
    Client,
    ContactOutcome,
    Offer,
    ProviderSurveyAnswer,
    RefusalReason,
    StayReason,
)
from ..selectors import reoffer_clients
from .campaigns import agent_is_assigned, campaign_add_clients, member_apply_outcome
from .clients import client_mark_do_not_call


def outcome_record(
    *,
    by,
    client: Client,
    kind: str,
    campaign: Campaign | None = None,
    offer: Offer | None = None,
    refusal_reason: RefusalReason | None = None,
    refusal_text: str = "",
    callback_at: datetime | None = None,
    note: str = "",
    call=None,
) -> ContactOutcome:
    """Record how a contact ended, and what follows from it, in one transaction.

    Refused needs a reason (and the client's words for a reason like "other"); a callback
    needs a future time; do-not-call flips the client's flag for good and takes them out of
    every queue; accepted opens a draft order (outcome.order) for the agent to complete.
    The campaign member, when there is one, moves on (retry, callback, done, exhausted).
    """
    Kind = ContactOutcome.Kind
    errors: dict[str, str] = {}
    refusal_text = (refusal_text or "").strip()
    if kind not in Kind.values:
        errors["kind"] = _("Unknown outcome.")
    if kind == Kind.REFUSED:
        if refusal_reason is None:
            errors["refusal_reason"] = _("A refusal needs a reason.")
        elif not refusal_reason.is_active:
            errors["refusal_reason"] = _("This reason is no longer in use.")
        elif refusal_reason.requires_text and not refusal_text:
            errors["refusal_text"] = _("Say in a few words why the client refused.")
    elif refusal_reason is not None:
        errors["refusal_reason"] = _("Only a refusal has a reason.")
    now = timezone.now()
    if kind == Kind.CALLBACK_REQUESTED:
        if callback_at is None:
            errors["callback_at"] = _("When should the client be called back?")
        elif callback_at <= now:
            errors["callback_at"] = _("The callback time must be in the future.")
    elif callback_at is not None and kind in Kind.values:
        errors["callback_at"] = _("Only a callback request has a callback time.")
    agent = agent_for_user_profile(user=by)
    if campaign is not None:
        if campaign.status == Campaign.Status.FINISHED:
            errors["campaign"] = _("This campaign is finished.")
        elif not (agent_is_assigned(campaign=campaign, agent=agent) or has_role(by, Role.SUPERVISOR, Role.MANAGER)):
            raise Forbidden(_("You are not on this campaign."))
    if errors:
        raise ApplicationError(_("The outcome could not be recorded."), fields=errors)

    with transaction.atomic():
        member = None
        if campaign is not None:
            member = CampaignMember.objects.select_for_update().filter(campaign=campaign, client=client).first()
            if member is None:
                raise ApplicationError(
                    _("This client is not in this campaign."), fields={"campaign": _("This client is not in it.")}
                )
        outcome = ContactOutcome.objects.create(
            client=client,
            kind=kind,
            agent=agent,
            by=by,
            campaign=campaign,
            offer=offer or (campaign.offer if campaign else None),
            refusal_reason=refusal_reason if kind == Kind.REFUSED else None,
            refusal_text=refusal_text if kind == Kind.REFUSED else "",
            callback_at=callback_at if kind == Kind.CALLBACK_REQUESTED else None,
            note=note.strip(),
            call=call,
            created_at=now,
        )
        if member is not None:
            member_apply_outcome(member=member, outcome=outcome, campaign=campaign)
        if kind == Kind.DO_NOT_CALL:
            client_mark_do_not_call(client=client, by=by, source=_("request during a call"))
            client.do_not_call = True
        elif kind == Kind.ACCEPTED:
            # The order form opens as a draft with what the call already knows; the agent
            # completes it (address, date, payment) and submits it.
            order_create(by=by, client=client, offer=outcome.offer, outcome=outcome, agent=agent)
    return outcome


def offer_publish(*, offer: Offer, by=None) -> Campaign | None:
    """Publish a new offer and build its re-offer campaign from the clients whose recorded
    refusal it answers, ready to call (running, given to the teams that recorded those
    refusals). Returns the campaign, or None when no refusal is answered. Publishing twice
    changes nothing."""
    with transaction.atomic():
        offer = Offer.objects.select_for_update().get(pk=offer.pk)
        if offer.published_at is not None:
            raise Conflict(_("This offer is already published."), code="already_published")
        offer.published_at = timezone.now()
        offer.save(update_fields=["published_at"])
        clients = reoffer_clients(offer=offer)
        if not clients.exists():
            return None
        campaign = Campaign.objects.create(
            name=(_("Re-offer: %(offer)s") % {"offer": offer.name})[:200],
            kind=Campaign.Kind.SALES,
            status=Campaign.Status.RUNNING,
            offer=offer,
            is_reoffer=True,
            starts_at=offer.published_at,
            created_by=by,
        )
        teams = Team.objects.filter(
            campaigns__outcomes__client__in=clients, campaigns__outcomes__kind=ContactOutcome.Kind.REFUSED
        ).distinct()
        campaign.teams.set(teams)
        campaign_add_clients(campaign=campaign, clients=clients, at=offer.published_at)
    return campaign


def provider_survey_record(
    *,
    by,
    client: Client,
    reason: StayReason,
    provider: str = "",
    text: str = "",
    satisfaction: int | None = None,
    campaign: Campaign | None = None,
) -> ProviderSurveyAnswer:
    """Record why a client stays with their current provider (asked on competitor-won contacts)."""
    errors = {}
    provider = (provider or client.current_provider).strip()
    if not provider:
        errors["provider"] = _("Which provider does the client stay with?")
    if reason.requires_text and not text.strip():
        errors["text"] = _("Say in a few words why.")
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        errors["satisfaction"] = _("From 1 to 5.")
    if errors:
        raise ApplicationError(_("The answer could not be recorded."), fields=errors)
    return ProviderSurveyAnswer.objects.create(
        client=client,
        provider=provider[:100],
        reason=reason,
        text=text.strip()[:500],
        satisfaction=satisfaction,
        campaign=campaign,
        by=by,
    )
