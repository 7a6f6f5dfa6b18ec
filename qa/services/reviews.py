"""Call reviews: start, score, submit; the agent acknowledges or disputes; a QA lead
resolves the dispute (upheld or re-scored); coaching actions and training assignments.

Every status move goes through review_transition (the table is Review.TRANSITIONS) and
leaves a ReviewStatusChange row; a re-score keeps the replaced scores in that row.
"""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import TrainingCourse
from agents.roles import Role, roles_of
from calls.models import Call
from contactcenter.errors import ApplicationError, Conflict, Forbidden

from .. import scoring
from ..models import (
    CoachingAction,
    Criterion,
    Review,
    ReviewAssignment,
    ReviewScore,
    ReviewStatusChange,
    Scorecard,
    ScorecardVersion,
)
from ..selectors import can_lead_agent, is_qa_lead, is_supervisor_of
from .scorecards import scorecard_current_version, version_freeze

NA_WORDS = {"na", "n/a", "not_applicable", "not applicable"}
YES_WORDS = {"yes", "y", "1", "true"}
NO_WORDS = {"no", "n", "0", "false"}


class ReviewError(ApplicationError):
    """A review action refused by the rules of the review workflow."""


def review_transition(*, review: Review, to: str, by, note: str = "", update_fields=(), **history) -> Review:
    """Move a (locked) review to another status: checks the table, saves, writes the history row."""
    if to not in Review.TRANSITIONS[review.status]:
        raise Conflict(
            _("A review that is %(from)s cannot become %(to)s.")
            % {"from": review.get_status_display().lower(), "to": Review.Status(to).label.lower()},
            code="illegal_transition",
        )
    from_status = review.status
    review.status = to
    review.save(update_fields=["status", "updated_at", *update_fields])
    ReviewStatusChange.objects.create(review=review, from_status=from_status, to_status=to, by=by, note=note, **history)
    return review


def _lock(review: Review) -> Review:
    return (
        Review.objects.select_for_update(of=("self",))
        .select_related("agent__user", "scorecard_version")
        .get(pk=review.pk)
    )


def _reviewable_call(call_id) -> Call:
    try:
        call = Call.objects.select_related("agent").get(pk=int(call_id))
    except (Call.DoesNotExist, ValueError, TypeError):
        raise ApplicationError(
            _("There is no call %s to review.") % call_id, fields={"call": _("No such call.")}, code="no_such_call"
        ) from None
    if call.agent_id is None or call.state != Call.State.COMPLETED:
        raise ApplicationError(
            _("Only a completed call that an agent handled can be reviewed."),
            fields={"call": _("This call was not handled by an agent, or is not over.")},
        )
    return call


def _published_version(*, scorecard_version_id=None, scorecard_id=None) -> ScorecardVersion:
    if scorecard_version_id not in (None, ""):
        try:
            version = ScorecardVersion.objects.select_related("scorecard").get(pk=int(scorecard_version_id))
        except (ScorecardVersion.DoesNotExist, ValueError, TypeError):
            raise ApplicationError(
                _("No such scorecard version."), fields={"scorecard_version": _("No such scorecard version.")}
            ) from None
        if version.published_at is None:
            raise ApplicationError(
                _("This scorecard version is not published yet."),
                fields={"scorecard_version": _("Not published.")},
            )
        return version
    scorecards = Scorecard.objects.filter(is_active=True)
    if scorecard_id not in (None, ""):
        scorecards = scorecards.filter(pk=scorecard_id)
    scorecards = list(scorecards[:2])
    if len(scorecards) != 1:
        raise ApplicationError(_("Choose a scorecard."), fields={"scorecard": _("Choose a scorecard.")})
    version = scorecard_current_version(scorecards[0])
    if version is None:
        raise ApplicationError(
            _("%s has no published version.") % scorecards[0], fields={"scorecard": _("No published version.")}
        )
    return version


