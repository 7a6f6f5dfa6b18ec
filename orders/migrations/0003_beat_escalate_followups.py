"""Register the periodic escalation of overdue follow-ups with Celery beat.

What it keeps true: an open follow-up past its due time is on its assignee's
supervisor's list within five minutes (orders.services.followups_escalate_overdue;
safe to run twice: a follow-up is escalated once).
"""

from django.db import migrations

TASK_NAME = "orders: escalate overdue follow-ups"


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5_min, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={"task": "orders.tasks.escalate_overdue_followups", "interval": every_5_min, "enabled": True},
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_roles"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(register, unregister)]
