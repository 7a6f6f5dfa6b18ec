"""The score of a review (qa/scoring.py), against answers worked out by hand."""

from decimal import Decimal

import pytest

from qa.scoring import CriterionPoints as C
from qa.scoring import ScaleError, compute_score, is_failed


def score(*items):
    return compute_score(list(items))


def test_all_full_marks_is_100():
    assert score(C(1, 1, 1), C(2, 1, 1), C(3, 4, 4)).score_pct == Decimal("100.00")


def test_weights_count():
    # 1×1 + 2×0 + 3×(2/4) = 2.5 of 6 → 41.67
    result = score(C(1, 1, 1), C(2, 1, 0), C(3, 4, 2))
    assert result.score_pct == Decimal("41.67")
    assert result.critical_failed is False


def test_heavier_criterion_weighs_more():
    # Same answers, weights swapped: failing the heavy one costs more.
    assert score(C(1, 1, 0), C(3, 1, 1)).score_pct == Decimal("75.00")
    assert score(C(3, 1, 0), C(1, 1, 1)).score_pct == Decimal("25.00")


def test_not_applicable_is_left_out_of_numerator_and_denominator():
    # Without the N/A criterion: 1×1 + 3×(3/4) = 3.25 of 4 → 81.25 (not 3.25 of 6 = 54.17).
    result = score(C(1, 1, 1), C(2, 1, None), C(3, 4, 3))
    assert result.score_pct == Decimal("81.25")


def test_not_applicable_does_not_hide_a_failure():
    assert score(C(1, 1, 0), C(5, 1, None)).score_pct == Decimal("0.00")


def test_critical_failure_sets_zero_whatever_the_rest():
    result = score(C(1, 1, 1), C(2, 1, 1), C(3, 4, 4), C(1, 1, 0, critical=True))
    assert result.score_pct == Decimal("0.00")
    assert result.critical_failed is True


def test_critical_criterion_passed_counts_like_any_other():
    # 1×1 + 1×1(critical, passed) + 2×0 = 2 of 4 → 50
    result = score(C(1, 1, 1), C(1, 1, 1, critical=True), C(2, 1, 0))
    assert result.score_pct == Decimal("50.00")
    assert result.critical_failed is False


def test_critical_not_applicable_is_not_a_failure():
    result = score(C(1, 1, 1), C(1, 1, None, critical=True))
    assert (result.score_pct, result.critical_failed) == (Decimal("100.00"), False)


def test_critical_on_a_points_scale_fails_only_at_zero():
    assert score(C(1, 4, 1, critical=True)).score_pct == Decimal("25.00")
    assert score(C(1, 4, 0, critical=True)).critical_failed is True


def test_nothing_applicable_has_no_score():
    result = score(C(1, 1, None), C(2, 4, None))
    assert (result.score_pct, result.critical_failed) == (None, False)


def test_rounds_half_up_to_cents():
    # 1 of 3 equal weights → 33.333… → 33.33; 2 of 3 → 66.67; 1/8 → 12.5 exactly.
    assert score(C(1, 1, 1), C(1, 1, 0), C(1, 1, 0)).score_pct == Decimal("33.33")
    assert score(C(1, 1, 1), C(1, 1, 1), C(1, 1, 0)).score_pct == Decimal("66.67")
    assert score(C(1, 8, 1)).score_pct == Decimal("12.50")


@pytest.mark.parametrize("points", [-1, 5])
def test_points_outside_the_scale_are_refused(points):
    with pytest.raises(ScaleError):
        score(C(1, 4, points))


def test_zero_weight_is_refused():
    with pytest.raises(ScaleError):
        score(C(0, 1, 1))


@pytest.mark.parametrize(
    ("points", "max_points", "failed"),
    [(0, 1, True), (1, 1, False), (None, 1, False), (1, 4, True), (2, 4, False), (2, 5, True), (3, 5, False)],
)
def test_failed_means_less_than_half_the_points(points, max_points, failed):
    assert is_failed(points=points, max_points=max_points) is failed
