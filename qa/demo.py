"""Demo data for quality: two scorecards (one in its second version), a QA lead and a second
analyst, reviews of the demo calls (acknowledged, waiting, a dispute to resolve, one upheld,
one re-scored), coaching and a training assignment, a closed and an open calibration, the
weekly sample, three months of evaluations, and self-reported results with a flagged mismatch.

Runs after the calls, clients and orders demos. The calls demo simulates the last three
weeks; for evaluations over several months, a few months of older calls are added for the
"Service client" team on an inactive archive queue (so the live queues' forecast and
wallboard are untouched). Idempotent: everything is looked up by natural keys first.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from agents.demo import DEMO_PASSWORD
from agents.models import Agent, TrainingCourse, User
from agents.roles import Role
from agents.services import user_get_or_create, user_set_roles
from calls.models import Call, Queue

from . import crosscheck, services
from .models import CalibrationSession, Evaluation, Review, Scorecard, SelfReport
from .services.evaluations import period_containing
from .services.sampling import monday_of

ARCHIVE_PREFIX = "qa-demo-"
ARCHIVE_MONTHS = 3

INBOUND_CARD = "Service client – appel entrant"
OUTBOUND_CARD = "Ventes sortantes – appel sortant"

INBOUND_V1 = [
    {
        "title": "Accueil",
        "criteria": [
            {"label": "Présentation et formule d'accueil", "weight": 1},
            {"label": "Vérification de l'identité du client", "weight": 2, "allows_na": False},
        ],
    },
    {
        "title": "Traitement de la demande",
        "criteria": [
            {"label": "Reformulation du besoin", "weight": 2},
            {"label": "Solution apportée", "weight": 3, "scale": "points", "max_points": 4, "allows_na": False},
            {"label": "Saisie du dossier dans le CRM", "weight": 2, "scale": "points", "max_points": 2},
        ],
    },
    {
        "title": "Conformité",
        "criteria": [
            {
                "label": "Aucune donnée personnelle divulguée à un tiers",
                "weight": 1,
                "is_critical": True,
                "allows_na": False,
                "guidance": "Échec critique : la note de l'appel devient 0.",
            },
            {"label": "Courtoisie envers le client", "weight": 1, "is_critical": True, "allows_na": False},
        ],
    },
    {
        "title": "Conclusion",
        "criteria": [{"label": "Proposition d'aide supplémentaire et prise de congé", "weight": 1}],
    },
]

OUTBOUND = [
    {
        "title": "Ouverture",
        "criteria": [
            {"label": "Présentation et objet de l'appel", "weight": 1},
            {"label": "Vérification de l'interlocuteur", "weight": 2, "allows_na": False},
        ],
    },
    {
        "title": "Vente",
        "criteria": [
            {"label": "Découverte des besoins", "weight": 2, "scale": "points", "max_points": 3},
            {"label": "Présentation de l'offre et de ses conditions", "weight": 3, "scale": "points", "max_points": 4},
            {"label": "Traitement des objections", "weight": 2},
        ],
    },
    {
        "title": "Conformité",
        "criteria": [
            {
                "label": "Mentions légales et droit de rétractation",
                "weight": 2,
                "is_critical": True,
                "allows_na": False,
            },
            {"label": "Courtoisie envers le client", "weight": 1, "is_critical": True, "allows_na": False},
        ],
    },
]


def seed(*, stdout) -> dict:
    rng = random.Random(6006)  # the same demo at every run
    logins = {}
    with transaction.atomic():
        qa, lead, claire = _analysts()
        logins = {"qa.lead": str(Role.QA_ANALYST.label) + " (QA lead)", "qa.claire": str(Role.QA_ANALYST.label)}
        inbound, outbound = _scorecards(stdout)
        archived = _archive_calls(rng)
        if archived:
            stdout.write(f"  {archived} archived calls over {ARCHIVE_MONTHS} months for the evaluations")
        _reviews(rng, stdout, analysts=[qa, lead, claire], inbound=inbound, outbound=outbound)
        _calibrations(stdout, qa=qa, lead=lead, claire=claire)
        assigned = services.sample_assign_week(week_start=monday_of(timezone.localdate()) - timedelta(weeks=1), rng=rng)
        stdout.write(f"  weekly sample: {len(assigned)} calls newly assigned")
        _evaluations(stdout)
        _self_reports(stdout)
    return logins


# --- People and scorecards -------------------------------------------------------------------


def _analysts():
    qa = User.objects.get(username="qa")
    people = []
    for username, first, last in (("qa.lead", "Léna", "Marchand"), ("qa.claire", "Claire", "Dumas")):
        user, _ = user_get_or_create(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@demo.invalid",
            password=DEMO_PASSWORD,
        )
        user_set_roles(user=user, roles=[Role.QA_ANALYST])
        people.append(user)
    lead = people[0]
    lead.user_permissions.add(Permission.objects.get(content_type__app_label="qa", codename="resolve_dispute"))
    return qa, User.objects.get(pk=lead.pk), people[1]


def _scorecards(stdout):
    inbound = Scorecard.objects.filter(name=INBOUND_CARD).first()
    if inbound is None:
        inbound = services.scorecard_create(
            name=INBOUND_CARD, sections=INBOUND_V1, description="Grille des appels entrants du service client."
        )
    outbound = Scorecard.objects.filter(name=OUTBOUND_CARD).first()
    if outbound is None:
        outbound = services.scorecard_create(
            name=OUTBOUND_CARD, sections=OUTBOUND, description="Grille des appels de vente."
        )
    stdout.write("  scorecards: " + ", ".join(str(services.scorecard_current_version(s)) for s in (inbound, outbound)))
    return inbound, outbound


def _new_inbound_version(inbound):
    """Version 2: identity weighs more and the CRM entry becomes critical-free 0..3 (used by recent reviews)."""
    current = services.scorecard_current_version(inbound)
    if current.number >= 2:
        return current
    version = services.scorecard_version_create_next(
        scorecard=inbound, notes="Vérification d'identité pondérée 3 ; saisie CRM notée de 0 à 3."
    )
    sections = [dict(s, criteria=[dict(c) for c in s["criteria"]]) for s in INBOUND_V1]
    sections[0]["criteria"][1]["weight"] = 3
    sections[1]["criteria"][2].update(max_points=3)
    services.scorecard_version_set_content(version=version, sections=sections)
    return services.scorecard_version_publish(version=version)


# --- Calls ----------------------------------------------------------------------------------------


def _archive_calls(rng) -> int:
    """A few months of handled calls for the Service client team, before the calls demo's history."""
    if Call.objects.filter(external_id__startswith=ARCHIVE_PREFIX).exists():
        return 0
    agents = list(Agent.objects.filter(team__name="Service client").order_by("employee_number"))
    if not agents:
        return 0
    queue, _ = Queue.objects.get_or_create(
        slug="archives-qualite",
        defaults={"name": "Archives (démo qualité)", "is_active": False, "callback_on_abandon": False},
    )
    zone = timezone.get_default_timezone()
    first_live = Call.objects.exclude(external_id__startswith=ARCHIVE_PREFIX).aggregate(first=Min("offered_at"))[
        "first"
    ]
    until = timezone.localtime(first_live).date() if first_live else timezone.localdate()
    start = period_containing(until)[0]
    for _ in range(ARCHIVE_MONTHS):
        start = period_containing(start - timedelta(days=1))[0]
    calls = []
    callers = [f"+3361{n:07d}" for n in range(400)]
    day = start
    while day < until:
        if day.weekday() < 5:
            for agent in agents:
                # Each agent has a level: better agents are faster.
                pace = 1 + (agent.pk % 4) * 0.15
                for n in range(rng.randint(4, 7)):
                    offered = datetime.combine(day, time(9 + n, rng.randint(0, 50)), tzinfo=zone)
                    talk = round(rng.uniform(150, 330) * pace)
                    wait = rng.randint(5, 60)
                    calls.append(
                        Call(
                            external_id=f"{ARCHIVE_PREFIX}{agent.employee_number}-{day:%Y%m%d}-{n}",
                            caller_number=rng.choice(callers),
                            queue=queue,
                            agent=agent,
                            state=Call.State.COMPLETED,
                            offered_at=offered,
                            answered_at=offered + timedelta(seconds=wait),
                            ended_at=offered + timedelta(seconds=wait + talk),
                            wrap_up_done_at=offered + timedelta(seconds=wait + talk + 40),
                            wait_s=wait,
                            talk_s=talk,
                            hold_s=rng.choice([0, 0, 0, 30]),
                            wrap_up_s=40,
                            end_reason=Call.EndReason.COMPLETED,
                            recording_url=f"https://pbx.demo.invalid/recordings/{ARCHIVE_PREFIX}{agent.pk}-{day:%Y%m%d}-{n}.wav",
                        )
                    )
        day += timedelta(days=1)
    Call.objects.bulk_create(calls, batch_size=1000)
    return len(calls)


