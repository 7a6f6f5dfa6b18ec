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
# a member out of calling hours, it looks at the first HEAD_RESCHEDULE_BATCH due members and
# moves those out of hours in their zone to the zone's next opening, so they do not block
# the head of the queue.
CLAIM_ROUNDS = 20
HEAD_RESCHEDULE_BATCH = 200


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
    assigned, current_id = _assignment_and_current_claim(campaign=campaign, agent=agent, now=now)
    if not assigned:
        raise Forbidden(_("You are not on this campaign."))
    if campaign.status != Campaign.Status.RUNNING:
        raise CampaignError(_("This campaign is not running."), code="campaign_not_running")
    if campaign.starts_at > now or (campaign.ends_at and campaign.ends_at <= now):
        raise CampaignError(_("This campaign is outside its dates."), code="campaign_not_running")
    if current_id is not None:
        return CampaignMember.objects.select_related("client").get(pk=current_id)

    for _round in range(CLAIM_ROUNDS):
        with transaction.atomic():
            claimed = _claim_head(campaign=campaign, agent=agent, now=now)
            if claimed is None:
                return None
            member, zone = claimed
            if within_calling_hours(campaign, zone, now):
                return member
            # Out of calling hours where this client lives: give the member back, and move
            # every member at the head of the queue who is out of hours in their own zone to
            # that zone's next opening, so they stop blocking the head. Rows another agent
            # holds are skipped (no waiting, so no deadlock between pullers).
            head = list(
                _due(campaign=campaign, now=now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("next_attempt_at", "id")
                .values_list("pk", "client__time_zone")[:HEAD_RESCHEDULE_BATCH]
            )
            by_zone: dict[str, list[int]] = {zone: [member.pk]}
            for pk, member_zone in head:
                if not within_calling_hours(campaign, member_zone, now):
                    by_zone.setdefault(member_zone, []).append(pk)
            for member_zone, pks in by_zone.items():
                CampaignMember.objects.filter(pk__in=pks).update(
                    state=CampaignMember.State.QUEUED,
                    assigned_agent=None,
                    locked_until=None,
                    next_attempt_at=next_calling_time(campaign, member_zone, now),
                )
    return None


def _due(*, campaign: Campaign, now: datetime):
    """Members the campaign may call now: open, due, not do-not-call, attempts left."""
    return CampaignMember.objects.filter(
        campaign=campaign, state__in=CampaignMember.OPEN_STATES, next_attempt_at__lte=now, client__do_not_call=False
    ).filter(Q(attempts__lt=campaign.max_attempts) | Q(last_outcome_kind=ContactOutcome.Kind.CALLBACK_REQUESTED))


# "Next client" runs for every agent every few minutes: its two statements are written in
# SQL (portable, for this one) rather than built by the ORM, whose query building cost
# more CPU than the database's work (20 agents pulling at once share one process's GIL).
_CHECK_SQL = """
SELECT (EXISTS (SELECT 1 FROM clients_campaign_agents WHERE campaign_id = %(campaign)s AND agent_id = %(agent)s)
        OR EXISTS (SELECT 1 FROM clients_campaign_teams WHERE campaign_id = %(campaign)s AND team_id = %(team)s)),
       (SELECT m.id FROM clients_campaignmember AS m JOIN clients_client AS c ON c.id = m.client_id
         WHERE m.campaign_id = %(campaign)s AND m.assigned_agent_id = %(agent)s AND m.state = 'claimed'
           AND m.locked_until > %(now)s AND NOT c.do_not_call
         LIMIT 1)
"""


def _assignment_and_current_claim(*, campaign: Campaign, agent, now: datetime) -> tuple[bool, int | None]:
    """(is the agent on the campaign by name or through their team, the member they hold now)."""
    if agent is None:
        return False, None
    with connection.cursor() as cursor:
        cursor.execute(_CHECK_SQL, {"campaign": campaign.pk, "agent": agent.pk, "team": agent.team_id, "now": now})
        assigned, current_id = cursor.fetchone()
    return bool(assigned), current_id


# PostgreSQL: pick, lock and claim the head of the queue in one statement; the WHERE clause
# is _due()'s. set_config(…, true) turns synchronous_commit off for this
# transaction only: a claim is a 20-minute lease, not a business record, so its commit
# does not wait for the WAL to reach the disk. A database crash could forget the last
# milliseconds of claims, which only puts those members back in the queue; it can never
# corrupt data or hand a member twice while the database runs. Outcomes keep durable commits.
_CLAIM_SQL = """
UPDATE clients_campaignmember AS m
   SET state = 'claimed', assigned_agent_id = %(agent)s, locked_until = %(until)s, next_attempt_at = %(until)s
  FROM (SELECT set_config('synchronous_commit', 'off', true)) AS lease,
       (SELECT d.id, c.time_zone
          FROM clients_campaignmember AS d
          JOIN clients_client AS c ON c.id = d.client_id
         WHERE d.campaign_id = %(campaign)s
           AND d.state IN ('queued', 'claimed')
           AND d.next_attempt_at <= %(now)s
           AND NOT c.do_not_call
           AND (d.attempts < %(max_attempts)s OR d.last_outcome_kind = 'callback_requested')
         ORDER BY d.next_attempt_at, d.id
         LIMIT 1
           FOR UPDATE OF d SKIP LOCKED) AS picked
 WHERE m.id = picked.id
RETURNING {returning}, picked.time_zone
""".format(returning=", ".join(f"m.{field.column}" for field in CampaignMember._meta.concrete_fields))  # noqa: S608 -- model columns


def _claim_head(*, campaign: Campaign, agent, now: datetime) -> tuple[CampaignMember, str] | None:
    """Claim the first due member nobody else holds: (member, their client's zone) or None.
    One row at a time, skipping rows other agents hold: a puller never waits and never
    keeps more locked than the member it takes."""
    until = now + CLAIM_LEASE
    if connection.vendor == "postgresql":
        params = {
            "agent": agent.pk,
            "until": until,
            "campaign": campaign.pk,
            "now": now,
            "max_attempts": campaign.max_attempts,
        }
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, params)
            row = cursor.fetchone()
            if row is None:
                return None
        *values, zone = row
        # RETURNING lists the columns in the model's field order, as from_db expects.
        fields = [field.attname for field in CampaignMember._meta.concrete_fields]
        return CampaignMember.from_db(connection.alias, fields, values), zone
    # Elsewhere (SQLite: one writer at a time) the same with the ORM.
    member = (
        _due(campaign=campaign, now=now)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("client")
        .order_by("next_attempt_at", "id")
        .first()
    )
    if member is None:
        return None
    member.state = CampaignMember.State.CLAIMED
    member.assigned_agent = agent
    member.locked_until = member.next_attempt_at = until
    member.save(update_fields=["state", "assigned_agent", "locked_until", "next_attempt_at"])
    return member, member.client.time_zone


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
