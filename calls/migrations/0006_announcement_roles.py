from django.db import migrations

from agents.roles import grant


def roles(apps, schema_editor):
    grant(
        apps,
        {
            "agent": ["calls.view_announcement"],
            "supervisor": ["calls.view_announcement", "calls.add_announcement", "calls.view_announcementreceipt"],
            "manager": ["calls.view_announcement", "calls.add_announcement", "calls.view_announcementreceipt"],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("calls", "0005_desk_announcements_sl_formula"), ("agents", "0002_roles")]

    operations = [migrations.RunPython(roles, migrations.RunPython.noop)]
