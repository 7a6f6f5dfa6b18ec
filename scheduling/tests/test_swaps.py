"""Shift swaps: offer, take (right skills, free at that time), supervisor's decision with
the staffing check and its override."""

from datetime import timedelta

import pytest

from agents.tests.factories import AgentFactory, SkillFactory, UserFactory
from contactcenter.errors import ApplicationError, Conflict, Forbidden
from scheduling import services
from scheduling.models import Notification, Shift, ShiftSwap
from scheduling.tests.factories import QueueFactory, add_calls, give_skill, local, make_request, make_shift, next_monday

pytestmark = pytest.mark.django_db


@pytest.fixture
def day():
    return next_monday(1) + timedelta(days=2)


@pytest.fixture
def offered(agent_alice, day):
    shift = make_shift(agent_alice, day, 9, 17)
    return services.swap_offer(shift=shift, by=agent_alice.user, note="Dentist")


def test_agent_offers_a_colleague_takes_the_supervisor_approves(offered, agent_alice, agent_arthur, supervisor_sam):
    services.swap_take(swap=offered, by=agent_arthur.user)
    offered.refresh_from_db()
    assert (offered.state, offered.taken_by) == ("taken", agent_arthur)
    assert Notification.objects.get(recipient=agent_alice.user).kind == "swap_taken"
    services.swap_approve(swap=offered, by=supervisor_sam)
    offered.refresh_from_db()
    assert offered.state == "approved"
    assert Shift.objects.get(pk=offered.shift_id).agent == agent_arthur
    assert [h.to_state for h in offered.history.all()] == ["offered", "taken", "approved"]
    approved = Notification.objects.filter(kind="swap_approved")
    assert {n.recipient.username for n in approved} == {"alice", "arthur"}


def test_only_the_owner_offers_a_published_future_shift(agent_alice, agent_arthur, day):
    shift = make_shift(agent_alice, day, 9, 17)
    with pytest.raises(Forbidden):
        services.swap_offer(shift=shift, by=agent_arthur.user)
    draft = make_shift(agent_alice, day + timedelta(days=1), 9, 17, published=False)
    with pytest.raises(ApplicationError):
        services.swap_offer(shift=draft, by=agent_alice.user)
    past = make_shift(agent_alice, day - timedelta(weeks=2), 9, 17)
    with pytest.raises(ApplicationError):
        services.swap_offer(shift=past, by=agent_alice.user)
    services.swap_offer(shift=shift, by=agent_alice.user)
    with pytest.raises(Conflict):
        services.swap_offer(shift=shift, by=agent_alice.user)


def test_the_taker_needs_the_skills_of_the_offering_agents_queues(offered, agent_alice, team_a):
    billing = SkillFactory(name="Billing")
    QueueFactory(name="Billing line", slug="billing-line", required_skill=billing)
    give_skill(agent_alice, billing)
    novice = AgentFactory(user=UserFactory(username="novice", roles=["agent"]), team=team_a)
    with pytest.raises(ApplicationError) as excinfo:
        services.swap_take(swap=offered, by=novice.user)
    assert excinfo.value.code == "missing_skills"
    assert excinfo.value.fields["skills"] == ["Billing"]
    give_skill(novice, billing)
    services.swap_take(swap=offered, by=novice.user)
    assert ShiftSwap.objects.get(pk=offered.pk).state == "taken"


def test_the_taker_must_be_free_and_not_the_owner(offered, agent_alice, agent_arthur, day):
    with pytest.raises(ApplicationError):
        services.swap_take(swap=offered, by=agent_alice.user)
    make_shift(agent_arthur, day, 12, 20)
    with pytest.raises(Conflict):
        services.swap_take(swap=offered, by=agent_arthur.user)


def test_a_taker_on_a_day_off_cannot_take(offered, agent_arthur, day):
    make_request(agent_arthur, day - timedelta(days=day.weekday()), [day], state="approved")
    with pytest.raises(Conflict):
        services.swap_take(swap=offered, by=agent_arthur.user)


def test_a_swap_that_leaves_a_queue_understaffed_needs_an_override(
    offered, agent_alice, agent_arthur, supervisor_sam, day
):
    # A Spanish queue: Alice speaks Spanish, Arthur does not; the queue is busy at 10:00.
    from agents.tests.factories import LanguageFactory

    spanish = LanguageFactory(code="es", name="Español")
    agent_alice.languages.add(spanish)
    queue = QueueFactory(name="Spanish", slug="spanish", required_language=spanish)
    for k in range(1, 5):
        add_calls(queue, local(day - timedelta(weeks=k), 10, 5), offered=20, answered=20, handle_s=300)
    services.swap_take(swap=offered, by=agent_arthur.user)
    with pytest.raises(ApplicationError) as excinfo:
        services.swap_approve(swap=offered, by=supervisor_sam)
    assert excinfo.value.code == "override_required"
    assert Shift.objects.get(pk=offered.shift_id).agent == agent_alice
    services.swap_approve(swap=offered, by=supervisor_sam, override_reason="Spanish line rerouted to partner")
    offered.refresh_from_db()
    assert offered.override_reason == "Spanish line rerouted to partner"
    assert Shift.objects.get(pk=offered.shift_id).agent == agent_arthur


def test_a_like_for_like_swap_needs_no_override(offered, agent_arthur, supervisor_sam, day):
    queue = QueueFactory()
    for k in range(1, 5):
        add_calls(queue, local(day - timedelta(weeks=k), 10, 5), offered=100, answered=100)
    services.swap_take(swap=offered, by=agent_arthur.user)
    services.swap_approve(swap=offered, by=supervisor_sam)  # arthur takes every queue alice takes
    assert ShiftSwap.objects.get(pk=offered.pk).state == "approved"


def test_reject_needs_a_comment_and_keeps_the_shift(offered, agent_alice, agent_arthur, supervisor_sam):
    services.swap_take(swap=offered, by=agent_arthur.user)
    with pytest.raises(ApplicationError):
        services.swap_reject(swap=offered, by=supervisor_sam, comment="")
    services.swap_reject(swap=offered, by=supervisor_sam, comment="Arthur is on training that week")
    offered.refresh_from_db()
    assert offered.state == "rejected"
    assert Shift.objects.get(pk=offered.shift_id).agent == agent_alice
    assert Notification.objects.filter(kind="swap_rejected").count() == 2


def test_only_the_offering_agents_supervisor_decides(offered, agent_arthur, supervisor_sue, hr_hana, manager_mia):
    services.swap_take(swap=offered, by=agent_arthur.user)
    for user in (supervisor_sue, hr_hana, agent_arthur.user):
        with pytest.raises(Forbidden):
            services.swap_approve(swap=offered, by=user)
    services.swap_approve(swap=offered, by=manager_mia)  # a manager is above every supervisor


def test_an_offer_not_yet_taken_cannot_be_approved_and_can_be_withdrawn(offered, agent_alice, supervisor_sam):
    with pytest.raises(Conflict):
        services.swap_approve(swap=offered, by=supervisor_sam)
    services.swap_cancel(swap=offered, by=agent_alice.user)
    assert ShiftSwap.objects.get(pk=offered.pk).state == "cancelled"


def test_approving_a_day_off_cancels_open_offers_of_that_day(offered, agent_alice, supervisor_sam, day):
    request = make_request(agent_alice, day - timedelta(days=day.weekday()), [day])
    services.dayoff_approve(request=request, by=supervisor_sam)
    assert ShiftSwap.objects.get(pk=offered.pk).state == "cancelled"
