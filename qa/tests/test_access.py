"""Every access rule of the quality app, through the API and the pages (403 for a role that
may not see a kind of record, 404 for a record out of scope).

- An agent sees only their own reviews (once submitted), evaluations (once shared) and results.
- QA analysts see reviews; supervisors their team's reviews, evaluations and results;
- HR all evaluations and results (not reviews); trainers the training-relevant aggregates
  and reviews, never evaluations or results; managers everything.
"""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from qa import services
from qa.models import Evaluation
from qa.tests.factories import CallFactory, make_scorecard, submitted_review

pytestmark = pytest.mark.django_db

FEB = (date(2025, 2, 1), date(2025, 2, 28))
RATINGS = dict.fromkeys(Evaluation.RATINGS, 4)


@pytest.fixture
def world(agent_alice, agent_arthur, agent_bob, supervisor_sam, supervisor_sue, qa_quinn):
    """A submitted review, a shared evaluation and a self-reported day for alice, arthur and bob;
    plus a draft review and a draft evaluation of alice."""
    make_scorecard()
    data = {"reviews": {}, "evaluations": {}, "reports": {}}
    for agent, supervisor in (
        (agent_alice, supervisor_sam),
        (agent_arthur, supervisor_sam),
        (agent_bob, supervisor_sue),
    ):
        name = agent.user.username
        data["reviews"][name] = submitted_review(reviewer=qa_quinn, agent=agent)
        evaluation = services.evaluation_create(
            by=supervisor, agent_id=agent.pk, period_start=FEB[0], period_end=FEB[1]
        )
        services.evaluation_update(evaluation=evaluation, by=supervisor, **RATINGS)
        data["evaluations"][name] = services.evaluation_share(evaluation=evaluation, by=supervisor)
        data["reports"][name] = services.self_report_submit(
            by=agent.user, day=date.today() - timedelta(days=1), applications_signed=1, sales=0, collections_amount=0
        )
    data["draft_review"] = services.review_start(reviewer=qa_quinn, call_id=CallFactory(agent=agent_alice).pk)
    data["draft_evaluation"] = services.evaluation_create(
        by=supervisor_sam, agent_id=agent_alice.pk, period_start=date(2025, 3, 1), period_end=date(2025, 3, 31)
    )
    return data


def login(client, request, who):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)
    client.force_login(user)
    return user


def listed(client, url_name, **params):
    response = client.get(reverse(url_name), params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def names(rows):
    return sorted(row["agent"]["name"].split()[0].lower() for row in rows)


# --- Reviews ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent_alice", ["alice"]),
        ("supervisor_sam", ["alice", "arthur"]),
        ("supervisor_sue", ["bob"]),
        ("qa_quinn", ["alice", "alice", "arthur", "bob"]),  # their own draft too
        ("trainer_tom", ["alice", "arthur", "bob"]),
        ("manager_mia", ["alice", "alice", "arthur", "bob"]),
    ],
)
def test_who_sees_which_reviews(request, client, world, who, expected):
    login(client, request, who)
    assert names(listed(client, "api-qa-review-list")) == expected


def test_hr_and_anonymous_see_no_reviews(request, client, world):
    assert client.get(reverse("api-qa-review-list")).status_code in (401, 403)
    login(client, request, "hr_hana")
    assert client.get(reverse("api-qa-review-list")).status_code == 403
    assert client.get(reverse("api-qa-review-detail", args=[world["reviews"]["alice"].pk])).status_code == 403
    assert client.get(reverse("qa:review-list")).status_code == 403


