"""Demo data for the agents app: teams, supervisors, about 30 agents, HR, a trainer,
skills, courses and onboarding. Idempotent: rows are looked up by natural keys."""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from .models import (
    Agent,
    AgentSkill,
    EmploymentContract,
    Language,
    OnboardingStep,
    Skill,
    Team,
    TrainingCourse,
    TrainingRecord,
)
from .roles import Role
from .services import onboarding_start, user_get_or_create, user_set_roles

DEMO_PASSWORD = "demo"  # noqa: S105 -- printed on purpose: demo data only

# (username, first name, last name, roles): the logins printed at the end of seed_demo.
STAFF = [
    ("manager", "Marc", "Lefèvre", [Role.MANAGER]),
    ("hr", "Hélène", "Garnier", [Role.HR]),
    ("trainer", "Thomas", "Roux", [Role.TRAINER]),
    ("qa", "Quentin", "Faure", [Role.QA_ANALYST]),
    ("supervisor", "Sophie", "Bernard", [Role.SUPERVISOR]),
    ("sup.outbound", "Nicolas", "Petit", [Role.SUPERVISOR]),
    ("sup.support", "Isabelle", "Moreau", [Role.SUPERVISOR]),
    ("sup.escalation", "Karim", "Haddad", [Role.SUPERVISOR]),
]

LANGUAGES = [("fr", "Français"), ("en", "English"), ("ar", "العربية"), ("es", "Español"), ("de", "Deutsch")]
SKILLS = ["Facturation", "Internet et fibre", "Mobile", "Vente", "Fidélisation", "Recouvrement", "Support technique"]

# (name, kind, supervisor username, skills the team's agents hold)
TEAMS = [
    ("Service client", Team.Kind.INBOUND, "supervisor", ["Facturation", "Mobile", "Internet et fibre"]),
    ("Ventes sortantes", Team.Kind.OUTBOUND, "sup.outbound", ["Vente", "Fidélisation"]),
    ("Support technique", Team.Kind.TECHNICAL_SUPPORT, "sup.support", ["Support technique", "Internet et fibre"]),
    ("Escalade", Team.Kind.ESCALATION, "sup.escalation", ["Facturation", "Fidélisation", "Recouvrement"]),
]

FIRST_NAMES = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Sarah",
    "Julie",
    "Emma",
    "Clara",
    "Océane",
    "Lucas",
    "Hugo",
    "Louis",
    "Nathan",
    "Enzo",
    "Mathis",
    "Théo",
    "Yanis",
    "Rayan",
    "Jules",
    "Amira",
    "Nadia",
    "Samir",
    "Mehdi",
    "Aurélie",
    "Pauline",
    "Maxime",
    "Antoine",
    "Élodie",
    "Romain",
]
LAST_NAMES = [
    "Martin",
    "Durand",
    "Dubois",
    "Laurent",
    "Simon",
    "Michel",
    "Lefebvre",
    "Leroy",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Blanc",
    "Guerin",
    "Boyer",
    "Chevalier",
    "Benali",
    "Mercier",
    "Gauthier",
    "Perrin",
    "Robin",
    "Clement",
    "Morin",
    "Nicolas",
]

COURSES = [
    ("Accueil téléphonique et posture", None, Decimal("7")),
    ("Offres internet et fibre", "Internet et fibre", Decimal("14")),
    ("Techniques de vente au téléphone", "Vente", Decimal("7")),
    ("Données personnelles et RGPD", None, Decimal("3.5")),
    ("Gérer un client difficile", "Fidélisation", Decimal("7")),
    ("Outils CRM et saisie", None, Decimal("3.5")),
]
ONBOARDING = [
    "Badge, poste et casque",
    "Compte CRM et téléphonie",
    "Formation données personnelles (RGPD)",
    "Double écoute avec un agent confirmé",
    "Premiers appels accompagnés",
]


