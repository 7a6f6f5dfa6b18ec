"""Settings fail loudly on bad values; production settings pass check --deploy."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x9#Lk2!pQz7$Wm4&Rt8*Yh3^Nb6@Vc1(Fd5)Gs0_Jk-Lq+Zw=Ex~Ua",
    "ALLOWED_HOSTS": "cc.example.com",
    "TELEPHONY_WEBHOOK_SECRET": "prod-secret-value",
}


def run_manage(*args, env):
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "TIME_ZONE")}
    return subprocess.run(  # noqa: S603 -- our own manage.py with a fixed argv
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def test_production_settings_pass_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_with_debug_off_fails_at_start():
    env = {**PROD_ENV, "SECRET_KEY": ""}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_bad_values_fail_loudly():
    for env, message in [
        ({"DEBUG": "maybe"}, "DEBUG must be a boolean"),
        ({"TIME_ZONE": "Mars/Olympus"}, "not a known IANA time zone"),
        ({"REDIS_URL": "http://nope"}, "REDIS_URL must start with"),
        ({"DB_POOL_MAX_SIZE": "lots", "DATABASE_URL": "postgres://u@127.0.0.1/x"}, "DB_POOL_MAX_SIZE"),
    ]:
        result = run_manage("check", env=env)
        assert result.returncode != 0 and message in result.stderr, (env, result.stderr[-500:])


def database_options(env) -> dict:
    script = (
        "import json; from django.conf import settings; print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
    )
    result = run_manage("shell", "-c", script, env={"DATABASE_URL": "postgres://u@127.0.0.1/x", **env})
    assert result.returncode == 0, result.stderr[-500:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_prepares_repeated_queries_unless_turned_off():
    options = database_options({})
    assert options["server_side_binding"] is True and options["prepare_threshold"] == 5
    options = database_options({"DB_PREPARE_THRESHOLD": "0"})
    assert "server_side_binding" not in options and "prepare_threshold" not in options
