"""A scratch PostgreSQL database for the client-base benchmarks.

The benchmarks write and truncate millions of rows: they never touch the database of
DATABASE_URL itself, only a database of their own on the same server (default name:
bench_clients), created fresh and migrated at the start of a run.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit("These benchmarks need PostgreSQL: set DATABASE_URL=postgres://user@host:5432/anydb")
    name = os.environ.get("BENCH_DATABASE_NAME", "bench_clients")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def create_fresh(url: str) -> None:
    """Drop and create the bench database, then migrate it."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(  # noqa: S603 -- manage.py migrate of this checkout
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        check=True,
        env=bench_env(url),
        cwd=ROOT,
    )


def bench_env(url: str) -> dict:
    env = dict(os.environ, DATABASE_URL=url, DB_POOL_MAX_SIZE="30", LOG_LEVEL="WARNING")
    env.pop("REDIS_URL", None)  # no Celery or channel layer needed: eager, in memory
    return env


def setup_django(url: str) -> None:
    os.environ.update(bench_env(url))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
