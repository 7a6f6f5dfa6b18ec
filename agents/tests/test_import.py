"""CSV import of agents by HR: all or nothing, with a per-row report."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tablib import Dataset

from agents.models import Agent, User
from agents.resources import AgentResource
from agents.tests.factories import LanguageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def languages(db):
    return [LanguageFactory(code="fr", name="Français"), LanguageFactory(code="en", name="English")]


HEADER = "employee_number,username,first_name,last_name,email,team,supervisor,hire_date,contract_type,languages\n"


def good_rows(team):
    return (
        f'E9001,lina.roche,Lina,Roche,lina@example.test,{team.name},sam,2025-02-01,permanent,"fr,en"\n'
        f"E9002,omar.diallo,Omar,Diallo,omar@example.test,{team.name},sam,2025-02-03,temporary,fr\n"
    )


def bad_rows(team):
    return (
        f"E9003,,No,Username,x@example.test,{team.name},sam,2025-02-01,permanent,fr\n"
        f"E9004,bad.team,Bad,Team,bad@example.test,Nowhere,sam,2025-02-01,permanent,fr\n"
        f"E9005,bad.contract,Bad,Contract,bc@example.test,{team.name},sam,2025-02-01,forever,fr\n"
        f"E9006,bad.date,Bad,Date,bd@example.test,{team.name},sam,not-a-date,permanent,fr\n"
        f'E9007,bad.lang,Bad,Lang,bl@example.test,{team.name},sam,2025-02-01,permanent,"fr,xx"\n'
    )


def import_csv(text, dry_run=False):
    dataset = Dataset().load(text, format="csv")
    return AgentResource().import_data(dataset, dry_run=dry_run, rollback_on_validation_errors=True)


def test_import_creates_agents_users_and_roles(team_a):
    result = import_csv(HEADER + good_rows(team_a))
    assert not result.has_errors() and not result.has_validation_errors()
    lina = Agent.objects.get(employee_number="E9001")
    assert lina.user.username == "lina.roche" and lina.user.first_name == "Lina"
    assert lina.team == team_a and lina.supervisor.username == "sam"
    assert sorted(lina.languages.values_list("code", flat=True)) == ["en", "fr"]
    assert lina.user.groups.filter(name="agent").exists()


def test_import_with_bad_rows_writes_nothing_and_reports_each_row(team_a):
    users_before = User.objects.count()
    result = import_csv(HEADER + good_rows(team_a) + bad_rows(team_a))
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert sorted(invalid) == [3, 4, 5, 6, 7]
    assert "username" in invalid[3]
    assert "Nowhere" in str(invalid[4]["team"])
    assert "contract_type" in invalid[5]
    assert "hire_date" in invalid[6]
    assert "xx" in str(invalid[7]["languages"])
    assert Agent.objects.count() == 0
    assert User.objects.count() == users_before


def test_hr_imports_through_the_admin(client, hr_hana, team_a):
    client.force_login(hr_hana)
    url = reverse("admin:agents_agent_import")
    page = client.get(url)
    csv_format = next(value for value, label in page.context["form"].fields["format"].choices if label == "csv")
    upload = SimpleUploadedFile("agents.csv", (HEADER + good_rows(team_a)).encode(), content_type="text/csv")
    preview = client.post(url, {"import_file": upload, "format": csv_format, "resource": "0"})
    assert preview.status_code == 200
    confirm = preview.context["confirm_form"]
    assert confirm is not None
    assert Agent.objects.count() == 0  # the preview is a dry run
    done = client.post(reverse("admin:agents_agent_process_import"), {**confirm.initial, "resource": "0"})
    assert done.status_code == 302
    assert Agent.objects.filter(employee_number__in=["E9001", "E9002"]).count() == 2


def test_admin_import_of_a_bad_file_shows_errors_and_offers_no_confirm(client, hr_hana, team_a):
    client.force_login(hr_hana)
    url = reverse("admin:agents_agent_import")
    csv_format = next(
        value for value, label in client.get(url).context["form"].fields["format"].choices if label == "csv"
    )
    upload = SimpleUploadedFile(
        "agents.csv", (HEADER + good_rows(team_a) + bad_rows(team_a)).encode(), content_type="text/csv"
    )
    preview = client.post(url, {"import_file": upload, "format": csv_format, "resource": "0"})
    assert preview.status_code == 200
    assert preview.context.get("confirm_form") is None
    page = preview.content.decode()
    assert "Some rows failed to validate" in page
    assert "Nowhere" in page and "A username is required." in page
    assert Agent.objects.count() == 0 and not User.objects.filter(username="lina.roche").exists()


def test_admin_import_with_the_wrong_columns_is_a_clear_error(client, hr_hana):
    client.force_login(hr_hana)
    url = reverse("admin:agents_agent_import")
    csv_format = next(
        value for value, label in client.get(url).context["form"].fields["format"].choices if label == "csv"
    )
    upload = SimpleUploadedFile("x.csv", b"foo,bar\n1,2\n", content_type="text/csv")
    response = client.post(url, {"import_file": upload, "format": csv_format, "resource": "0"})
    assert response.status_code == 200
    assert "employee_number" in response.content.decode()
    assert Agent.objects.count() == 0


def test_trainer_cannot_import_agents(client, trainer_tom):
    client.force_login(trainer_tom)
    assert client.get(reverse("admin:agents_agent_import")).status_code == 403


def test_export_round_trips_the_columns(team_a, agent_alice):
    dataset = AgentResource().export()
    assert dataset.headers[:3] == ["employee_number", "username", "first_name"]
    assert agent_alice.employee_number in dataset.csv