@pytest.mark.parametrize(
    ("who", "review", "status"),
    [
        ("agent_alice", "alice", 200),
        ("agent_alice", "arthur", 404),
        ("agent_alice", "draft_review", 404),  # not submitted yet
        ("agent_bob", "alice", 404),
        ("supervisor_sam", "arthur", 200),
        ("supervisor_sam", "bob", 404),
        ("supervisor_sam", "draft_review", 404),
        ("supervisor_sue", "alice", 404),
        ("trainer_tom", "bob", 200),
        ("trainer_tom", "draft_review", 404),
        ("qa_quinn", "bob", 200),
        ("manager_mia", "bob", 200),
    ],
)
def test_review_detail_api_and_page(request, client, world, who, review, status):
    login(client, request, who)
    target = world["reviews"].get(review) or world[review]
    assert client.get(reverse("api-qa-review-detail", args=[target.pk])).status_code == status
    page = client.get(reverse("qa:review-detail", args=[target.pk]))
    # The reviewer's own draft opens the scoring form instead.
    assert page.status_code == (302 if who == "qa_quinn" and review == "draft_review" else status)


def test_a_review_id_that_does_not_exist_is_404(request, client, world):
    login(client, request, "qa_quinn")
    assert client.get(reverse("api-qa-review-detail", args=[999999])).status_code == 404
    assert client.get(reverse("qa:review-detail", args=[999999])).status_code == 404


def test_assignments_are_for_qa_analysts(request, client, world):
    login(client, request, "qa_quinn")
    assert client.get(reverse("api-qa-assignment-list")).status_code == 200
    for who in ("agent_alice", "supervisor_sam", "trainer_tom", "hr_hana"):
        login(client, request, who)
        assert client.get(reverse("api-qa-assignment-list")).status_code == 403


def test_only_trainers_and_managers_assign_courses(request, client, world):
    from agents.tests.factories import TrainingCourseFactory

    course = TrainingCourseFactory(title="Identity checks")
    url = reverse("api-qa-review-training", args=[world["reviews"]["alice"].pk])
    payload = {"course": course.pk, "due_date": (date.today() + timedelta(days=14)).isoformat()}
    for who in ("qa_quinn", "supervisor_sam"):
        login(client, request, who)
        assert client.post(url, payload, content_type="application/json").status_code == 403
    login(client, request, "trainer_tom")
    response = client.post(url, payload, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["course"] == "Identity checks"
    assert client.post(url, payload, content_type="application/json").status_code == 409
    response = client.post(url, {**payload, "course": 424242}, content_type="application/json")
    assert response.status_code == 400
    assert "course" in response.json()["errors"]
    # The agent sees the assignment on their review.
    login(client, request, "agent_alice")
    actions = client.get(reverse("api-qa-review-detail", args=[world["reviews"]["alice"].pk])).json()["actions"]
    assert [(a["kind"], a["course"]) for a in actions] == [("training", "Identity checks")]


def test_coaching_actions_by_qa_or_the_agents_supervisor(request, client, world):
    url = reverse("api-qa-review-coaching", args=[world["reviews"]["alice"].pk])
    payload = {
        "description": "Listen to two calls together",
        "due_date": (date.today() + timedelta(days=7)).isoformat(),
    }
    for who, status in (
        ("supervisor_sue", 404),
        ("agent_alice", 403),
        ("trainer_tom", 403),
        ("supervisor_sam", 201),
        ("qa_quinn", 201),
    ):
        login(client, request, who)
        assert client.post(url, payload, content_type="application/json").status_code == status, who
    login(client, request, "supervisor_sam")
    past = {**payload, "due_date": "2020-01-01"}
    response = client.post(url, past, content_type="application/json")
    assert response.status_code == 400
    assert "due_date" in response.json()["errors"]


# --- Evaluations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent_alice", ["alice"]),  # shared only: not the March draft
        ("supervisor_sam", ["alice", "alice", "arthur"]),
        ("supervisor_sue", ["bob"]),
        ("hr_hana", ["alice", "alice", "arthur", "bob"]),
        ("manager_mia", ["alice", "alice", "arthur", "bob"]),
    ],
)
def test_who_sees_which_evaluations(request, client, world, who, expected):
    login(client, request, who)
    assert names(listed(client, "api-qa-evaluation-list")) == expected


