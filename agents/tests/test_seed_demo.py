import io

import pytest
from django.core.management import call_command

from agents.models import Agent, TrainingRecord, User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_logins():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    counts = (User.objects.count(), Agent.objects.count(), TrainingRecord.objects.count())
    assert counts[1] == 30
    call_command("seed_demo", stdout=io.StringIO())
    assert (User.objects.count(), Agent.objects.count(), TrainingRecord.objects.count()) == counts
    printed = out.getvalue()
    for login in ("agent", "supervisor", "hr", "trainer", "manager", "qa"):
        assert f"  {login} " in printed
    assert User.objects.get(username="agent").check_password("demo")
