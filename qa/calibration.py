"""Calibration statistics. Pure: no database, tested on known data.

Each reviewer's points on a criterion are put on one scale (percent of the
criterion's maximum) so yes/no and 0..N criteria compare. For each criterion:
how many scored it, the mean, min, max and the population standard deviation
(the reviewers of a session are the whole population being compared). For each
reviewer: their overall score's distance from the session's mean score, and the
mean absolute distance of their criterion scores from each criterion's mean.
Not-applicable answers are left out of the numbers and counted apart.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from statistics import mean, pstdev

CENT = Decimal("0.01")


def _d(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CriterionSpread:
    criterion_id: int
    scored: int
    not_applicable: int
    mean_pct: Decimal | None
    min_pct: Decimal | None
    max_pct: Decimal | None
    stdev_pct: Decimal | None


@dataclass(frozen=True)
class ReviewerDistance:
    reviewer_id: int
    score_pct: Decimal | None
    score_delta: Decimal | None  # their score minus the session's mean score
    mean_abs_distance: Decimal | None  # mean |their criterion % − the criterion's mean %|


@dataclass(frozen=True)
class CalibrationResult:
    mean_score_pct: Decimal | None
    criteria: list[CriterionSpread]
    reviewers: list[ReviewerDistance]


def calibration_stats(
    *,
    max_points: dict[int, int],
    points: dict[int, dict[int, int | None]],
    scores: dict[int, Decimal | None],
) -> CalibrationResult:
    """Spread per criterion and distance per reviewer.

    max_points: {criterion id: max points}; points: {reviewer id: {criterion id: points or None}};
    scores: {reviewer id: the reviewer's overall score}.
    """
    # Exact decimal arithmetic throughout, so known answers round the way they are worked out by hand.
    pct: dict[int, dict[int, Decimal]] = {
        reviewer: {cid: Decimal(100 * p) / Decimal(max_points[cid]) for cid, p in answers.items() if p is not None}
        for reviewer, answers in points.items()
    }
    criteria = []
    means: dict[int, Decimal] = {}
    for cid in max_points:
        values = [answers[cid] for answers in pct.values() if cid in answers]
        na = sum(1 for answers in points.values() if cid in answers and answers[cid] is None)
        if values:
            means[cid] = mean(values)
        criteria.append(
            CriterionSpread(
                criterion_id=cid,
                scored=len(values),
                not_applicable=na,
                mean_pct=_d(means.get(cid)),
                min_pct=_d(min(values)) if values else None,
                max_pct=_d(max(values)) if values else None,
                stdev_pct=_d(pstdev(values)) if values else None,
            )
        )
    known_scores = [Decimal(score) for score in scores.values() if score is not None]
    mean_score = mean(known_scores) if known_scores else None
    reviewers = []
    for reviewer in points:
        score = scores.get(reviewer)
        distances = [abs(value - means[cid]) for cid, value in pct[reviewer].items() if cid in means]
        reviewers.append(
            ReviewerDistance(
                reviewer_id=reviewer,
                score_pct=score,
                score_delta=_d(Decimal(score) - mean_score) if score is not None and mean_score is not None else None,
                mean_abs_distance=_d(mean(distances)) if distances else None,
            )
        )
    return CalibrationResult(mean_score_pct=_d(mean_score), criteria=criteria, reviewers=reviewers)