# --- Reviews -----------------------------------------------------------------------------------------


def _answers(rng, version, level: float) -> list[dict]:
    """Plausible answers for an agent of a given level (0..1): better agents fail less."""
    from .models import Criterion

    entries = []
    for criterion in Criterion.objects.filter(section__version=version).order_by("section__position", "position"):
        if criterion.allows_na and rng.random() < 0.08:
            value = "na"
        elif criterion.scale == Criterion.Scale.YES_NO:
            threshold = 0.985 if criterion.is_critical else 0.55 + 0.4 * level
            value = "yes" if rng.random() < threshold else "no"
        else:
            value = max(
                0, min(criterion.max_points, round(rng.gauss(criterion.max_points * (0.45 + 0.5 * level), 0.8)))
            )
        comment = ""
        if value in ("no", 0):
            comment = "À travailler : voir avec le superviseur."
        entries.append({"criterion": criterion.pk, "value": value, "comment": comment})
    return entries


def _review(rng, *, reviewer, call, version, level, comment=""):
    review = services.review_create(
        reviewer=reviewer,
        call_id=call.pk,
        scorecard_version_id=version.pk,
        scores=_answers(rng, version, level),
        comment=comment,
        submit=True,
    )
    # Scored the day after the call, as on the floor (today's calls: now).
    when = min(call.offered_at + timedelta(days=1), timezone.now() - timedelta(minutes=5))
    Review.objects.filter(pk=review.pk).update(submitted_at=when, created_at=when)
    review.history.update(at=when)
    return review


