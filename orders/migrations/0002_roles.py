"""Give the role groups their model permissions on orders and follow-ups.

Agents fill orders; supervisors and managers work the back-office lists; which
rows each sees is decided in orders/selectors.py.
"""

from django.db import migrations

from agents.roles import grant

CRUD = ("view", "add", "change", "delete")

ROLE_PERMISSIONS = {
    "agent": ["orders.view_order", "orders.add_order", "orders.change_order", "orders.view_followup"],
    "supervisor": [
        "orders.view_order",
        "orders.change_order",
        "orders.view_orderstatuschange",
        "orders.view_followup",
        "orders.add_followup",
        "orders.change_followup",
    ],
    "manager": [f"orders.{action}_{model}" for model in ("order", "followup") for action in CRUD]
    + ["orders.view_orderstatuschange"],
}


def grant_roles(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial"), ("agents", "0002_roles")]

    operations = [migrations.RunPython(grant_roles, migrations.RunPython.noop)]
