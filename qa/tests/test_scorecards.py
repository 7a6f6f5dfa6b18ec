"""Scorecard versioning: a version in use is frozen, a new version leaves old reviews intact."""

from decimal import Decimal

import pytest
from django.urls import reverse

from contactcenter.errors import Conflict
from qa import services
from qa.models import Criterion, Review, ScorecardVersion
from qa.tests.factories import BASIC_SECTIONS, PERFECT, CallFactory, make_scorecard, scores_payload, submitted_review

pytestmark = pytest.mark.django_db


def test_an_unused_version_can_be_edited(db):
    scorecard = make_scorecard()
    version = scorecard.versions.get()
    services.scorecard_version_set_content(
        version=version, sections=[{"title": "All", "criteria": [{"label": "Only one"}]}]
    )
    assert list(Criterion.objects.filter(section__version=version).values_list("label", flat=True)) == ["Only one"]


def test_a_version_used_by_a_review_is_frozen(qa_quinn, agent_alice):
    scorecard = make_scorecard()
    version = scorecard.versions.get()
    services.review_start(reviewer=qa_quinn, call_id=CallFactory(agent=agent_alice).pk)
    version.refresh_from_db()
    assert version.is_frozen
    with pytest.raises(Conflict) as error:
        services.scorecard_version_set_content(version=version, sections=[{"title": "X", "criteria": [{"label": "Y"}]}])
    assert error.value.code == "scorecard_frozen"
    assert Criterion.objects.filter(section__version=version).count() == 4


def test_a_new_version_keeps_old_reviews_and_their_scores_intact(client, qa_quinn, agent_alice, agent_arthur):
    scorecard = make_scorecard()
    v1 = scorecard.versions.get()
    old = submitted_review(
        reviewer=qa_quinn,
        agent=agent_alice,
        values={**PERFECT, "Checks identity": "no"},  # 1 + 0 + 3 + 1 = 5 of 7 → 71.43
    )
    assert old.score_pct == Decimal("71.43")

    v2 = services.scorecard_version_create_next(scorecard=scorecard, notes="Identity weighs more")
    assert (v2.number, v2.published_at, v2.frozen_at) == (2, None, None)
    # The copy has the same criteria, as new rows; v1 is untouched.
    assert sorted(Criterion.objects.filter(section__version=v2).values_list("label", flat=True)) == sorted(
        c["label"] for s in BASIC_SECTIONS for c in s["criteria"]
    )
    sections = [dict(s, criteria=[dict(c) for c in s["criteria"]]) for s in BASIC_SECTIONS]
    sections[0]["criteria"][1]["weight"] = 5
    sections[1]["criteria"].append({"label": "Offers further help", "weight": 1})
    services.scorecard_version_set_content(version=v2, sections=sections)
    # Unpublished: new reviews still use v1.
    assert services.scorecard_current_version(scorecard) == v1
    services.scorecard_version_publish(version=v2)
    assert services.scorecard_current_version(scorecard) == v2

    new = services.review_start(reviewer=qa_quinn, call_id=CallFactory(agent=agent_arthur).pk)
    assert new.scorecard_version == v2
    services.review_save_scores(
        review=new,
        by=qa_quinn,
        scores=scores_payload(v2, {**PERFECT, "Checks identity": "no", "Offers further help": "yes"}),
    )
    new = services.review_submit(review=new, by=qa_quinn)
    # 1 + 0 + 3 + 1 + 1 = 6 of 11 → 54.55 with the heavier identity check.
    assert new.score_pct == Decimal("54.55")

    old.refresh_from_db()
    assert old.scorecard_version == v1
    assert old.score_pct == Decimal("71.43")
    client.force_login(qa_quinn)
    data = client.get(reverse("api-qa-review-detail", args=[old.pk])).json()
    assert data["scorecard_version_number"] == 1
    assert sorted(s["label"] for s in data["scores"]) == sorted(
        c["label"] for s in BASIC_SECTIONS for c in s["criteria"]
    )
    assert Criterion.objects.filter(section__version=v1, label="Checks identity").get().weight == 2


