import pytest


@pytest.fixture(autouse=True)
def _no_opportunistic_sweep(settings):
    # Tests drive time-based work (reservation timeouts, due callbacks) explicitly; the
    # throttled sweep of the single-process mode is tested on its own.
    settings.CALLS_SWEEP_INTERVAL_S = 0


@pytest.fixture
def fr(db):
    from agents.tests.factories import LanguageFactory

    return LanguageFactory(code="fr", name="Français")


@pytest.fixture
def en(db):
    from agents.tests.factories import LanguageFactory

    return LanguageFactory(code="en", name="English")


@pytest.fixture
def billing(db):
    from agents.tests.factories import SkillFactory

    return SkillFactory(name="Billing")


@pytest.fixture
def queue(fr, billing):
    from calls.tests.factories import QueueFactory

    return QueueFactory(name="Billing FR", slug="billing-fr", required_skill=billing, required_language=fr)


@pytest.fixture
def migrated_rows(db):
    """Rows the data migrations create (role groups, the disposition catalog). A transactional
    test flushes the database after it runs, so the ones after it need them again."""
    import importlib

    from django.contrib.auth.models import Group

    from agents.roles import Role
    from calls.models import Disposition

    for role in Role.values:
        Group.objects.get_or_create(name=role)
    seed = importlib.import_module("calls.migrations.0002_dispositions_roles_sweep")
    for code, label in seed.DISPOSITIONS:
        Disposition.objects.get_or_create(code=code, defaults={"label": label})


@pytest.fixture
def two_team_floor(team_a, team_b, fr):
    """Queue A served by team A (Alice), queue B by team B (Bob), each with a call."""
    from calls.tests.factories import QueueFactory, agent_with, make_available, offer

    queue_a = QueueFactory(name="Queue A", slug="fa", required_language=fr, teams=[team_a])
    queue_b = QueueFactory(name="Queue B", slug="fb", required_language=fr, teams=[team_b])
    alice = agent_with(team=team_a, username="f-alice")
    bob = agent_with(team=team_b, username="f-bob")
    make_available(alice)
    make_available(bob)
    call_a = offer(queue_a, caller="+33600000011")
    call_b = offer(queue_b, caller="+33600000022")
    return {"queue_a": queue_a, "queue_b": queue_b, "alice": alice, "bob": bob, "call_a": call_a, "call_b": call_b}
