"""Project-wide test set-up: fast password hashing, eager Celery, role users."""

import pytest

from contactcenter.celery import app as celery_app


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests run tasks in-process (after commit) even where a Redis broker is configured.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _no_shared_day_figures_across_tests():
    # The wallboard's day figures are shared per process for a few seconds
    # (calls.selectors.SharedDayFigures): a test starts with none from an earlier test.
    from calls.selectors import day_figures

    day_figures.clear()


# Named example users, one per role. Who may see what:
# - agent_alice and agent_arthur are in team_a (supervisor_sam's team); agent_bob is in
#   team_b (supervisor_sue's). An agent sees only their own records.
# - supervisor_sam sees team_a's agents and their records, never team_b's.
# - hr_hana and manager_mia see everyone; trainer_tom sees agents and training, never
#   contracts or evaluations; qa_quinn sees agents and call reviews.
@pytest.fixture
def supervisor_sam(db):
    from agents.tests.factories import UserFactory

    return UserFactory(username="sam", first_name="Sam", last_name="Supervisor", roles=["supervisor"])


@pytest.fixture
def supervisor_sue(db):
    from agents.tests.factories import UserFactory

    return UserFactory(username="sue", first_name="Sue", last_name="Supervisor", roles=["supervisor"])


@pytest.fixture
def team_a(supervisor_sam):
    from agents.tests.factories import TeamFactory

    return TeamFactory(name="Team A", supervisor=supervisor_sam)


@pytest.fixture
def team_b(supervisor_sue):
    from agents.tests.factories import TeamFactory

    return TeamFactory(name="Team B", supervisor=supervisor_sue)


@pytest.fixture
def agent_alice(team_a):
    from agents.tests.factories import AgentFactory, UserFactory

    return AgentFactory(user=UserFactory(username="alice", first_name="Alice", roles=["agent"]), team=team_a)


@pytest.fixture
def agent_arthur(team_a):
    from agents.tests.factories import AgentFactory, UserFactory

    return AgentFactory(user=UserFactory(username="arthur", first_name="Arthur", roles=["agent"]), team=team_a)


@pytest.fixture
def agent_bob(team_b):
    from agents.tests.factories import AgentFactory, UserFactory

    return AgentFactory(user=UserFactory(username="bob", first_name="Bob", roles=["agent"]), team=team_b)


@pytest.fixture
def hr_hana(db):
    from agents.tests.factories import UserFactory

    return UserFactory(username="hana", first_name="Hana", roles=["hr"])


@pytest.fixture
def trainer_tom(db):
    from agents.tests.factories import UserFactory

    return UserFactory(username="tom", first_name="Tom", roles=["trainer"])


@pytest.fixture
def qa_quinn(db):
    from agents.tests.factories import UserFactory

    return UserFactory(username="quinn", first_name="Quinn", roles=["qa_analyst"])


@pytest.fixture
def manager_mia(db):
    from agents.tests.factories import UserFactory

    return UserFactory(username="mia", first_name="Mia", roles=["manager"])


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL (row locks, SKIP LOCKED, real concurrency).
    In CI (CI=true) they always run: on another database they fail instead of skipping.
    On a developer's SQLite they are skipped with the command that runs them."""
    import os

    from django.conf import settings

    _restore_migration_rows_after_transactional_tests(items)
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if on_postgres or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://… (CI always does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _restore_migration_rows_after_transactional_tests(items):
    """A transactional test ends by emptying every table, which also removes the rows data
    migrations made (role groups and their permissions, beat schedules): the tests after it
    would then see no roles. Serialized rollback puts those rows back."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = (marker is not None and marker.kwargs.get("transaction")) or (
            "transactional_db" in item.fixturenames or "live_asgi_server" in item.fixturenames
        )
        if transactional and not (marker is not None and marker.kwargs.get("serialized_rollback")):
            kwargs = dict(marker.kwargs) if marker is not None else {}
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture
def require_postgres(settings):
    """Fails (never skips) a test that must run on PostgreSQL when it is not."""
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql", (
        "this test needs PostgreSQL (DATABASE_URL=postgres://…)"
    )


@pytest.fixture
def live_asgi_server(transactional_db):
    """The real ASGI application (HTTP and WebSockets) served by uvicorn in a thread of the
    test process, on a free loopback port, against the test database. For browser tests.
    Yields the base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from contactcenter.asgi import application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the ASGI test server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(monkeypatch):
    """Headless Debian Chromium driven by Playwright (its own browser download is not used)."""
    import os

    # Playwright's sync API keeps an event loop running in the test's thread; the ORM calls
    # the test itself makes there are still plain synchronous code (Playwright's docs say so).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    assert os.path.exists(executable), f"Chromium not found at {executable} (apt-get install chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()
