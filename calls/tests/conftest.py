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
