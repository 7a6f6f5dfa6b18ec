"""The back office: a trainer edits training but never contracts; HR does both."""

from decimal import Decimal

import pytest
from django.urls import reverse

from agents.models import EmploymentContract
from agents.tests.factories import TrainingRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(agent_alice):
    return EmploymentContract.objects.create(
        agent=agent_alice, start_date=agent_alice.hire_date, gross_monthly_salary=Decimal("2100.00")
    )


def test_trainer_can_edit_a_training_record(client, trainer_tom, agent_alice):
    record = TrainingRecordFactory(agent=agent_alice, score=60, passed=False)
    client.force_login(trainer_tom)
    url = reverse("admin:agents_trainingrecord_change", args=[record.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "agent": agent_alice.pk,
            "course": record.course.pk,
            "trainer": trainer_tom.pk,
            "date": "2025-03-02",
            "score": "85",
            "passed": "on",
            "notes": "Retaken",
        },
    )
    assert response.status_code == 302, response.content
    record.refresh_from_db()
    assert record.score == 85 and record.passed and record.trainer == trainer_tom


def test_trainer_cannot_change_an_agents_contract_data(client, trainer_tom, agent_alice, contract):
    client.force_login(trainer_tom)
    change_url = reverse("admin:agents_agent_change", args=[agent_alice.pk])
    page = client.get(change_url)
    assert page.status_code == 200  # read-only view
    assert "2100" not in page.content.decode()  # no salary shown
    response = client.post(change_url, {"contract_type": "temporary", "employee_number": "X"})
    assert response.status_code == 403
    agent_alice.refresh_from_db()
    assert agent_alice.contract_type == "permanent"
    assert client.get(reverse("admin:agents_employmentcontract_changelist")).status_code == 403
    assert client.get(reverse("admin:agents_employmentcontract_change", args=[contract.pk])).status_code == 403


def test_hr_sees_and_edits_contracts(client, hr_hana, contract):
    client.force_login(hr_hana)
    url = reverse("admin:agents_employmentcontract_change", args=[contract.pk])
    assert "2100" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "agent": contract.agent.pk,
            "start_date": "2024-01-15",
            "end_date": "",
            "weekly_hours": "35",
            "gross_monthly_salary": "2200.00",
            "notes": "",
        },
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.gross_monthly_salary == Decimal("2200.00")


def test_hr_contract_ending_before_it_starts_is_a_form_error(client, hr_hana, contract):
    client.force_login(hr_hana)
    url = reverse("admin:agents_employmentcontract_change", args=[contract.pk])
    response = client.post(
        url,
        {
            "agent": contract.agent.pk,
            "start_date": "2024-01-15",
            "end_date": "2023-01-01",
            "weekly_hours": "35",
            "gross_monthly_salary": "2200.00",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    contract.refresh_from_db()
    assert contract.end_date is None


@pytest.mark.parametrize("who", ["trainer_tom", "hr_hana", "manager_mia"])
def test_back_office_lists_render(request, client, who, agent_alice):
    TrainingRecordFactory(agent=agent_alice)
    client.force_login(request.getfixturevalue(who))
    for name in ("agent", "trainingrecord", "trainingcourse"):
        assert client.get(reverse(f"admin:agents_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:agents_agent_changelist"), {"q": "alice"}).status_code == 200