@pytest.mark.parametrize("who", ["trainer_tom", "qa_quinn"])
def test_trainers_and_qa_never_see_evaluations(request, client, world, who, agent_alice):
    login(client, request, who)
    evaluation = world["evaluations"]["alice"]
    assert client.get(reverse("api-qa-evaluation-list")).status_code == 403
    assert client.get(reverse("api-qa-evaluation-detail", args=[evaluation.pk])).status_code == 403
    assert client.get(reverse("api-qa-evaluation-history", args=[agent_alice.pk])).status_code == 403
    assert client.get(reverse("qa:evaluation-list")).status_code == 403
    assert client.get(reverse("qa:evaluation-detail", args=[evaluation.pk])).status_code == 403
    assert client.get(reverse("qa:evaluation-history", args=[agent_alice.pk])).status_code == 403


@pytest.mark.parametrize(
    ("who", "evaluation", "status"),
    [
        ("agent_alice", "alice", 200),
        ("agent_alice", "arthur", 404),
        ("agent_alice", "draft_evaluation", 404),
        ("supervisor_sam", "arthur", 200),
        ("supervisor_sam", "bob", 404),
        ("supervisor_sue", "alice", 404),
        ("hr_hana", "bob", 200),
        ("manager_mia", "bob", 200),
    ],
)
def test_evaluation_detail_api_and_page(request, client, world, who, evaluation, status):
    login(client, request, who)
    target = world["evaluations"].get(evaluation) or world[evaluation]
    assert client.get(reverse("api-qa-evaluation-detail", args=[target.pk])).status_code == status
    assert client.get(reverse("qa:evaluation-detail", args=[target.pk])).status_code == status


@pytest.mark.parametrize(
    ("who", "agent", "status"),
    [
        ("agent_alice", "agent_alice", 200),
        ("agent_alice", "agent_bob", 404),
        ("supervisor_sam", "agent_arthur", 200),
        ("supervisor_sam", "agent_bob", 404),
        ("hr_hana", "agent_bob", 200),
    ],
)
def test_evaluation_history_scope(request, client, world, who, agent, status):
    login(client, request, who)
    agent_id = request.getfixturevalue(agent).pk
    assert client.get(reverse("api-qa-evaluation-history", args=[agent_id])).status_code == status
    assert client.get(reverse("qa:evaluation-history", args=[agent_id])).status_code == status


def test_hr_reads_but_does_not_write_evaluations(request, client, world):
    login(client, request, "hr_hana")
    url = reverse("api-qa-evaluation-detail", args=[world["draft_evaluation"].pk])
    assert client.get(url).status_code == 200
    assert client.patch(url, {"comments": "x"}, content_type="application/json").status_code == 403


# --- Self-reported results ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent_alice", ["alice"]),
        ("supervisor_sam", ["alice", "arthur"]),
        ("supervisor_sue", ["bob"]),
        ("hr_hana", ["alice", "arthur", "bob"]),
        ("manager_mia", ["alice", "arthur", "bob"]),
    ],
)
def test_who_sees_which_self_reported_results(request, client, world, who, expected):
    login(client, request, who)
    assert names(listed(client, "api-qa-selfreport-list")) == expected


@pytest.mark.parametrize("who", ["trainer_tom", "qa_quinn"])
def test_trainers_and_qa_never_see_self_reported_results(request, client, world, who):
    login(client, request, who)
    assert client.get(reverse("api-qa-selfreport-list")).status_code == 403
    assert client.get(reverse("api-qa-selfreport-detail", args=[world["reports"]["alice"].pk])).status_code == 403
    assert client.get(reverse("qa:self-reports")).status_code == 403