def review_start(*, reviewer, call_id, scorecard_version_id=None, scorecard_id=None) -> Review:
    """Open a draft review of a completed call with the scorecard's current version.

    A call has at most one review that counts (409 for a second); the version is frozen from
    now on; the weekly assignment of the call, if any, points to the review."""
    if Role.QA_ANALYST not in roles_of(reviewer):
        raise Forbidden(_("Only QA analysts review calls."))
    call = _reviewable_call(call_id)
    version = _published_version(scorecard_version_id=scorecard_version_id, scorecard_id=scorecard_id)
    existing = Review.objects.filter(call=call, kind=Review.Kind.REGULAR).first()
    if existing is not None:
        raise Conflict(
            _("This call already has a review (#%s).") % existing.pk, fields={"call": _("Already reviewed.")}
        )
    try:
        with transaction.atomic():
            review = Review.objects.create(
                call=call,
                agent=call.agent,
                reviewer=reviewer,
                scorecard_version=version,
                recording_url=call.recording_url,
            )
            version_freeze(version)
            ReviewStatusChange.objects.create(review=review, from_status="", to_status=Review.Status.DRAFT, by=reviewer)
            ReviewAssignment.objects.filter(call=call, review__isnull=True).update(review=review)
    except IntegrityError:
        # Another analyst started one in the meantime (the unique constraint decided).
        raise Conflict(_("This call already has a review."), fields={"call": _("Already reviewed.")}) from None
    return review


def parse_points(criterion: Criterion, raw) -> int | None:
    """The points for a criterion from what a form or the API sent; None for not applicable.
    Raises ApplicationError with a message naming the criterion and its scale."""
    value = raw.strip().lower() if isinstance(raw, str) else raw
    if value is None or value == "" or value in NA_WORDS:
        if not criterion.allows_na:
            raise ApplicationError(_("“%s” must be answered: not applicable is not allowed.") % criterion.label)
        return None
    if criterion.scale == Criterion.Scale.YES_NO:
        if value is True or (isinstance(value, str) and value in YES_WORDS) or (type(value) is int and value == 1):
            return 1
        if value is False or (isinstance(value, str) and value in NO_WORDS) or (type(value) is int and value == 0):
            return 0
        raise ApplicationError(
            _("%(value)s is not on the scale of “%(criterion)s” (yes, no or not applicable).")
            % {"value": raw, "criterion": criterion.label}
        )
    try:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError
        points = int(value)
    except (TypeError, ValueError):
        raise ApplicationError(
            _("%(value)s is not a number of points for “%(criterion)s”.") % {"value": raw, "criterion": criterion.label}
        ) from None
    if not 0 <= points <= criterion.max_points:
        raise ApplicationError(
            _("%(value)s is outside the scale 0–%(max)s of “%(criterion)s”.")
            % {"value": raw, "max": criterion.max_points, "criterion": criterion.label}
        )
    return points


def _apply_scores(review: Review, scores: list[dict]) -> None:
    """Validate every entry against the review's version, then write them all (or nothing)."""
    criteria = {c.pk: c for c in Criterion.objects.filter(section__version_id=review.scorecard_version_id)}
    errors: dict[str, str] = {}
    parsed: dict[int, tuple[int | None, str | None]] = {}
    for entry in scores:
        raw_id = entry.get("criterion")
        try:
            criterion = criteria[int(raw_id)]
        except (KeyError, TypeError, ValueError):
            errors[str(raw_id)] = _("Criterion %s is not on this review's scorecard version.") % raw_id
            continue
        try:
            points = parse_points(criterion, entry.get("value"))
        except ApplicationError as exc:
            errors[str(criterion.pk)] = exc.message
            continue
        comment = entry.get("comment")
        parsed[criterion.pk] = (points, comment if comment is None else str(comment))
    if errors:
        raise ApplicationError(_("Some scores are not valid."), fields={"scores": errors}, code="bad_score")
    existing = {score.criterion_id: score for score in review.scores.all()}
    for criterion_id, (points, comment) in parsed.items():
        criterion = criteria[criterion_id]
        failed = scoring.is_failed(points=points, max_points=criterion.max_points)
        score = existing.get(criterion_id)
        if score is None:
            ReviewScore.objects.create(
                review=review, criterion=criterion, points=points, failed=failed, comment=comment or ""
            )
        else:
            score.points, score.failed = points, failed
            fields = ["points", "failed"]
            if comment is not None:
                score.comment = comment
                fields.append("comment")
            score.save(update_fields=fields)


