"""Presence updates become HOT-friendly: no index on the columns every move changes, and room in
each page for the new row versions (see AgentPresence.Meta)."""

from django.db import migrations


def lower_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE calls_agentpresence SET (fillfactor = 50)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE calls_agentpresence RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0008_kpi_rollups"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="agentpresence", name="presence_state_idle_idx"),
        migrations.RunPython(lower_fillfactor, reset_fillfactor),
    ]
