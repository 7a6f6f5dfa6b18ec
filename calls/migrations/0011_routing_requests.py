"""The routing-request counter (PostgreSQL): a routing pass that finds the routing lock taken
does not wait for it; it counts its request here, and the pass holding the lock, seeing the
count moved while it ran, looks again after its commit (calls/locks.py)."""

from django.db import migrations


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS calls_routing_request CACHE 1")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS calls_routing_request")


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0010_autovacuum_hot_tables"),
    ]

    operations = [
        migrations.RunPython(create_sequence, drop_sequence),
    ]
