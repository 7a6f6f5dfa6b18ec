"""Outbound campaigns: members, status, and "next client"."""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contactcenter.errors import ApplicationError, Conflict, Forbidden

from ..dialing import next_calling_time, within_calling_hours
from ..models import Campaign, CampaignMember, CampaignStatusChange, Client, ContactOutcome

# How long a member handed out by "next client" stays with its agent without an outcome;
# after that it is due again and the next agent who asks gets it.
CLAIM_LEASE = timedelta(minutes=20)
# "Next client" looks at the head of the queue at most this many times; each time it finds
# a member out of calling hours, it moves up to ZONE_RESCHEDULE_BATCH due members of that
# zone to the zone's next opening, so they do not block the head of the queue.
CLAIM_ROUNDS = 20
ZONE_RESCHEDULE_BATCH = 5000


class CampaignError(ApplicationError):
    pass


def campaign_set_status(*, campaign: Campaign, to: str, by=None) -> Campaign:
    """Start, pause, resume or finish a campaign (Campaign.TRANSITIONS), with a history row."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if to not in Campaign.TRANSITIONS.get(campaign.status, set()):
            raise Conflict(
                _("A %(from)s campaign cannot become %(to)s.")
                % {
                    "from": campaign.get_status_display(),
                    "to": Campaign.Status(to).label if to in Campaign.Status.values else to,
                },
                code="illegal_transition",
            )
        CampaignStatusChange.objects.create(campaign=campaign, from_status=campaign.status, to_status=to, by=by)
        campaign.status = to
        campaign.save(update_fields=["status"])
    return campaign


def campaign_add_clients(*, campaign: Campaign, clients, at: datetime | None = None) -> tuple[int, int]:
    """Put clients in a campaign's queue, due now. Do-not-call clients are never added;
    clients already in the campaign keep their place. Returns (added, refused as do-not-call)."""
    if campaign.status == Campaign.Status.FINISHED:
        raise Conflict(_("This campaign is finished."))
    at = at or timezone.now()
    ids = set(clients.values_list("pk", flat=True)) if hasattr(clients, "values_list") else {c.pk for c in clients}
    callable_ids = set(Client.objects.filter(pk__in=ids, do_not_call=False).values_list("pk", flat=True))
    already = set(
        CampaignMember.objects.filter(campaign=campaign, client_id__in=callable_ids).values_list("client_id", flat=True)
    )
    new = sorted(callable_ids - already)
    CampaignMember.objects.bulk_create(
        [CampaignMember(campaign=campaign, client_id=pk, next_attempt_at=at) for pk in new],
        batch_size=2000,
        ignore_conflicts=True,
    )
    return len(new), len(ids - callable_ids)


def agent_is_assigned(*, campaign: Campaign, agent) -> bool:
    """Is the agent on the campaign, by name or through their team? One query on the unique
    pairs of the many-to-many tables: "next client" asks it every time."""
    if agent is None:
        return False
    named = Campaign.agents.through.objects.filter(campaign_id=OuterRef("pk"), agent_id=agent.pk)
    by_team = Campaign.teams.through.objects.filter(campaign_id=OuterRef("pk"), team_id=agent.team_id)
    return Campaign.objects.filter(Q(Exists(named)) | Q(Exists(by_team)), pk=campaign.pk).exists()


def campaign_next_member(*, campaign: Campaign, agent, now: datetime | None = None) -> CampaignMember | None:
    """Hand the agent the next due member of a running campaign, or None when nobody is due.

    Atomic: the member is locked with SELECT … FOR UPDATE SKIP LOCKED, so agents pulling at
    the same time each get a different member. The agent's current claim, if they have one,
    is handed again rather than a second one. Skips do-not-call clients and members past
    their attempts; a member outside calling hours in their own zone is moved to the next
    opening in that zone.
    """
    now = now or timezone.now()
    if not agent_is_assigned(campaign=campaign, agent=agent):
        raise Forbidden(_("You are not on this campaign."))
    if campaign.status != Campaign.Status.RUNNING:
        raise CampaignError(_("This campaign is not running."), code="campaign_not_running")
    if campaign.starts_at > now or (campaign.ends_at and campaign.ends_at <= now):
        raise CampaignError(_("This campaign is outside its dates."), code="campaign_not_running")

    current = (
        CampaignMember.objects.select_related("client")
        .filter(campaign=campaign, assigned_agent=agent, state=CampaignMember.State.CLAIMED, locked_until__gt=now)
        .first()
    )
    if current is not None and not current.client.do_not_call:
        return current

    due = CampaignMember.objects.filter(
        campaign=campaign, state__in=CampaignMember.OPEN_STATES, next_attempt_at__lte=now, client__do_not_call=False
    ).filter(Q(attempts__lt=campaign.max_attempts) | Q(last_outcome_kind=ContactOutcome.Kind.CALLBACK_REQUESTED))
    for _round in range(CLAIM_ROUNDS):
        with transaction.atomic():
            _lease_commit_without_waiting_for_disk()
            # One row at a time, skipping rows other agents hold: a puller never waits and
            # never keeps more locked than the member it takes. of=("self",): lock the
            # member row only, never the client row joined for the checks.
            member = (
                due.select_for_update(skip_locked=True, of=("self",))
                .select_related("client")
                .order_by("next_attempt_at", "id")
                .first()
            )
            if member is None:
                return None
            zone = member.client.time_zone
            if within_calling_hours(campaign, zone, now):
                member.state = CampaignMember.State.CLAIMED
                member.assigned_agent = agent
                member.locked_until = member.next_attempt_at = now + CLAIM_LEASE
                member.save(update_fields=["state", "assigned_agent", "locked_until", "next_attempt_at"])
                return member
            # Out of calling hours where this client lives: move every due member of the same
            # zone to its next opening, so they stop blocking the head of the queue. Rows
            # another agent holds are skipped (no waiting, so no deadlock between pullers).
            opening = next_calling_time(campaign, zone, now)
            same_zone = list(
                due.filter(client__time_zone=zone)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("next_attempt_at", "id")
                .values_list("pk", flat=True)[:ZONE_RESCHEDULE_BATCH]
            )
            CampaignMember.objects.filter(pk__in=[member.pk, *same_zone]).update(next_attempt_at=opening)
    return None


def _lease_commit_without_waiting_for_disk() -> None:
    """A claim is a 20-minute lease, not a business record: on PostgreSQL its commit does
    not wait for the WAL to reach the disk (synchronous_commit off for this transaction
    only). A database crash could forget the last milliseconds of claims, which only puts
    those members back in the queue; it can never corrupt data or hand a member twice
    while the database runs. Outcomes keep the server's durable commits."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def campaign_member_release(*, member: CampaignMember, agent) -> CampaignMember:
    """The agent gives the member back without calling: due again at once, for anyone."""
    with transaction.atomic():
        member = CampaignMember.objects.select_for_update().get(pk=member.pk)
        if member.state != CampaignMember.State.CLAIMED or member.assigned_agent_id != getattr(agent, "pk", None):
            raise Conflict(_("This client is not with you."))
        member.state = CampaignMember.State.QUEUED
        member.locked_until = None
        member.next_attempt_at = timezone.now()
        member.save(update_fields=["state", "locked_until", "next_attempt_at"])
    return member


