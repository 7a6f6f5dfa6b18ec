"""Autovacuum keeps up with the tables the call path updates all day (PostgreSQL).

By default autovacuum visits a table once a fifth of its rows are dead. The calls table keeps
every call ever made, while its hot rows (ringing, in wrap-up, waiting) are a handful read
through partial indexes: with millions of calls, their dead entries would pile up for days
and every routing pass and sweep would step over them. The presence table has one row per
agent, each updated at every move. These tables are visited by a number of dead rows instead,
which costs little: a vacuum skips the pages nothing changed on."""

from django.db import migrations

SETTINGS = {
    "calls_agentpresence": "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000",
    "calls_call": "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000",
    "calls_presenceinterval": "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000",
}


def set_autovacuum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, options in SETTINGS.items():
            schema_editor.execute(f"ALTER TABLE {table} SET ({options})")


def reset_autovacuum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in SETTINGS:
            schema_editor.execute(
                f"ALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold)"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0009_routing_presence_hot"),
    ]

    operations = [
        migrations.RunPython(set_autovacuum, reset_autovacuum),
    ]
