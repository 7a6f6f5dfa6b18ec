"""Give the roles their scheduling permissions, and register the day-off reminder with
Celery beat (a django-celery-beat row).

What the periodic task keeps true:
- "scheduling: day-off reminders" (every hour, at minute 5): every active agent who has
  not asked for their days off for a coming week hears about it once, within
  SCHEDULING_DAYOFF_REMINDER_HOURS (48 h) before that week's deadline
  (scheduling.services.dayoff_send_reminders; the notification key makes a second run
  send nothing).
"""

from django.conf import settings
from django.db import migrations

from agents.roles import grant

MODELS = [
    "shifttemplate",
    "shift",
    "shiftbreak",
    "dayoffdeadline",
    "dayoffrequest",
    "dayoffday",
    "dayofftransition",
    "shiftswap",
    "shiftswaptransition",
    "notification",
]
VIEW_ALL = [f"scheduling.view_{model}" for model in MODELS]

ROLE_PERMISSIONS = {
    # Agents read their schedule, file requests and offer shifts (rows: selectors.py).
    "agent": [
        "scheduling.view_shifttemplate",
        "scheduling.view_shift",
        "scheduling.view_shiftbreak",
        "scheduling.view_dayoffrequest",
        "scheduling.add_dayoffrequest",
        "scheduling.view_dayoffday",
        "scheduling.view_shiftswap",
        "scheduling.add_shiftswap",
        "scheduling.view_notification",
    ],
    # Supervisors plan their teams' shifts and decide requests and swaps.
    "supervisor": VIEW_ALL
    + [f"scheduling.{action}_{model}" for model in ("shift", "shiftbreak") for action in ("add", "change", "delete")]
    + ["scheduling.change_dayoffrequest", "scheduling.change_shiftswap"],
    # Managers also set up the shift templates and the deadlines.
    "manager": VIEW_ALL
    + [
        f"scheduling.{action}_{model}"
        for model in ("shifttemplate", "dayoffdeadline", "shift", "shiftbreak")
        for action in ("add", "change", "delete")
    ]
    + ["scheduling.change_dayoffrequest", "scheduling.change_shiftswap"],
    # HR see every schedule and request, and move a week's deadline (holidays).
    "hr": VIEW_ALL + ["scheduling.add_dayoffdeadline", "scheduling.change_dayoffdeadline"],
}

REMINDER_TASK = "scheduling: day-off reminders"


def forwards(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = CrontabSchedule.objects.get_or_create(
        minute="5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
    )
    PeriodicTask.objects.update_or_create(
        name=REMINDER_TASK,
        defaults={"task": "scheduling.tasks.send_dayoff_reminders", "crontab": hourly, "enabled": True},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=REMINDER_TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0001_initial"),
        ("agents", "0002_roles"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
