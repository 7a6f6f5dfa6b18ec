"""Calibration sessions: several QA analysts score the same call blind, then compare.

Each participant scores with an ordinary review of kind "calibration" (review_save_scores,
review_submit); the blind rule is in qa.selectors.calibration_results_visible and the
statistics in qa/calibration.py.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import User
from agents.roles import Role, roles_of
from contactcenter.errors import ApplicationError, Conflict, Forbidden

from .. import calibration
from ..models import CalibrationSession, Criterion, Review, ReviewStatusChange
from .reviews import _published_version, _reviewable_call
from .scorecards import version_freeze


def calibration_create(
    *, by, call_id, title: str, participant_ids: list, scorecard_version_id=None, scorecard_id=None
) -> CalibrationSession:
    """Open a calibration session on a call for at least two QA analysts."""
    if not roles_of(by) & {Role.QA_ANALYST, Role.MANAGER}:
        raise Forbidden(_("Only QA analysts organise calibration sessions."))
    title = (title or "").strip()
    if not title:
        raise ApplicationError(_("Give the session a title."), fields={"title": _("This field is required.")})
    call = _reviewable_call(call_id)
    version = _published_version(scorecard_version_id=scorecard_version_id, scorecard_id=scorecard_id)
    try:
        ids = {int(pk) for pk in participant_ids or []}
    except (TypeError, ValueError):
        raise ApplicationError(_("Participants are user ids."), fields={"participants": _("Not valid ids.")}) from None
    participants = list(User.objects.filter(pk__in=ids, groups__name=Role.QA_ANALYST, is_active=True).distinct())
    if len(participants) != len(ids):
        raise ApplicationError(
            _("Every participant must be an active QA analyst."),
            fields={
                "participants": _("Unknown user or not a QA analyst: %s.") % sorted(ids - {u.pk for u in participants})
            },
        )
    if len(participants) < 2:
        raise ApplicationError(
            _("A calibration needs at least two reviewers."), fields={"participants": _("Choose at least two.")}
        )
    with transaction.atomic():
        session = CalibrationSession.objects.create(title=title, call=call, scorecard_version=version, created_by=by)
        session.participants.set(participants)
        version_freeze(version)
    return session


def calibration_review_start(*, session: CalibrationSession, by) -> Review:
    """The participant's own (blind) review of the session's call; the same one if asked twice."""
    if not session.participants.filter(pk=by.pk).exists():
        raise Forbidden(_("You are not a participant of this calibration."))
    if session.status != CalibrationSession.Status.OPEN:
        raise Conflict(_("This calibration session is closed."))
    review = Review.objects.filter(calibration=session, reviewer=by).first()
    if review is not None:
        return review
    try:
        with transaction.atomic():
            review = Review.objects.create(
                kind=Review.Kind.CALIBRATION,
                calibration=session,
                call=session.call,
                agent=session.call.agent,
                reviewer=by,
                scorecard_version=session.scorecard_version,
                recording_url=session.call.recording_url,
            )
            ReviewStatusChange.objects.create(review=review, from_status="", to_status=Review.Status.DRAFT, by=by)
    except IntegrityError:
        review = Review.objects.get(calibration=session, reviewer=by)
    return review


def calibration_close(*, session: CalibrationSession, by) -> CalibrationSession:
    """End the session: everyone sees the results. The organiser or a manager closes it."""
    if session.created_by_id != by.pk and Role.MANAGER not in roles_of(by):
        raise Forbidden(_("Only the organiser closes the session."))
    with transaction.atomic():
        updated = CalibrationSession.objects.filter(pk=session.pk, status=CalibrationSession.Status.OPEN).update(
            status=CalibrationSession.Status.CLOSED, closed_at=timezone.now()
        )
        if not updated:
            raise Conflict(_("This calibration session is already closed."))
    session.refresh_from_db()
    return session


@dataclass(frozen=True)
class SessionResults:
    criteria: list[tuple[Criterion, calibration.CriterionSpread]]
    reviewers: list[tuple[User, calibration.ReviewerDistance]]
    mean_score_pct: object
    submitted: int
    participants: int


def calibration_results(session: CalibrationSession) -> SessionResults:
    """The session's statistics over the participants' submitted scores."""
    criteria = list(
        Criterion.objects.filter(section__version_id=session.scorecard_version_id).select_related("section")
    )
    reviews = list(
        session.reviews.filter(status=Review.Status.SUBMITTED).select_related("reviewer").prefetch_related("scores")
    )
    result = calibration.calibration_stats(
        max_points={c.pk: c.max_points for c in criteria},
        points={r.reviewer_id: {s.criterion_id: s.points for s in r.scores.all()} for r in reviews},
        scores={r.reviewer_id: r.score_pct for r in reviews},
    )
    by_criterion = {spread.criterion_id: spread for spread in result.criteria}
    reviewers = {r.reviewer_id: r.reviewer for r in reviews}
    return SessionResults(
        criteria=[(c, by_criterion[c.pk]) for c in criteria],
        reviewers=[(reviewers[d.reviewer_id], d) for d in result.reviewers],
        mean_score_pct=result.mean_score_pct,
        submitted=len(reviews),
        participants=session.participants.count(),
    )
