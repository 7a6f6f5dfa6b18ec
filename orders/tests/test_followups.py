"""Problems open a follow-up with an assignee and a due time; overdue ones are escalated
to the supervisor by a beat task, once."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from contactcenter.errors import ApplicationError
from orders import services
from orders.models import FollowUp, Order
from orders.tasks import escalate_overdue_followups
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduled(agent_alice):
    return OrderFactory(status=Order.Status.SCHEDULED, agent=agent_alice, taken_by=agent_alice.user)


def test_a_problem_opens_a_followup_for_a_person_with_a_due_time(scheduled, agent_alice, agent_arthur):
    due = timezone.now() + timedelta(hours=4)
    followup = services.order_report_problem(
        order=scheduled,
        by=agent_alice.user,
        description="The installers did not come",
        assigned_to=agent_arthur.user,
        due_at=due,
    )
    scheduled.refresh_from_db()
    assert scheduled.status == Order.Status.PROBLEM
    assert followup.assigned_to == agent_arthur.user and followup.due_at == due and followup.status == "open"
    assert scheduled.history.last().note == "The installers did not come"


def test_a_problem_without_assignee_or_due_time_changes_nothing(scheduled, agent_alice):
    with pytest.raises(ApplicationError) as error:
        services.order_report_problem(
            order=scheduled, by=agent_alice.user, description="x", assigned_to=None, due_at=None
        )
    assert {"assigned_to", "due_at"} <= set(error.value.fields)
    scheduled.refresh_from_db()
    assert scheduled.status == Order.Status.SCHEDULED and not FollowUp.objects.exists()


def test_overdue_followups_go_to_the_assignees_supervisor_once(scheduled, agent_alice, agent_arthur, supervisor_sam):
    followup = services.order_report_problem(
        order=scheduled,
        by=agent_alice.user,
        description="No show",
        assigned_to=agent_arthur.user,
        due_at=timezone.now() + timedelta(hours=1),
    )
    assert services.followups_escalate_overdue() == 0  # not due yet
    later = timezone.now() + timedelta(hours=2)
    assert services.followups_escalate_overdue(now=later) == 1
    followup.refresh_from_db()
    assert followup.escalated_to == supervisor_sam and followup.escalated_at == later
    # Safe to run twice: nothing more happens.
    assert services.followups_escalate_overdue(now=later + timedelta(minutes=5)) == 0
    followup.refresh_from_db()
    assert followup.escalated_at == later


def test_done_followups_are_not_escalated(scheduled, agent_alice, agent_arthur):
    followup = services.order_report_problem(
        order=scheduled,
        by=agent_alice.user,
        description="No show",
        assigned_to=agent_arthur.user,
        due_at=timezone.now() + timedelta(minutes=1),
    )
    services.followup_resolve(followup=followup, by=agent_arthur.user, resolution="Rebooked for Monday")
    assert services.followups_escalate_overdue(now=timezone.now() + timedelta(hours=1)) == 0


def test_the_beat_task_is_registered_and_runs_the_escalation(scheduled, agent_alice, agent_arthur, supervisor_sam):
    task = PeriodicTask.objects.get(name="orders: escalate overdue follow-ups")
    assert task.task == "orders.tasks.escalate_overdue_followups" and task.enabled and task.interval.every == 5
    FollowUp.objects.create(
        order=scheduled,
        description="x",
        assigned_to=agent_arthur.user,
        due_at=timezone.now() - timedelta(minutes=1),
        created_by=agent_alice.user,
    )
    assert escalate_overdue_followups.delay().get() == 1
    assert FollowUp.objects.get().escalated_to == supervisor_sam


def test_the_supervisor_sees_the_escalated_followup_in_their_list(
    client, scheduled, agent_alice, agent_bob, supervisor_sue
):
    FollowUp.objects.create(
        order=scheduled,
        description="Technician no-show",
        assigned_to=agent_bob.user,
        due_at=timezone.now() - timedelta(minutes=1),
        created_by=agent_alice.user,
    )
    services.followups_escalate_overdue()
    client.force_login(supervisor_sue)  # bob's supervisor, though the order is team_a's
    page = client.get(reverse("orders:followup-list")).content.decode()
    assert "Technician no-show" in page
    data = client.get(reverse("api-followup-list")).json()
    assert [row["escalated_to"] for row in data["results"]] == ["sue"]


def test_problem_reported_from_the_order_page(client, scheduled, agent_alice, agent_arthur):
    client.force_login(agent_alice.user)
    due = (timezone.localtime() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("orders:order-transition", args=[scheduled.pk]),
        {"to": "problem", "description": "Installers did not come", "assigned_to": agent_arthur.user.pk, "due_at": due},
        follow=True,
    )
    assert "The order is now problem" in response.content.decode()
    assert FollowUp.objects.get().assigned_to == agent_arthur.user