def member_apply_outcome(*, member: CampaignMember, outcome: ContactOutcome, campaign: Campaign) -> CampaignMember:
    """Move a (locked) member after an outcome: done, retried later, exhausted or excluded.

    No answer and busy come back after the campaign's retry delay until max_attempts;
    a callback comes back at the time the client gave, whatever the attempts.
    """
    Kind, State = ContactOutcome.Kind, CampaignMember.State
    now = outcome.created_at
    member.attempts += 1
    member.last_outcome = outcome
    member.last_outcome_kind = outcome.kind
    if outcome.kind in (Kind.ACCEPTED, Kind.REFUSED, Kind.WRONG_NUMBER):
        to, next_at = State.DONE, member.next_attempt_at
    elif outcome.kind == Kind.DO_NOT_CALL:
        to, next_at = State.EXCLUDED, member.next_attempt_at
    elif outcome.kind == Kind.CALLBACK_REQUESTED:
        to, next_at = State.QUEUED, outcome.callback_at
    else:
        delay = campaign.retry_busy_min if outcome.kind == Kind.BUSY else campaign.retry_no_answer_min
        if member.attempts >= campaign.max_attempts:
            to, next_at = State.EXHAUSTED, member.next_attempt_at
        else:
            to, next_at = State.QUEUED, now + timedelta(minutes=delay)
    fields = ["attempts", "last_outcome", "last_outcome_kind"]
    if to in CampaignMember.TRANSITIONS[member.state]:
        member.state = to
        member.next_attempt_at = next_at
        member.locked_until = None
        fields += ["state", "next_attempt_at", "locked_until"]
    # Else (an outcome recorded on a member already done or excluded: the client called
    # in): the history has it, the member stays where it is.
    member.save(update_fields=fields)
    return member
