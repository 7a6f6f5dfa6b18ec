"""Give the role groups their model permissions on the client base and campaigns.

Which rows each role sees is decided in clients/selectors.py; these are the "what":
agents record outcomes and survey answers, managers run the catalogs, campaigns and
imports in the back office, HR and managers read the client access log.
"""

from django.db import migrations

from agents.roles import grant

CATALOGS = ["offer", "refusalreason", "stayreason"]
CRUD = ("view", "add", "change", "delete")

ROLE_PERMISSIONS = {
    "agent": [
        "clients.view_client",
        "clients.view_clientphone",
        "clients.view_campaign",
        "clients.view_campaignmember",
        "clients.view_contactoutcome",
        "clients.add_contactoutcome",
        "clients.add_providersurveyanswer",
    ]
    + [f"clients.view_{model}" for model in CATALOGS],
    "supervisor": [
        "clients.view_client",
        "clients.view_clientphone",
        "clients.view_campaign",
        "clients.change_campaign",
        "clients.view_campaignmember",
        "clients.view_contactoutcome",
        "clients.add_contactoutcome",
        "clients.view_providersurveyanswer",
        "clients.add_providersurveyanswer",
    ]
    + [f"clients.view_{model}" for model in CATALOGS],
    # QA analysts review calls: they read the clients and outcomes of calls, nothing else.
    "qa_analyst": ["clients.view_client", "clients.view_clientphone", "clients.view_contactoutcome"],
    "trainer": [f"clients.view_{model}" for model in CATALOGS],
    # HR read who looked at which client record.
    "hr": ["clients.view_clientaccesslog", "clients.view_client", "clients.view_clientphone"],
    "manager": [
        f"clients.{action}_{model}"
        for model in ("client", "clientphone", "campaign", "campaignmember", *CATALOGS)
        for action in CRUD
    ]
    + [
        "clients.view_clientaccesslog",
        # A do-not-call number is added, never removed.
        "clients.view_donotcallnumber",
        "clients.add_donotcallnumber",
        "clients.view_contactoutcome",
        "clients.view_campaignstatuschange",
        "clients.view_providersurveyanswer",
    ],
}


def grant_roles(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("clients", "0002_outcomes_campaigns_offers"), ("agents", "0002_roles")]

    operations = [migrations.RunPython(grant_roles, migrations.RunPython.noop)]
