"""contactcenter/rows.py on the calls models: a hot read returns what the ORM returns."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls.models import AgentPresence, Call, Queue
from calls.tests.factories import agent_with, make_available, offer
from contactcenter import rows

pytestmark = pytest.mark.django_db


def fields_of(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_a_call_read_by_get_row_is_the_call_the_orm_reads(queue, billing):
    agent = agent_with(skills=[billing])
    make_available(agent)
    call = offer(queue)  # rings: agent, timestamps and flags set
    found = rows.get_row(Call, "id = %s AND agent_id = %s", [call.pk, agent.pk])
    assert fields_of(found) == fields_of(Call.objects.get(pk=call.pk))
    assert found.ringing_at.tzinfo is not None  # aware, as the ORM converts it (SQLite stores text)
    assert not found._state.adding and found._state.db == "default"  # saves as an update


def test_presence_and_queue_are_read_as_the_orm_reads_them(queue, billing):
    agent = agent_with(skills=[billing])
    make_available(agent)
    presence = rows.get_row(AgentPresence, "agent_id = %s", [agent.pk])
    assert fields_of(presence) == fields_of(AgentPresence.objects.get(agent=agent))
    found = rows.get_row(Queue, "slug = %s AND is_active", [queue.slug])
    assert fields_of(found) == fields_of(Queue.objects.get(pk=queue.pk))
    assert type(found.virtual_hold_enabled) is bool  # SQLite stores 0/1


def test_no_row_is_none(queue):
    assert rows.get_row(Queue, "slug = %s AND is_active", ["no-such-queue"]) is None


def test_a_locked_read_locks_the_row_where_the_database_can(queue):
    with CaptureQueriesContext(connection) as queries:
        rows.get_row(Queue, "id = %s", [queue.pk], lock=True)
    (query,) = queries.captured_queries
    assert query["sql"].endswith("FOR UPDATE") == connection.features.has_select_for_update
