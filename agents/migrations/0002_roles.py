"""Create the role groups with their explicit model permissions.

Later apps grant their own models' permissions to these groups in their own
data migrations, with agents.roles.grant.
"""

from django.db import migrations

from agents.roles import grant

VIEW_AGENTS = ["agents.view_agent", "agents.view_team", "agents.view_skill", "agents.view_language"]

ROLE_PERMISSIONS = {
    "agent": VIEW_AGENTS + ["agents.view_agentskill", "agents.view_trainingrecord", "agents.view_trainingcourse"],
    "supervisor": VIEW_AGENTS
    + ["agents.view_agentskill", "agents.view_trainingrecord", "agents.view_trainingcourse", "agents.view_user"],
    "qa_analyst": VIEW_AGENTS + ["agents.view_user"],
    # Trainers: courses, results, skill levels and onboarding; agents read-only; never contracts.
    "trainer": VIEW_AGENTS
    + ["agents.view_user"]
    + [
        f"agents.{action}_{model}"
        for model in ("trainingcourse", "trainingrecord", "agentskill", "onboardingstep", "onboardingtask")
        for action in ("view", "add", "change", "delete")
    ],
    # HR: everything about people, contracts included.
    "hr": [
        f"agents.{action}_{model}"
        for model in (
            "user",
            "agent",
            "team",
            "skill",
            "language",
            "agentskill",
            "employmentcontract",
            "trainingcourse",
            "trainingrecord",
            "onboardingstep",
            "onboardingtask",
        )
        for action in ("view", "add", "change", "delete")
    ],
    "manager": [
        f"agents.view_{model}"
        for model in (
            "user",
            "agent",
            "team",
            "skill",
            "language",
            "agentskill",
            "employmentcontract",
            "trainingcourse",
            "trainingrecord",
            "onboardingstep",
            "onboardingtask",
        )
    ]
    + ["agents.change_team", "agents.add_team"],
}


def create_roles(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
