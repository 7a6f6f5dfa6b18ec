"""The demo has scorecards (one in its second version), reviews with a dispute, a calibration,
evaluations over several months and self-reported results with a flagged mismatch; and a
second run changes nothing.

The demos quality builds on (agents, calls, clients) run first, then quality's; the whole
`seed_demo` chain is tested by agents/tests/test_seed_demo.py.
"""

import io

import pytest

from qa.models import CalibrationSession, Evaluation, Review, ReviewAssignment, Scorecard, ScorecardVersion, SelfReport

pytestmark = pytest.mark.django_db


def seed() -> dict:
    import importlib

    logins = {}
    for app in ("agents", "calls", "clients", "qa"):
        logins.update(importlib.import_module(f"{app}.demo").seed(stdout=io.StringIO()) or {})
    return logins


def counts():
    return (
        Scorecard.objects.count(),
        ScorecardVersion.objects.count(),
        Review.objects.count(),
        CalibrationSession.objects.count(),
        ReviewAssignment.objects.count(),
        Evaluation.objects.count(),
        SelfReport.objects.count(),
    )


def test_the_demo_has_every_part_of_quality_and_is_idempotent():
    logins = seed()
    assert "qa.lead" in logins

    assert Scorecard.objects.count() == 2
    assert ScorecardVersion.objects.filter(number=2, published_at__isnull=False).exists()
    regular = Review.objects.filter(kind=Review.Kind.REGULAR)
    # Old reviews kept their first version while new ones use the second.
    assert regular.filter(scorecard_version__number=1).exists() and regular.filter(scorecard_version__number=2).exists()
    statuses = set(regular.values_list("status", flat=True))
    assert {"acknowledged", "submitted", "disputed", "upheld", "rescored"} <= statuses
    disputed = regular.get(status="disputed")
    assert disputed.agent.user.username == "agent"
    assert regular.filter(actions__kind="training").exists() and regular.filter(actions__kind="coaching").exists()

    closed = CalibrationSession.objects.get(status="closed")
    assert closed.reviews.filter(status="submitted").count() == 3
    assert CalibrationSession.objects.filter(status="open").exists()
    assert ReviewAssignment.objects.exists()

    months = set(Evaluation.objects.values_list("period_start", flat=True))
    assert len(months) >= 3
    featured = Evaluation.objects.filter(agent__user__username="agent").order_by("period_start")
    assert [e.status for e in featured] == ["signed", "signed", "shared"]
    assert all(e.calls_handled for e in featured) and all(e.qa_average_pct is not None for e in featured)

    assert SelfReport.objects.filter(status="flagged").exists()
    assert SelfReport.objects.filter(status="matched").exists()
    assert SelfReport.objects.filter(status__in=["confirmed", "corrected"]).count() == 2

    before = counts()
    seed()
    assert counts() == before