def _compute(review: Review) -> scoring.ScoreResult:
    criteria = list(Criterion.objects.filter(section__version_id=review.scorecard_version_id))
    scores = {s.criterion_id: s for s in review.scores.all()}
    missing = [c for c in criteria if c.pk not in scores]
    if missing:
        raise ApplicationError(
            _("Every criterion must be scored before submitting: %s.") % ", ".join(c.label for c in missing),
            fields={"scores": {str(c.pk): _("Not scored yet.") for c in missing}},
            code="incomplete",
        )
    result = scoring.compute_score(
        [
            scoring.CriterionPoints(
                weight=c.weight, max_points=c.max_points, points=scores[c.pk].points, critical=c.is_critical
            )
            for c in criteria
        ]
    )
    if result.score_pct is None:
        raise ApplicationError(_("At least one criterion must apply to the call."), code="nothing_applies")
    return result


def review_save_scores(*, review: Review, by, scores: list[dict], comment: str | None = None) -> Review:
    """Record (some of) a draft review's scores and comments; only its reviewer may."""
    with transaction.atomic():
        review = _lock(review)
        if review.reviewer_id != by.pk:
            raise Forbidden(_("Only the reviewer may score this review."))
        if review.status != Review.Status.DRAFT:
            raise Conflict(_("A submitted review cannot be edited."), code="not_draft")
        _apply_scores(review, scores)
        if comment is not None:
            review.comment = comment
            review.save(update_fields=["comment", "updated_at"])
    return review


def review_submit(*, review: Review, by) -> Review:
    """Compute the score (qa/scoring.py) and submit: the agent sees it from now on."""
    with transaction.atomic():
        review = _lock(review)
        if review.reviewer_id != by.pk:
            raise Forbidden(_("Only the reviewer may submit this review."))
        if review.status != Review.Status.DRAFT:
            raise Conflict(_("This review is already submitted."), code="not_draft")
        result = _compute(review)
        review.score_pct, review.critical_failed, review.submitted_at = (
            result.score_pct,
            result.critical_failed,
            timezone.now(),
        )
        review_transition(
            review=review,
            to=Review.Status.SUBMITTED,
            by=by,
            update_fields=["score_pct", "critical_failed", "submitted_at"],
        )
    return review


def review_create(
    *,
    reviewer,
    call_id,
    scorecard_version_id=None,
    scorecard_id=None,
    scores: list[dict] | None = None,
    comment: str | None = None,
    submit: bool = False,
) -> Review:
    """Start a review with its scores in one go (and submit it if asked): all or nothing."""
    with transaction.atomic():
        review = review_start(
            reviewer=reviewer, call_id=call_id, scorecard_version_id=scorecard_version_id, scorecard_id=scorecard_id
        )
        if scores or comment is not None:
            review = review_save_scores(review=review, by=reviewer, scores=scores or [], comment=comment)
        if submit:
            review = review_submit(review=review, by=reviewer)
    return review


def _as_agent(review: Review, by) -> None:
    if review.kind != Review.Kind.REGULAR or review.agent.user_id != by.pk:
        raise Forbidden(_("Only the agent whose call was reviewed may do this."))


def review_acknowledge(*, review: Review, by, note: str = "") -> Review:
    """The agent accepts their review."""
    with transaction.atomic():
        review = _lock(review)
        _as_agent(review, by)
        review_transition(review=review, to=Review.Status.ACKNOWLEDGED, by=by, note=note)
    return review


def review_dispute(*, review: Review, by, reason: str) -> Review:
    """The agent contests their review, with a reason; a QA lead will decide."""
    reason = (reason or "").strip()
    with transaction.atomic():
        review = _lock(review)
        _as_agent(review, by)
        if not reason:
            raise ApplicationError(
                _("Say why you dispute the review."), fields={"reason": _("This field is required.")}
            )
        review.dispute_reason = reason
        review_transition(
            review=review, to=Review.Status.DISPUTED, by=by, note=reason, update_fields=["dispute_reason"]
        )
    return review


