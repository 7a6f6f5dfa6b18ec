"""How a review's score is computed. Pure: no database, tested with known answers.

score = 100 × Σ(weight × points / max_points) / Σ(weight), over the applicable criteria.
- Not applicable leaves a criterion out of both sums (it neither helps nor hurts).
- A critical criterion with 0 points fails the whole review: the score is 0.
- When nothing applies (and no critical failure) there is no score: None.
Rounded half-up to two decimals.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


class ScaleError(ValueError):
    """Points outside a criterion's scale."""


@dataclass(frozen=True)
class CriterionPoints:
    weight: int
    max_points: int
    points: int | None  # None: not applicable
    critical: bool = False


@dataclass(frozen=True)
class ScoreResult:
    score_pct: Decimal | None
    critical_failed: bool


def is_failed(*, points: int | None, max_points: int) -> bool:
    """A criterion counts as failed with less than half its points (a "no" on yes/no)."""
    return points is not None and points * 2 < max_points


def compute_score(items: list[CriterionPoints]) -> ScoreResult:
    """The weighted score of a review's criteria (rules in the module docstring)."""
    for item in items:
        if item.weight < 1 or item.max_points < 1:
            raise ScaleError(f"weight and max_points must be positive: {item}")
        if item.points is not None and not 0 <= item.points <= item.max_points:
            raise ScaleError(f"{item.points} is outside 0..{item.max_points}")
    if any(item.critical and item.points == 0 for item in items):
        return ScoreResult(score_pct=Decimal("0.00"), critical_failed=True)
    applicable = [item for item in items if item.points is not None]
    if not applicable:
        return ScoreResult(score_pct=None, critical_failed=False)
    earned = sum(Decimal(item.weight) * Decimal(item.points) / Decimal(item.max_points) for item in applicable)
    possible = sum(Decimal(item.weight) for item in applicable)
    return ScoreResult(
        score_pct=(earned * 100 / possible).quantize(CENT, rounding=ROUND_HALF_UP), critical_failed=False
    )
