"""Demo data of the client base: French clients, offers and catalogs, a running campaign with
outcomes and refusals, a provider survey, and the re-offer campaign of a published offer.

Idempotent: catalogs and clients are looked up by natural keys (code, phone number);
the campaign's contacts are played once (when it has no outcome yet).
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from agents.models import Agent, Language, Team, User

from .models import (
    Campaign,
    CampaignMember,
    Client,
    ClientPhone,
    ContactOutcome,
    Offer,
    ProviderSurveyAnswer,
    RefusalReason,
    StayReason,
)
from .services import campaign_add_clients, client_mark_do_not_call, offer_publish, outcome_record

Rule = RefusalReason.ReofferRule

# (code, name, category, price, period, commitment months, technician, description)
OFFERS = [
    ("fibre-1g", "Fibre 1 Gb/s", "internet", "39.99", "monthly", 12, True, "Box fibre, appels illimités, TV"),
    ("fibre-libre", "Fibre Libre sans engagement", "internet", "44.99", "monthly", 0, True, "Sans engagement"),
    ("box-tv", "Option TV 200 chaînes", "tv", "14.99", "monthly", 0, False, "Décodeur 4K inclus"),
    ("mobile-5g", "Forfait mobile 5G 150 Go", "mobile", "19.99", "monthly", 12, False, "Nouvelle carte SIM"),
    ("pret-perso", "Prêt personnel 10 000 €", "loan", "0.00", "once", 0, False, "Étude de dossier gratuite"),
    ("taxi-aeroport", "Course taxi aéroport", "taxi", "55.00", "once", 0, False, "Paris ↔ Orly ou Roissy"),
]
# Published by the demo after the campaign: its re-offer campaign calls the "too expensive" ones back.
REOFFER = ("fibre-essentiel", "Fibre Essentiel 500 Mb/s", "internet", "29.99", "monthly", 12, True, "L'essentiel")

# (code, label, requires text, re-offer rule)
REFUSAL_REASONS = [
    ("too_expensive", "Trop cher", False, Rule.CHEAPER),
    ("has_provider", "Déjà un fournisseur", False, Rule.NO_COMMITMENT),
    ("no_need", "Pas besoin", False, Rule.NEW_SERVICE),
    ("bad_timing", "Pas le bon moment", False, Rule.ANY_OFFER),
    ("distrust", "Méfiance", False, Rule.NONE),
    ("other", "Autre (préciser)", True, Rule.NONE),
]
STAY_REASONS = [
    ("commitment", "Encore engagé", False),
    ("price", "Prix plus bas", False),
    ("satisfied", "Satisfait du service", False),
    ("bundle", "Offre groupée (mobile + box)", False),
    ("habit", "Habitude, flemme de changer", False),
    ("other", "Autre (préciser)", True),
]

FIRST = [
    "Jeanne",
    "Pierre",
    "Marie",
    "Louis",
    "Camille",
    "Nicolas",
    "Sophie",
    "Julien",
    "Céline",
    "Olivier",
    "Nathalie",
    "Stéphane",
    "Isabelle",
    "Laurent",
    "Aurélie",
    "Mathieu",
    "Karima",
    "Youssef",
    "Fatima",
    "Hugo",
]
LAST = [
    "Lemoine",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
]
STREETS = [
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "boulevard Gambetta",
    "place de la Mairie",
    "rue Pasteur",
    "allée des Tilleuls",
    "chemin des Vignes",
    "rue du Moulin",
    "avenue de la Gare",
]
CITIES = [
    ("75011", "PARIS"),
    ("69003", "LYON"),
    ("13006", "MARSEILLE"),
    ("31000", "TOULOUSE"),
    ("33000", "BORDEAUX"),
    ("59000", "LILLE"),
    ("44000", "NANTES"),
    ("67000", "STRASBOURG"),
    ("34000", "MONTPELLIER"),
    ("35000", "RENNES"),
]
PROVIDERS = ["Orange", "SFR", "Bouygues Telecom", "Free", ""]

CAMPAIGN = "Fibre printemps"
CLIENT_COUNT = 80


def _demo_clients(rng: random.Random) -> list[Client]:
    french = Language.objects.filter(code="fr").first()
    clients = []
    for i in range(CLIENT_COUNT):
        number = f"+336{20000000 + i * 7919:08d}"
        postal_code, city = CITIES[i % len(CITIES)]
        values = {
            "full_name": f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}",
            "email": f"client{i + 1}@demo.invalid",
            "address_line": f"{1 + (i * 13) % 120} {STREETS[i % len(STREETS)]}",
            "postal_code": postal_code,
            "city": city,
            "country": "FR",
            "preferred_language": french,
            "time_zone": "America/Martinique" if i % 25 == 24 else "",
            "current_provider": PROVIDERS[i % len(PROVIDERS)],
            "segment": "professionnel" if i % 6 == 0 else "particulier",
            "tags": "fibre-eligible" if i % 3 else "fibre-eligible,vip",
            "marketing_consent": i % 4 != 0,
        }
        phone = ClientPhone.objects.select_related("client").filter(number=number).first()
        if phone is None:
            client = Client.objects.create(**values)
            ClientPhone.objects.create(client=client, number=number, label="mobile")
        else:
            client = phone.client
            for name, value in values.items():
                setattr(client, name, value)
            client.save()
        clients.append(client)
    # Two who asked never to be called again.
    for client in clients[-2:]:
        client_mark_do_not_call(client=client, source="demo")
    return clients


def _link_demo_calls(clients: list[Client]) -> int:
    """The calls demo runs first and its callers are nobody yet: give 20 of those numbers to
    demo clients and link their calls and callbacks, as incoming-call matching would have,
    so the client records show calls in their history."""
    from calls.models import Call, Callback

    linked = 0
    taken = set(ClientPhone.objects.values_list("number", flat=True))
    numbers = [
        n
        for n in Call.objects.filter(client__isnull=True, caller_number__startswith="+336")
        .order_by("-offered_at")
        .values_list("caller_number", flat=True)[:200]
        if n not in taken
    ]
    for client, number in zip(clients[:20], dict.fromkeys(numbers), strict=False):
        if client.phones.count() > 1:
            continue  # linked at an earlier run
        ClientPhone.objects.create(client=client, number=number, label="autre")
        linked += Call.objects.filter(caller_number=number, client__isnull=True).update(client=client)
        Callback.objects.filter(number=number, client__isnull=True).update(client=client)
    return linked


def _play_campaign(campaign: Campaign, agents: list[Agent], reasons: dict, rng: random.Random) -> int:
    """Contacts of the past days: accepted (→ draft orders), refusals with reasons, no answers,
    busy, a callback and a do-not-call request. Played once."""
    if campaign.outcomes.exists():
        return 0
    members = list(campaign.members.select_related("client").order_by("pk"))
    plan = (
        ["accepted"] * 6
        + [("refused", "too_expensive")] * 6
        + [("refused", "has_provider")] * 4
        + [("refused", "no_need")] * 3
        + [("refused", "bad_timing")] * 2
        + [("refused", "distrust")] * 1
        + [("refused", "other")] * 1
        + ["no_answer"] * 6
        + ["busy"] * 3
        + ["callback_requested"] * 2
        + ["do_not_call"]
        + ["wrong_number"]
    )
    now = timezone.now()
    played = 0
    for member, step in zip(members, plan, strict=False):
        agent = agents[played % len(agents)]
        kind, reason = step if isinstance(step, tuple) else (step, None)
        kwargs = {}
        if reason:
            kwargs["refusal_reason"] = reasons[reason]
            if reason == "other":
                kwargs["refusal_text"] = "Déménage à l'étranger le mois prochain"
        if kind == "callback_requested":
            kwargs["callback_at"] = now + timedelta(days=1, hours=rng.randint(0, 4))
        outcome = outcome_record(by=agent.user, client=member.client, campaign=campaign, kind=kind, **kwargs)
        # Spread the history over the past ten days.
        ContactOutcome.objects.filter(pk=outcome.pk).update(
            created_at=now - timedelta(days=rng.randint(1, 10), minutes=rng.randint(0, 600))
        )
        played += 1
    return played


def seed(*, stdout) -> dict:
    rng = random.Random(2015)
    today = date.today()
    with transaction.atomic():
        offers = {}
        for code, name, category, price, period, months, technician, description in OFFERS:
            offers[code], _ = Offer.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "category": category,
                    "price": Decimal(price),
                    "price_period": period,
                    "commitment_months": months,
                    "needs_technician": technician,
                    "description": description,
                    "terms": f"Engagement {months} mois" if months else "Sans engagement",
                    "active_from": today - timedelta(days=90),
                },
            )
        reasons = {}
        for position, (code, label, requires_text, rule) in enumerate(REFUSAL_REASONS):
            reasons[code], _ = RefusalReason.objects.update_or_create(
                code=code,
                defaults={"label": label, "requires_text": requires_text, "reoffer_rule": rule, "position": position},
            )
        stay = {}
        for position, (code, label, requires_text) in enumerate(STAY_REASONS):
            stay[code], _ = StayReason.objects.update_or_create(
                code=code, defaults={"label": label, "requires_text": requires_text, "position": position}
            )
        stdout.write(f"  {len(offers)} offers, {len(reasons)} refusal reasons, {len(stay)} reasons to stay")

        clients = _demo_clients(rng)
        linked = _link_demo_calls(clients)
        stdout.write(f"  {len(clients)} clients (2 do-not-call); {linked} demo calls linked to them now")

        outbound = Team.objects.filter(name="Ventes sortantes").first()
        featured = Agent.objects.filter(user__username="agent").first()
        campaign, _ = Campaign.objects.update_or_create(
            name=CAMPAIGN,
            defaults={
                "kind": Campaign.Kind.SALES,
                "status": Campaign.Status.RUNNING,
                "offer": offers["fibre-1g"],
                "starts_at": timezone.now() - timedelta(days=14),
                "ends_at": timezone.now() + timedelta(days=60),
                "created_by": User.objects.filter(username="sup.outbound").first(),
            },
        )
        if outbound:
            campaign.teams.add(outbound)
        if featured:
            campaign.agents.add(featured)  # the demo login "agent" may press "next client" too
        campaign_add_clients(campaign=campaign, clients=Client.objects.filter(pk__in=[c.pk for c in clients[:70]]))
        Campaign.objects.update_or_create(
            name="Fidélisation mobile",
            defaults={"kind": Campaign.Kind.RETENTION, "status": Campaign.Status.DRAFT, "offer": offers["mobile-5g"]},
        )
        agents = list(Agent.objects.filter(team=outbound).select_related("user").order_by("employee_number")) or (
            [featured] if featured else []
        )
        played = _play_campaign(campaign, agents, reasons, rng) if agents else 0
        stdout.write(f"  campaign “{campaign.name}”: {campaign.members.count()} clients, {played} contacts played now")

        if agents and not ProviderSurveyAnswer.objects.exists():
            answers = ["commitment", "commitment", "price", "satisfied", "bundle", "bundle", "habit", "commitment"]
            with_provider = [c for c in clients if c.current_provider and not c.do_not_call]
            for client, code in zip(with_provider, answers, strict=False):
                ProviderSurveyAnswer.objects.create(
                    client=client,
                    provider=client.current_provider,
                    reason=stay[code],
                    by=agents[0].user,
                    campaign=campaign,
                )
        stdout.write(f"  {ProviderSurveyAnswer.objects.count()} provider survey answers")

        code, name, category, price, period, months, technician, description = REOFFER
        essential, _ = Offer.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "category": category,
                "price": Decimal(price),
                "price_period": period,
                "commitment_months": months,
                "needs_technician": technician,
                "description": description,
                "terms": f"Engagement {months} mois",
                "active_from": today,
            },
        )
        if essential.published_at is None:
            reoffer = offer_publish(offer=essential)
            if reoffer is not None and featured:
                reoffer.agents.add(featured)
        reoffer = Campaign.objects.filter(offer=essential, is_reoffer=True).first()
        if reoffer:
            stdout.write(f"  re-offer campaign “{reoffer.name}”: {reoffer.members.count()} clients ready to call")
        waiting = CampaignMember.objects.filter(campaign=campaign, state__in=CampaignMember.OPEN_STATES).count()
        stdout.write(f"  {waiting} clients due in “{campaign.name}”")
    return {}