def review_resolve(*, review: Review, by, outcome: str, note: str, scores: list[dict] | None = None) -> Review:
    """A QA lead decides a dispute: "upheld" keeps the score; "rescored" applies new scores
    (the replaced ones stay in the history). The reviewer cannot judge their own review."""
    if not is_qa_lead(by):
        raise Forbidden(_("Only a QA lead resolves disputes."))
    note = (note or "").strip()
    if outcome not in ("upheld", "rescored"):
        raise ApplicationError(
            _("The outcome is upheld or rescored."), fields={"outcome": _("Choose upheld or rescored.")}
        )
    if not note:
        raise ApplicationError(_("Explain the decision to the agent."), fields={"note": _("This field is required.")})
    with transaction.atomic():
        review = _lock(review)
        if review.reviewer_id == by.pk:
            raise Forbidden(_("You scored this review: another QA lead must resolve the dispute."))
        if review.status != Review.Status.DISPUTED:
            raise Conflict(_("Only a disputed review can be resolved."), code="not_disputed")
        review.resolution_note = note
        if outcome == "upheld":
            return review_transition(
                review=review, to=Review.Status.UPHELD, by=by, note=note, update_fields=["resolution_note"]
            )
        if not scores:
            raise ApplicationError(
                _("A re-score needs the new scores."), fields={"scores": _("This field is required.")}
            )
        before = {str(s.criterion_id): s.points for s in review.scores.all()}
        score_before = review.score_pct
        _apply_scores(review, scores)
        result = _compute(review)
        review.score_pct, review.critical_failed = result.score_pct, result.critical_failed
        review_transition(
            review=review,
            to=Review.Status.RESCORED,
            by=by,
            note=note,
            update_fields=["resolution_note", "score_pct", "critical_failed"],
            score_before=score_before,
            scores_before=before,
        )
    return review


def _check_due_date(due_date) -> date:
    if not isinstance(due_date, date):
        raise ApplicationError(_("A due date is required."), fields={"due_date": _("Enter a valid date.")})
    if due_date < timezone.localdate():
        raise ApplicationError(
            _("The due date is in the past."), fields={"due_date": _("The due date is in the past.")}
        )
    return due_date


def coaching_action_add(*, review: Review, by, description: str, due_date: date) -> CoachingAction:
    """A coaching action following a review, asked by QA or by the agent's supervisor."""
    description = (description or "").strip()
    user_roles = roles_of(by)
    if review.kind != Review.Kind.REGULAR or not (
        Role.QA_ANALYST in user_roles or Role.MANAGER in user_roles or is_supervisor_of(by, review.agent)
    ):
        raise Forbidden(_("Only QA analysts and the agent's supervisor add coaching actions."))
    if not description:
        raise ApplicationError(_("Describe the coaching action."), fields={"description": _("This field is required.")})
    _check_due_date(due_date)
    return CoachingAction.objects.create(
        review=review,
        agent=review.agent,
        kind=CoachingAction.Kind.COACHING,
        description=description,
        due_date=due_date,
        created_by=by,
    )


def training_assign(*, review: Review, by, course_id, due_date: date, note: str = "") -> CoachingAction:
    """A trainer assigns a training course to the agent from a review (an agents.TrainingCourse)."""
    if not roles_of(by) & {Role.TRAINER, Role.MANAGER}:
        raise Forbidden(_("Only trainers assign training courses."))
    if review.kind != Review.Kind.REGULAR or review.status not in Review.VISIBLE_STATUSES:
        raise Conflict(_("Courses are assigned from submitted reviews."))
    try:
        course = TrainingCourse.objects.get(pk=int(course_id), is_active=True)
    except (TrainingCourse.DoesNotExist, ValueError, TypeError):
        raise ApplicationError(_("No such active course."), fields={"course": _("No such active course.")}) from None
    _check_due_date(due_date)
    try:
        with transaction.atomic():
            return CoachingAction.objects.create(
                review=review,
                agent=review.agent,
                kind=CoachingAction.Kind.TRAINING,
                course=course,
                description=(note or "").strip(),
                due_date=due_date,
                created_by=by,
            )
    except IntegrityError:
        raise Conflict(
            _("This course is already assigned from this review."), fields={"course": _("Already assigned.")}
        ) from None


def coaching_action_complete(*, action: CoachingAction, by) -> CoachingAction:
    """Tick an action done (the agent, their supervisor, or whoever asked for it); twice keeps the first time."""
    if not (action.agent.user_id == by.pk or action.created_by_id == by.pk or can_lead_agent(by, action.agent)):
        raise Forbidden(_("You cannot complete this action."))
    if action.done_at is None:
        action.done_at, action.done_by = timezone.now(), by
        action.save(update_fields=["done_at", "done_by"])
    return action