def seed(*, stdout) -> dict:
    """Create or refresh the demo people. Returns the logins to print."""
    rng = random.Random(2012)  # same data at every run
    today = date.today()
    with transaction.atomic():
        languages = {
            code: Language.objects.update_or_create(code=code, defaults={"name": name})[0] for code, name in LANGUAGES
        }
        skills = {name: Skill.objects.get_or_create(name=name)[0] for name in SKILLS}
        users = {}
        for username, first, last, roles in STAFF:
            user, created = user_get_or_create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@demo.invalid",
                password=DEMO_PASSWORD,
            )
            user_set_roles(user=user, roles=list(roles))
            users[username] = user
        teams = {}
        for name, kind, sup, _skills in TEAMS:
            team, _ = Team.objects.update_or_create(
                name=name, defaults={"kind": kind, "supervisor": users[sup], "manager": users["manager"]}
            )
            teams[name] = team
        stdout.write(f"  {len(teams)} teams, {len(skills)} skills, {len(users)} staff")

        courses = {}
        for title, skill, hours in COURSES:
            courses[title], _ = TrainingCourse.objects.update_or_create(
                title=title, defaults={"skill": skills.get(skill), "duration_hours": hours}
            )
        for position, title in enumerate(ONBOARDING, start=1):
            OnboardingStep.objects.update_or_create(title=title, defaults={"position": position})

        agents = []
        for i, (first, last) in enumerate(zip(FIRST_NAMES, LAST_NAMES, strict=True)):
            # The first agent is the featured demo login "agent".
            username = "agent" if i == 0 else f"{_ascii(first)}.{_ascii(last)}".lower()
            user, _ = user_get_or_create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@demo.invalid",
                password=DEMO_PASSWORD,
            )
            user_set_roles(user=user, roles=[Role.AGENT])
            team_name, _kind, _sup, team_skills = TEAMS[i % len(TEAMS)]
            team = teams[team_name]
            hired = today - timedelta(days=rng.randint(20, 2500))
            agent, _ = Agent.objects.update_or_create(
                employee_number=f"E{1001 + i}",
                defaults={
                    "user": user,
                    "team": team,
                    "supervisor": team.supervisor,
                    "hire_date": hired,
                    "contract_type": rng.choices(
                        [
                            Agent.ContractType.PERMANENT,
                            Agent.ContractType.TEMPORARY,
                            Agent.ContractType.CAMPAIGN_VOLUNTEER,
                        ],
                        weights=[6, 3, 1],
                    )[0],
                    "calls_per_day_target": 80 if team.kind == Team.Kind.INBOUND else 50,
                    "aht_target_s": 300 if team.kind != Team.Kind.TECHNICAL_SUPPORT else 540,
                    "work_mode": Agent.WorkMode.REMOTE if i % 5 == 4 else Agent.WorkMode.ON_SITE,
                },
            )
            spoken = (
                ["fr"]
                + (["en"] if i % 2 == 0 else [])
                + (["ar"] if i % 7 == 3 else [])
                + (["es"] if i % 9 == 5 else [])
            )
            agent.languages.set([languages[c] for c in spoken])
            for skill_name in team_skills:
                AgentSkill.objects.update_or_create(
                    agent=agent, skill=skills[skill_name], defaults={"level": 1 + (i + len(skill_name)) % 5}
                )
            EmploymentContract.objects.update_or_create(
                agent=agent,
                defaults={
                    "start_date": hired,
                    "end_date": hired + timedelta(days=365)
                    if agent.contract_type != Agent.ContractType.PERMANENT
                    else None,
                    "weekly_hours": Decimal("35"),
                    "gross_monthly_salary": Decimal(1850 + 40 * (i % 8)),
                },
            )
            onboarding_start(agent=agent)
            if not agent.training.exists():
                for title in rng.sample(list(courses), 2):
                    score = Decimal(rng.randint(55, 98))
                    TrainingRecord.objects.create(
                        agent=agent,
                        course=courses[title],
                        trainer=users["trainer"],
                        date=hired + timedelta(days=rng.randint(1, 30)),
                        score=score,
                        passed=score >= courses[title].passing_score,
                    )
            agents.append(agent)
        stdout.write(f"  {len(agents)} agents with skills, languages, contracts, training and onboarding")

    logins = {username: ", ".join(str(r.label) for r in roles) for username, _f, _l, roles in STAFF}
    logins = {"agent": str(Role.AGENT.label), **logins}
    return logins


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
