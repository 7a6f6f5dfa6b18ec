"""Bench fixture, run inside Django (bench settings): two queues, 50 agents (13 of them in both
queues), all available, tokens for them and for the baseline's user, the baseline's table,
a manager for the long dashboard reads, and 200 000 historical calls with their roll-ups.
Prints the tokens as JSON."""

import json
import sys

from django.db import connection
from rest_framework.authtoken.models import Token

from agents.models import AgentSkill
from agents.services import user_set_roles
from agents.tests.factories import AgentFactory, LanguageFactory, SkillFactory, TeamFactory, UserFactory
from calls import kpis, services
from calls.models import Queue

fr = LanguageFactory(code="fr", name="Français")
en = LanguageFactory(code="en", name="English")
billing = SkillFactory(name="Billing")
team = TeamFactory(name="Bench team")
Queue.objects.update_or_create(
    slug="bench-fr",
    defaults={"name": "Bench FR", "required_skill": billing, "required_language": fr, "wrap_up_s": 120},
)
Queue.objects.update_or_create(
    slug="bench-en", defaults={"name": "Bench EN", "required_language": en, "priority": 1, "wrap_up_s": 120}
)

agents = {}
# 20 French billing agents, 17 English-only agents, 13 in both queues (several queues: never rung twice).
for i in range(50):
    kind = "fr" if i < 20 else ("en" if i < 37 else "both")
    languages = {"fr": ["fr"], "en": ["en"], "both": ["fr", "en"]}[kind]
    user = UserFactory(username=f"bench{i:02d}")
    user_set_roles(user=user, roles=["agent"])
    agent = AgentFactory(user=user, team=team, employee_number=f"B{i:04d}", languages=languages)
    if kind != "en":
        AgentSkill.objects.create(agent=agent, skill=billing, level=3)
    services.agent_set_status(agent=agent, status="available")
    agents[user.username] = Token.objects.get_or_create(user=user)[0].key

# The supervisor whose dashboard the long reads keep open (bench/calls/reads.py).
manager = UserFactory(username="bench-manager")
user_set_roles(user=manager, roles=["manager"])

baseline_user = UserFactory(username="bench-baseline")
baseline_token = Token.objects.get_or_create(user=baseline_user)[0].key

with connection.cursor() as cursor:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_calls_insert (id bigserial PRIMARY KEY, user_id bigint, body text, "
        "created_at timestamptz NOT NULL DEFAULT now())"
    )
    # History for the dashboards: 200 000 completed calls over 60 days, each answered, ended
    # and wrapped up in its own time (a call of last month did not end today).
    cursor.execute(
        """
        WITH q AS (SELECT array_agg(id ORDER BY id) AS ids FROM calls_queue),
             a AS (SELECT array_agg(id ORDER BY id) AS ids FROM agents_agent),
             h AS (SELECT g, now() - make_interval(mins => g % 86400) AS offered_at, g % 60 AS wait_s,
                          60 + g % 600 AS talk_s FROM generate_series(1, 200000) g)
        INSERT INTO calls_call (external_id, direction, caller_number, queue_id, agent_id, state, virtual_hold,
            offered_at, answered_at, ended_at, wrap_up_done_at, wait_s, talk_s, hold_s, wrap_up_s, missed_count,
            end_reason, notes, recording_url, escalated, escalation_reason, created_at, updated_at)
        SELECT 'hist-' || h.g, 'inbound', '+336' || (20000000 + h.g % 150000), q.ids[1 + h.g % 2],
            a.ids[1 + h.g % 50], 'completed', false, h.offered_at,
            h.offered_at + make_interval(secs => h.wait_s),
            h.offered_at + make_interval(secs => h.wait_s + h.talk_s),
            h.offered_at + make_interval(secs => h.wait_s + h.talk_s + 30),
            h.wait_s, h.talk_s, 0, 30, 0, 'completed', '', '', false, '', h.offered_at,
            h.offered_at + make_interval(secs => h.wait_s + h.talk_s + 30)
        FROM h, q, a
        """
    )
    cursor.execute("ANALYZE")
# The dashboard's half-hour roll-ups of that history, as the beat task builds them.
kpis.rollup_refresh()

json.dump({"agents": agents, "baseline": baseline_token}, sys.stdout)
