"""Give the role groups their model permissions on quality data (the back office).

The admin shows scorecards to QA analysts (who edit them), trainers and managers;
evaluations and self-reported results only to HR and managers; reviews to QA analysts
and managers. Which rows each person sees on the pages and the API is decided in
qa/selectors.py. Resolving disputes (qa.resolve_dispute) is given to managers here and
to chosen QA analysts ("QA leads") one by one in the admin (user permissions).
"""

from django.db import migrations

from agents.roles import grant

SCORECARD_MODELS = ("scorecard", "scorecardversion", "section", "criterion")
VIEW_SCORECARDS = [f"qa.view_{model}" for model in SCORECARD_MODELS]

ROLE_PERMISSIONS = {
    "qa_analyst": VIEW_SCORECARDS
    + ["qa.add_scorecard", "qa.change_scorecard", "qa.add_scorecardversion", "qa.change_scorecardversion"]
    + [f"qa.{action}_{model}" for model in ("section", "criterion") for action in ("add", "change", "delete")]
    + ["qa.view_review", "qa.view_reviewscore", "qa.view_reviewassignment", "qa.view_calibrationsession", "qa.view_samplingrun"],
    "trainer": VIEW_SCORECARDS + ["qa.view_coachingaction"],
    "hr": ["qa.view_evaluation", "qa.view_selfreport"],
    "manager": VIEW_SCORECARDS
    + [
        "qa.view_review",
        "qa.view_reviewscore",
        "qa.view_reviewassignment",
        "qa.view_calibrationsession",
        "qa.view_samplingrun",
        "qa.view_coachingaction",
        "qa.view_evaluation",
        "qa.view_selfreport",
        "qa.resolve_dispute",
    ],
}


def grant_roles(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("qa", "0001_initial"), ("agents", "0002_roles")]

    operations = [migrations.RunPython(grant_roles, migrations.RunPython.noop)]