@pytest.mark.parametrize(
    ("who", "report", "status"),
    [
        ("agent_alice", "bob", 404),
        ("supervisor_sam", "bob", 404),
        ("supervisor_sue", "bob", 200),
        ("hr_hana", "alice", 200),
    ],
)
def test_self_report_detail_scope(request, client, world, who, report, status):
    login(client, request, who)
    assert client.get(reverse("api-qa-selfreport-detail", args=[world["reports"][report].pk])).status_code == status


def test_another_teams_supervisor_cannot_decide(request, client, world):
    login(client, request, "supervisor_sue")
    url = reverse("api-qa-selfreport-confirm", args=[world["reports"]["alice"].pk])
    assert client.post(url, {}, content_type="application/json").status_code == 404


# --- Aggregates ---------------------------------------------------------------------------------------


def test_team_view_scope(request, client, world, team_a, team_b):
    login(client, request, "supervisor_sam")
    data = client.get(reverse("api-qa-team-quality"), {"since": "2000-01-01"}).json()
    assert sorted(row["agent"].split()[0].lower() for row in data["agents"]) == ["alice", "arthur"]
    assert client.get(reverse("api-qa-team-quality"), {"team": team_b.pk}).status_code == 404
    assert client.get(reverse("qa:team"), {"team": team_b.pk}).status_code == 404
    assert client.get(reverse("qa:team")).status_code == 200
    for who in ("qa_quinn", "manager_mia"):
        login(client, request, who)
        data = client.get(reverse("api-qa-team-quality"), {"since": "2000-01-01"}).json()
        assert len(data["agents"]) == 3


@pytest.mark.parametrize("who", ["agent_alice", "hr_hana", "trainer_tom"])
def test_team_view_is_not_for_agents_hr_or_trainers(request, client, world, who):
    login(client, request, who)
    assert client.get(reverse("api-qa-team-quality")).status_code == 403
    assert client.get(reverse("qa:team")).status_code == 403


def test_trainers_get_the_training_aggregate_only(request, client, world, team_a):
    from qa.tests.factories import PERFECT

    submitted_review(
        reviewer=request.getfixturevalue("qa_quinn"),
        agent=request.getfixturevalue("agent_alice"),
        values={**PERFECT, "Checks identity": "no"},
    )
    login(client, request, "trainer_tom")
    response = client.get(reverse("api-qa-failed-criteria"), {"since": "2000-01-01"})
    assert response.status_code == 200
    assert response.json() == [
        {
            "team_id": team_a.pk,
            "team": "Team A",
            "criteria": [{"criterion": "Checks identity", "failed": 1, "applicable": 3, "failure_rate_pct": "33.33"}],
        }
    ]
    assert client.get(reverse("qa:training")).status_code == 200
    for who in ("agent_alice", "hr_hana"):
        login(client, request, who)
        assert client.get(reverse("api-qa-failed-criteria")).status_code == 403
        assert client.get(reverse("qa:training")).status_code == 403


def test_my_quality_is_the_agents_page(request, client, world):
    login(client, request, "agent_alice")
    response = client.get(reverse("qa:my-quality"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"/qa/reviews/{world['reviews']['alice'].pk}/" in body
    assert f"/qa/reviews/{world['reviews']['arthur'].pk}/" not in body
    for who in ("supervisor_sam", "hr_hana", "qa_quinn"):
        login(client, request, who)
        assert client.get(reverse("qa:my-quality")).status_code == 403


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("agent_alice", "/qa/me/"),
        ("supervisor_sam", "/qa/team/"),
        ("qa_quinn", "/qa/reviews/"),
        ("trainer_tom", "/qa/training/"),
        ("hr_hana", "/qa/evaluations/"),
    ],
)
def test_home_sends_each_role_to_its_page(request, client, world, who, target):
    login(client, request, who)
    response = client.get(reverse("qa:home"))
    assert response.status_code == 302
    assert response["Location"] == target
    assert client.get(target).status_code == 200


def test_pages_need_a_login(client, world):
    response = client.get(reverse("qa:review-list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
