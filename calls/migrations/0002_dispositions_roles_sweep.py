"""Seed the disposition catalog, give the roles their calls permissions, and schedule the
periodic sweep (django-celery-beat)."""

from django.db import migrations

from agents.roles import grant

DISPOSITIONS = [
    ("resolved", "Resolved"),
    ("information", "Information given"),
    ("sale", "Sale"),
    ("complaint", "Complaint"),
    ("transferred", "Transferred"),
    ("escalated", "Escalated to a supervisor"),
    ("follow-up", "Follow-up needed"),
    ("wrong-number", "Wrong number"),
    ("no-answer", "No answer"),
]

READ_FLOOR = ["calls.view_call", "calls.view_queue", "calls.view_disposition", "calls.view_callback"]
READ_ALL = READ_FLOOR + [
    "calls.view_agentpresence",
    "calls.view_presenceinterval",
    "calls.view_callevent",
    "calls.view_callstatechange",
    "calls.view_callbackstatechange",
]

ROLE_PERMISSIONS = {
    "agent": READ_FLOOR,
    "supervisor": READ_ALL,
    "qa_analyst": ["calls.view_call", "calls.view_queue", "calls.view_disposition", "calls.view_callstatechange"],
    # Managers run the floor: they set up queues and the disposition catalog.
    "manager": READ_ALL
    + [f"calls.{action}_{model}" for model in ("queue", "disposition") for action in ("add", "change", "delete")],
    # HR read presence (time on the floor) for pay and absence questions.
    "hr": ["calls.view_agentpresence", "calls.view_presenceinterval"],
}

SWEEP_TASK = "calls: sweep (due callbacks, reservation timeouts, wrap-up limits)"


def forwards(apps, schema_editor):
    Disposition = apps.get_model("calls", "Disposition")
    for code, label in DISPOSITIONS:
        Disposition.objects.update_or_create(code=code, defaults={"label": label})
    grant(apps, ROLE_PERMISSIONS)
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5s, _ = IntervalSchedule.objects.get_or_create(every=5, period="seconds")
    # Keeps true: due callbacks are dispatched to their queue, no call rings past its
    # reservation timeout, no wrap-up outlasts its queue's wrap-up time (calls.tasks.sweep).
    PeriodicTask.objects.update_or_create(
        name=SWEEP_TASK, defaults={"task": "calls.sweep", "interval": every_5s, "enabled": True}
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP_TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0001_initial"),
        ("agents", "0002_roles"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