def test_versions_are_numbered_in_order(db):
    scorecard = make_scorecard()
    assert [services.scorecard_version_create_next(scorecard=scorecard).number for _ in range(2)] == [2, 3]
    assert list(ScorecardVersion.objects.filter(scorecard=scorecard).values_list("number", flat=True)) == [3, 2, 1]


def test_an_unpublished_version_cannot_be_used(qa_quinn, agent_alice):
    scorecard = make_scorecard()
    draft = services.scorecard_version_create_next(scorecard=scorecard)
    from contactcenter.errors import ApplicationError

    with pytest.raises(ApplicationError) as error:
        services.review_start(
            reviewer=qa_quinn, call_id=CallFactory(agent=agent_alice).pk, scorecard_version_id=draft.pk
        )
    assert "scorecard_version" in error.value.fields
    assert not Review.objects.exists()


def test_bad_scorecard_content_is_refused_with_field_errors(db):
    from contactcenter.errors import ApplicationError

    with pytest.raises(ApplicationError) as error:
        services.scorecard_create(
            name="Broken",
            sections=[
                {
                    "title": "S",
                    "criteria": [{"label": "A", "scale": "yes_no", "max_points": 3}, {"label": "", "weight": 0}],
                }
            ],
        )
    assert set(error.value.fields) == {
        "sections[0].criteria[0].max_points",
        "sections[0].criteria[1].label",
        "sections[0].criteria[1].weight",
    }


def test_admin_refuses_to_edit_a_frozen_version(client, qa_quinn, agent_alice):
    scorecard = make_scorecard()
    version = scorecard.versions.get()
    criterion = Criterion.objects.filter(section__version=version).first()
    client.force_login(qa_quinn)
    # Before use, QA analysts edit criteria in the back office.
    url = reverse("admin:qa_criterion_change", args=[criterion.pk])
    assert client.get(url).status_code == 200
    services.review_start(reviewer=qa_quinn, call_id=CallFactory(agent=agent_alice).pk)
    response = client.post(url, {"label": "Changed", "weight": 9})
    assert response.status_code == 403
    criterion.refresh_from_db()
    assert criterion.label != "Changed"
    # The page still shows it, read only.
    assert client.get(url).status_code == 200


def test_admin_refuses_a_new_section_in_a_frozen_version(client, qa_quinn, agent_alice):
    version = make_scorecard().versions.get()
    services.review_start(reviewer=qa_quinn, call_id=CallFactory(agent=agent_alice).pk)
    client.force_login(qa_quinn)
    response = client.post(
        reverse("admin:qa_section_add"),
        {
            "version": version.pk,
            "title": "Sneaky",
            "position": 9,
            "criteria-TOTAL_FORMS": 0,
            "criteria-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200  # the form comes back with the error
    assert "can no longer change" in response.content.decode()
    assert not version.sections.filter(title="Sneaky").exists()


def test_admin_new_version_action_and_publish(client, qa_quinn):
    scorecard = make_scorecard()
    client.force_login(qa_quinn)
    client.post(
        reverse("admin:qa_scorecard_changelist"),
        {"action": "create_next_version", "_selected_action": [scorecard.pk]},
    )
    v2 = scorecard.versions.get(number=2)
    assert v2.published_at is None
    client.post(reverse("admin:qa_scorecardversion_changelist"), {"action": "publish", "_selected_action": [v2.pk]})
    v2.refresh_from_db()
    assert v2.published_at is not None


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        ("qa_quinn", ["qa_scorecard", "qa_criterion", "qa_review"], ["qa_evaluation", "qa_selfreport"]),
        ("trainer_tom", ["qa_scorecard", "qa_coachingaction"], ["qa_evaluation", "qa_selfreport", "qa_review"]),
        ("hr_hana", ["qa_evaluation", "qa_selfreport"], ["qa_scorecard", "qa_review"]),
        ("manager_mia", ["qa_scorecard", "qa_review", "qa_evaluation", "qa_selfreport"], []),
    ],
)
def test_back_office_per_role(request, client, who, allowed, refused):
    make_scorecard()
    client.force_login(request.getfixturevalue(who))
    for model in allowed:
        assert client.get(reverse(f"admin:{model}_changelist")).status_code == 200, model
    for model in refused:
        assert client.get(reverse(f"admin:{model}_changelist")).status_code == 403, model
