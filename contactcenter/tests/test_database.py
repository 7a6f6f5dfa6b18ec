"""The PostgreSQL connection prepares the queries it runs again and again (DB_PREPARE_THRESHOLD):
PostgreSQL then plans them once per connection, not at every execution."""

import pytest
from django.db import connection

from calls.models import Queue


def prepared_queue_queries() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall() if '"calls_queue"."wrap_up_s"' in statement]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_query_run_often_becomes_a_prepared_statement_with_server_bound_values():
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    assert prepared_queue_queries() == []
    for n in range(threshold + 1):  # the same query with other values
        list(Queue.objects.filter(name__startswith=f"prepared-{n}").values_list("pk", "wrap_up_s"))
    [statement] = prepared_queue_queries()
    assert "LIKE $1" in statement  # the value is bound by the server, not written into the SQL
