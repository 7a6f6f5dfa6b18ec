"""Fewer indexes on the calls table: every step of a call (rings, answered, ended, wrapped up)
writes a new version of its row, and each version gets an entry in every index of the table.
Six of them served no query the others do not serve:
- the foreign-key indexes of queue and agent, and the index of the caller's number: each is
  the first column of a (column, offered_at) index (Meta), which serves lookups by it alone;
- the PBX id's second, pattern-matching index (unique=True adds one on PostgreSQL; the id is
  now unique by a constraint, the same unique index renamed, not rebuilt), and the number's;
- the index on state: waiting, ringing, held and wrapping-up calls are read through partial
  indexes, and the finished ones (nearly all rows) by time range.

On PostgreSQL the indexes are dropped by name, and the unique constraint renamed: Django's own
AlterField would also drop and rebuild the foreign keys (checking every row again) and drop the
call_one_held_per_agent index on the agent column without recreating it. SQLite keeps its
indexes (the single-process mode; its next table rebuild follows the model)."""

import django.db.models.deletion
from django.db import migrations, models

DROPPED = {
    "call_state_idx": 'CREATE INDEX "call_state_idx" ON "calls_call" ("state")',
    "calls_call_agent_id_bc37e002": 'CREATE INDEX "calls_call_agent_id_bc37e002" ON "calls_call" ("agent_id")',
    "calls_call_queue_id_e8c226ef": 'CREATE INDEX "calls_call_queue_id_e8c226ef" ON "calls_call" ("queue_id")',
    "calls_call_caller_number_b68d6ec4": (
        'CREATE INDEX "calls_call_caller_number_b68d6ec4" ON "calls_call" ("caller_number")'
    ),
    "calls_call_caller_number_b68d6ec4_like": (
        'CREATE INDEX "calls_call_caller_number_b68d6ec4_like" ON "calls_call" ("caller_number" varchar_pattern_ops)'
    ),
    "calls_call_external_id_ff629508_like": (
        'CREATE INDEX "calls_call_external_id_ff629508_like" ON "calls_call" ("external_id" varchar_pattern_ops)'
    ),
}


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in DROPPED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    schema_editor.execute(
        'ALTER TABLE "calls_call" RENAME CONSTRAINT "calls_call_external_id_key" TO "call_external_id_unique"'
    )


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'ALTER TABLE "calls_call" RENAME CONSTRAINT "call_external_id_unique" TO "calls_call_external_id_key"'
    )
    for sql in DROPPED.values():
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0002_roles"),
        ("calls", "0011_routing_requests"),
        ("clients", "0004_calling_hours_defaults"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
            state_operations=[
                migrations.RemoveIndex(model_name="call", name="call_state_idx"),
                migrations.AlterField(
                    model_name="call",
                    name="agent",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="calls",
                        to="agents.agent",
                        verbose_name="agent",
                    ),
                ),
                migrations.AlterField(
                    model_name="call",
                    name="caller_number",
                    field=models.CharField(max_length=20, verbose_name="caller number (E.164)"),
                ),
                migrations.AlterField(
                    model_name="call",
                    name="external_id",
                    field=models.CharField(max_length=100, verbose_name="PBX call id"),
                ),
                migrations.AlterField(
                    model_name="call",
                    name="queue",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="calls",
                        to="calls.queue",
                        verbose_name="queue",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="call",
                    constraint=models.UniqueConstraint(fields=("external_id",), name="call_external_id_unique"),
                ),
            ],
        ),
    ]