def _acknowledge(review):
    """The agent acknowledges a couple of days after the review."""
    services.review_acknowledge(review=review, by=review.agent.user)
    when = min(review.submitted_at + timedelta(days=2), timezone.now() - timedelta(minutes=1))
    review.history.filter(to_status=Review.Status.ACKNOWLEDGED).update(at=when)


def _reviews(rng, stdout, *, analysts, inbound, outbound):
    if Review.objects.filter(kind=Review.Kind.REGULAR, call__external_id__startswith=ARCHIVE_PREFIX).exists():
        stdout.write("  reviews already there")
        return
    qa, lead, claire = analysts
    inbound_v1 = services.scorecard_current_version(inbound)
    levels = {}
    made = []
    # Older months: the archived calls, scored with version 1.
    team = list(Agent.objects.filter(team__name="Service client").select_related("user").order_by("employee_number"))
    for agent in team:
        levels[agent.pk] = 0.35 + 0.6 * rng.random() if agent.user.username != "agent" else 0.7
        archived = list(Call.objects.filter(agent=agent, external_id__startswith=ARCHIVE_PREFIX).order_by("offered_at"))
        for call in archived[:: max(1, len(archived) // 6)][:6]:
            review = _review(
                rng, reviewer=rng.choice([qa, claire]), call=call, version=inbound_v1, level=levels[agent.pk]
            )
            _acknowledge(Review.objects.get(pk=review.pk))
            made.append(review)
    # Recent weeks: the calls demo's calls, with version 2 of the inbound card and the outbound card.
    inbound_v2 = _new_inbound_version(inbound)
    outbound_v1 = services.scorecard_current_version(outbound)
    recent = Call.objects.filter(state=Call.State.COMPLETED, agent__isnull=False).exclude(
        external_id__startswith=ARCHIVE_PREFIX
    )
    for team_name, version in (("Service client", inbound_v2), ("Ventes sortantes", outbound_v1)):
        for agent in Agent.objects.filter(team__name=team_name).select_related("user").order_by("employee_number"):
            level = levels.setdefault(agent.pk, 0.35 + 0.6 * rng.random())
            for call in recent.filter(agent=agent).order_by("-offered_at")[:3]:
                review = _review(rng, reviewer=rng.choice([qa, claire]), call=call, version=version, level=level)
                made.append(review)
                if call.offered_at < timezone.now() - timedelta(days=5):
                    _acknowledge(Review.objects.get(pk=review.pk))
    stdout.write(f"  {len(made)} reviews (scorecard versions 1 and 2)")
    _disputes_and_coaching(rng, qa=qa, lead=lead, made=made)


def _disputes_and_coaching(rng, *, qa, lead, made):
    """The featured agent's latest review is disputed and waits for the QA lead; two others
    were disputed and resolved (upheld, re-scored); coaching and a course follow a weak review."""
    ids = [r.pk for r in made]
    waiting = list(
        Review.objects.filter(pk__in=ids, status=Review.Status.SUBMITTED)
        .select_related("agent__user")
        .order_by("-call__offered_at")
    )
    featured = [r for r in waiting if r.agent.user.username == "agent"][:1] or waiting[:1]
    for review in featured:
        services.review_dispute(
            review=review,
            by=review.agent.user,
            reason="Le client a refusé de donner sa date de naissance, j'ai vérifié par l'adresse.",
        )
    others = [r for r in waiting if r not in featured and r.reviewer_id == qa.pk][:2]
    if others:
        upheld = others[0]
        services.review_dispute(review=upheld, by=upheld.agent.user, reason="Je pense avoir bien reformulé la demande.")
        services.review_resolve(
            review=upheld,
            by=lead,
            outcome="upheld",
            note="Réécouté : la reformulation n'est pas faite. Note maintenue.",
        )
    if len(others) > 1:
        rescored = others[1]
        services.review_dispute(
            review=rescored, by=rescored.agent.user, reason="La solution a été donnée à la fin de l'appel."
        )
        # The QA lead gives full points where points were given.
        full = [
            {"criterion": s.criterion_id, "value": s.criterion.max_points}
            for s in rescored.scores.select_related("criterion")
            if s.criterion.scale == "points" and s.points is not None
        ]
        if full:
            services.review_resolve(
                review=rescored,
                by=lead,
                outcome="rescored",
                note="Exact, la solution est donnée à 6:40. Note corrigée.",
                scores=full,
            )
        else:
            services.review_resolve(review=rescored, by=lead, outcome="upheld", note="Note maintenue.")
    weak = (
        Review.objects.filter(pk__in=ids, score_pct__isnull=False)
        .exclude(status=Review.Status.DISPUTED)
        .order_by("score_pct", "pk")
        .first()
    )
    if weak is not None:
        due = timezone.localdate() + timedelta(days=14)
        services.coaching_action_add(
            review=weak, by=qa, description="Double écoute avec le superviseur : vérification d'identité.", due_date=due
        )
        course = TrainingCourse.objects.filter(title="Données personnelles et RGPD").first()
        trainer = User.objects.filter(username="trainer").first()
        if course and trainer:
            services.training_assign(
                review=weak, by=trainer, course_id=course.pk, due_date=due, note="Suite à la revue qualité."
            )


def _calibrations(stdout, *, qa, lead, claire):
    if CalibrationSession.objects.filter(title__startswith="Calibrage").exists():
        return
    calls = list(
        Call.objects.filter(state=Call.State.COMPLETED, agent__team__name="Service client")
        .exclude(qa_reviews__kind=Review.Kind.REGULAR)
        .order_by("-offered_at")[:2]
    )
    if len(calls) < 2:
        return
    scorecard = Scorecard.objects.get(name=INBOUND_CARD)
    closed = services.calibration_create(
        by=lead,
        call_id=calls[0].pk,
        title="Calibrage mensuel – service client",
        participant_ids=[qa.pk, lead.pk, claire.pk],
        scorecard_id=scorecard.pk,
    )
    # Three reviewers, three readings of the same call: a strict, a middle and a lenient one.
    for seed_, (user, level) in enumerate(((qa, 0.9), (lead, 0.7), (claire, 0.4))):
        review = services.calibration_review_start(session=closed, by=user)
        services.review_save_scores(
            review=review, by=user, scores=_answers(random.Random(100 + seed_), closed.scorecard_version, level)
        )
        services.review_submit(review=review, by=user)
    services.calibration_close(session=closed, by=lead)
    open_session = services.calibration_create(
        by=lead,
        call_id=calls[1].pk,
        title="Calibrage – appel difficile",
        participant_ids=[qa.pk, claire.pk],
        scorecard_id=scorecard.pk,
    )
    review = services.calibration_review_start(session=open_session, by=claire)
    services.review_save_scores(
        review=review, by=claire, scores=_answers(random.Random(7), open_session.scorecard_version, 0.6)
    )
    services.review_submit(review=review, by=claire)
    stdout.write("  calibration: one closed session (3 reviewers), one open (waiting for “qa”)")


# --- Evaluations ---------------------------------------------------------------------------------


def _evaluations(stdout):
    """Three months of evaluations for the Service client team: signed, signed, then the last
    month shared and waiting for the agent's signature."""
    agents = list(
        Agent.objects.filter(team__name="Service client").select_related("team", "user").order_by("employee_number")
    )
    if not agents:
        return
    periods = []
    start = period_containing(timezone.localdate())[0]
    for _ in range(ARCHIVE_MONTHS):
        start = period_containing(start - timedelta(days=1))[0]
        periods.append(period_containing(start))
    periods.reverse()
    made = 0
    for agent in agents:
        supervisor = agent.supervisor or agent.team.supervisor
        for index, (period_start, period_end) in enumerate(periods):
            if Evaluation.objects.filter(agent=agent, period_start=period_start).exists():
                continue
            evaluation = services.evaluation_create(
                by=supervisor, agent_id=agent.pk, period_start=period_start, period_end=period_end
            )
            base = 2 + (agent.pk + index) % 3
            services.evaluation_update(
                evaluation=evaluation,
                by=supervisor,
                rating_communication=min(5, base + 1),
                rating_data_accuracy=base,
                rating_product_knowledge=min(5, base + index % 2),
                rating_composure=min(5, base + 1),
                rating_reliability=min(5, base + (index + 1) % 2),
                comments="Bon mois dans l'ensemble ; la vérification d'identité reste à consolider."
                if index % 2
                else "Progrès nets sur la reformulation. Saisie CRM parfois incomplète.",
                goals="Vérifier l'identité sur 100 % des appels ; AHT sous l'objectif.",
            )
            services.evaluation_share(evaluation=evaluation, by=supervisor)
            if index < len(periods) - 1:
                services.evaluation_sign(evaluation=evaluation, by=agent.user, comment="Lu et approuvé.")
            made += 1
    stdout.write(f"  {made} evaluations over {len(periods)} months")


# --- Self-reported results ---------------------------------------------------------------------------


def _self_reports(stdout):
    """The outbound team's agents (paid on results) report the last working days. Their figures
    match the record, except one day flagged for the supervisor, one the supervisor corrected and
    one they confirmed."""
    agents = list(
        Agent.objects.filter(team__name="Ventes sortantes")
        .select_related("team", "user")
        .order_by("employee_number")[:4]
    )
    if not agents:
        return
    today = timezone.localdate()
    days = [today - timedelta(days=n) for n in range(0, 12) if (today - timedelta(days=n)).weekday() < 5][:8]
    recorded = crosscheck.recorded_results(agent_ids=[a.pk for a in agents], start=min(days), end=today) or {}
    supervisor = agents[0].supervisor or agents[0].team.supervisor
    made = 0
    for a_index, agent in enumerate(agents):
        for d_index, day in enumerate(sorted(days)):
            if SelfReport.objects.filter(agent=agent, date=day).exists():
                continue
            rec = recorded.get((agent.pk, day), crosscheck.RecordedDay())
            applications, sales, collections = rec.applications, rec.sales, rec.collections
            twist = (a_index, d_index)
            if twist in ((0, len(days) - 2), (1, 2), (2, 4)):
                sales += 1  # the agent counts a sale the system does not have
            report = services.self_report_submit(
                by=agent.user,
                day=day,
                applications_signed=applications,
                sales=sales,
                collections_amount=Decimal(collections),
                note="Vente signée sur bon papier." if sales != rec.sales else "",
            )
            made += 1
            if twist == (1, 2) and supervisor:
                services.self_report_correct(
                    report=report,
                    by=supervisor,
                    applications_signed=rec.applications,
                    sales=rec.sales,
                    collections_amount=rec.collections,
                    note="Pas de commande enregistrée ce jour-là.",
                )
            elif twist == (2, 4) and supervisor:
                services.self_report_confirm(report=report, by=supervisor, note="Bon de commande papier vérifié.")
    flagged = SelfReport.objects.filter(status=SelfReport.Status.FLAGGED).count()
    stdout.write(f"  {made} self-reported days, {flagged} flagged for the supervisor")
