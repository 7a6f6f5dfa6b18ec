"""The quality REST API: parse, call one service or selector, render.

Access rules are the selectors' (qa/selectors.py); services refuse what a role may not do.
Domain errors become 400/403/404/409 through contactcenter.errors.api_exception_handler.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .models import (
    CalibrationSession,
    CoachingAction,
    Criterion,
    Evaluation,
    Review,
    ReviewAssignment,
    ReviewScore,
    ReviewStatusChange,
    Scorecard,
    ScorecardVersion,
    Section,
    SelfReport,
)

# --- Output ---------------------------------------------------------------------------


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ["id", "label", "guidance", "weight", "scale", "max_points", "allows_na", "is_critical"]


class SectionSerializer(serializers.ModelSerializer):
    criteria = CriterionSerializer(many=True, read_only=True)

    class Meta:
        model = Section
        fields = ["id", "title", "criteria"]


class ScorecardVersionSerializer(serializers.ModelSerializer):
    scorecard = serializers.CharField(source="scorecard.name")
    sections = SectionSerializer(many=True, read_only=True)
    frozen = serializers.BooleanField(source="is_frozen")

    class Meta:
        model = ScorecardVersion
        fields = ["id", "scorecard", "number", "published_at", "frozen", "sections"]


class ScorecardSerializer(serializers.ModelSerializer):
    current_version = serializers.SerializerMethodField()

    class Meta:
        model = Scorecard
        fields = ["id", "name", "description", "current_version"]

    @extend_schema(responses=ScorecardVersionSerializer)
    def get_current_version(self, scorecard) -> dict | None:
        published = [v for v in scorecard.versions.all() if v.published_at is not None]
        if not published:
            return None
        return ScorecardVersionSerializer(max(published, key=lambda v: v.number)).data


class PersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class AgentRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    employee_number = serializers.CharField()
    name = serializers.CharField()
    team = serializers.CharField(allow_null=True)


@extend_schema_field(PersonOut)
class PersonField(serializers.Field):
    """A user as {"id", "username", "name"}."""

    def to_representation(self, user):
        return {"id": user.pk, "username": user.username, "name": user.get_full_name() or user.username}


@extend_schema_field(AgentRefOut)
class AgentRefField(serializers.Field):
    def to_representation(self, agent):
        return {
            "id": agent.pk,
            "employee_number": agent.employee_number,
            "name": agent.user.get_full_name() or agent.user.username,
            "team": agent.team.name if agent.team_id else None,
        }


class ReviewScoreSerializer(serializers.ModelSerializer):
    not_applicable = serializers.SerializerMethodField()
    label = serializers.CharField(source="criterion.label")

    class Meta:
        model = ReviewScore
        fields = ["criterion", "label", "points", "not_applicable", "failed", "comment"]

    def get_not_applicable(self, score) -> bool:
        return score.points is None


class ReviewHistorySerializer(serializers.ModelSerializer):
    by = PersonField(allow_null=True)

    class Meta:
        model = ReviewStatusChange
        fields = ["from_status", "to_status", "by", "at", "note", "score_before", "scores_before"]


class CoachingActionSerializer(serializers.ModelSerializer):
    course = serializers.CharField(source="course.title", default=None)
    created_by = PersonField()

    class Meta:
        model = CoachingAction
        fields = ["id", "review", "kind", "description", "course", "due_date", "created_by", "created_at", "done_at"]


class ReviewSerializer(serializers.ModelSerializer):
    agent = AgentRefField()
    reviewer = PersonField()
    scorecard = serializers.CharField(source="scorecard_version.scorecard.name")
    scorecard_version_number = serializers.IntegerField(source="scorecard_version.number")
    call_offered_at = serializers.DateTimeField(source="call.offered_at")

    class Meta:
        model = Review
        fields = [
            "id",
            "kind",
            "status",
            "call",
            "call_offered_at",
            "recording_url",
            "agent",
            "reviewer",
            "scorecard",
            "scorecard_version",
            "scorecard_version_number",
            "score_pct",
            "critical_failed",
            "comment",
            "created_at",
            "submitted_at",
        ]


class ReviewDetailSerializer(ReviewSerializer):
    scores = ReviewScoreSerializer(many=True, read_only=True)
    history = ReviewHistorySerializer(many=True, read_only=True)
    actions = CoachingActionSerializer(many=True, read_only=True)

    class Meta(ReviewSerializer.Meta):
        fields = [*ReviewSerializer.Meta.fields, "dispute_reason", "resolution_note", "scores", "history", "actions"]


class AssignmentSerializer(serializers.ModelSerializer):
    agent = AgentRefField()
    analyst = PersonField()
    call_offered_at = serializers.DateTimeField(source="call.offered_at")
    recording_url = serializers.CharField(source="call.recording_url")

    class Meta:
        model = ReviewAssignment
        fields = ["id", "week_start", "call", "call_offered_at", "recording_url", "agent", "analyst", "review"]


class EvaluationSerializer(serializers.ModelSerializer):
    agent = AgentRefField()
    supervisor = PersonField()

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "agent",
            "supervisor",
            "period_start",
            "period_end",
            "status",
            "snapshot_at",
            "calls_handled",
            "days_worked",
            "calls_per_day",
            "aht_s",
            "fcr_pct",
            "qa_average_pct",
            "qa_reviews",
            "orders_count",
            "conversion_pct",
            "attendance_pct",
            "adherence_pct",
            "confirmed_applications",
            "confirmed_sales",
            "confirmed_collections",
            "unconfirmed_days",
            "figure_notes",
            *Evaluation.RATINGS,
            "comments",
            "goals",
            "shared_at",
            "agent_signed_at",
            "agent_comment",
        ]
        read_only_fields = fields


class SelfReportSerializer(serializers.ModelSerializer):
    agent = AgentRefField()
    reviewed_by = PersonField(allow_null=True)

    class Meta:
        model = SelfReport
        fields = [
            "id",
            "agent",
            "date",
            "applications_signed",
            "sales",
            "collections_amount",
            "note",
            "status",
            "recorded_applications",
            "recorded_sales",
            "recorded_collections",
            "checked_at",
            "confirmed_applications",
            "confirmed_sales",
            "confirmed_collections",
            "reviewed_by",
            "reviewed_at",
            "review_note",
        ]
        read_only_fields = fields


# --- Input ------------------------------------------------------------------------------


class ScoreEntryInput(serializers.Serializer):
    criterion = serializers.IntegerField()
    # "yes" / "no" / "na" (or null) on a yes/no criterion; 0..N or "na" on a points criterion.
    value = serializers.JSONField(allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class ScoresInput(serializers.Serializer):
    scores = ScoreEntryInput(many=True, required=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10000)


class ReviewCreateInput(ScoresInput):
    call = serializers.IntegerField()
    scorecard_version = serializers.IntegerField(required=False, allow_null=True)
    scorecard = serializers.IntegerField(required=False, allow_null=True)
    submit = serializers.BooleanField(default=False)


class DisputeInput(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=5000)


class NoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ResolveInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["upheld", "rescored"])
    note = serializers.CharField(allow_blank=True, max_length=5000)
    scores = ScoreEntryInput(many=True, required=False)


class CoachingInput(serializers.Serializer):
    description = serializers.CharField(allow_blank=True, max_length=5000)
    due_date = serializers.DateField()


class TrainingInput(serializers.Serializer):
    course = serializers.IntegerField()
    due_date = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class CalibrationCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    call = serializers.IntegerField()
    participants = serializers.ListField(child=serializers.IntegerField(), min_length=2)
    scorecard_version = serializers.IntegerField(required=False, allow_null=True)


class EvaluationCreateInput(serializers.Serializer):
    agent = serializers.IntegerField()
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)


class EvaluationUpdateInput(serializers.Serializer):
    rating_communication = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    rating_data_accuracy = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    rating_product_knowledge = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    rating_composure = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    rating_reliability = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    comments = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    goals = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class SignInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class FiguresInput(serializers.Serializer):
    applications_signed = serializers.IntegerField(min_value=0)
    sales = serializers.IntegerField(min_value=0)
    collections_amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)


class SelfReportInput(FiguresInput):
    date = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class CorrectInput(FiguresInput):
    note = serializers.CharField(allow_blank=True, max_length=500)


def parse(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _scores(entries) -> list[dict]:
    return [dict(entry) for entry in entries or []]


# --- Scorecards ------------------------------------------------------------------------------


class ScorecardListApi(generics.ListAPIView):
    """Active scorecards with their current (latest published) version."""

    serializer_class = ScorecardSerializer
    queryset = Scorecard.objects.none()
    pagination_class = None

    def get_queryset(self):
        return selectors.scorecards_for_user(user=self.request.user)


# --- Reviews -----------------------------------------------------------------------------------


class ReviewListApi(generics.ListCreateAPIView):
    """GET: reviews the caller may see. POST (QA analysts): start a review of a call, with
    scores, and submit it at once with "submit": true."""

    serializer_class = ReviewSerializer
    queryset = Review.objects.none()
    filterset_fields = ["agent", "status", "kind", "reviewer"]

    def get_queryset(self):
        return selectors.reviews_for_user(user=self.request.user)

    @extend_schema(request=ReviewCreateInput, responses={201: ReviewDetailSerializer})
    def post(self, request):
        data = parse(ReviewCreateInput, request)
        review = services.review_create(
            reviewer=request.user,
            call_id=data["call"],
            scorecard_version_id=data.get("scorecard_version"),
            scorecard_id=data.get("scorecard"),
            scores=_scores(data.get("scores")),
            comment=data.get("comment"),
            submit=data["submit"],
        )
        return Response(_review_detail(request.user, review.pk), status=status.HTTP_201_CREATED)


def _review_detail(user, review_id) -> dict:
    review = selectors.review_detail(selectors.review_get_for_user(user=user, review_id=review_id))
    return ReviewDetailSerializer(review).data


class ReviewDetailApi(APIView):
    """GET: one review with its scores, history and actions. PATCH: scores and comment of a draft."""

    @extend_schema(responses=ReviewDetailSerializer)
    def get(self, request, pk):
        return Response(_review_detail(request.user, pk))

    @extend_schema(request=ScoresInput, responses=ReviewDetailSerializer)
    def patch(self, request, pk):
        review = selectors.review_get_for_user(user=request.user, review_id=pk)
        data = parse(ScoresInput, request)
        services.review_save_scores(
            review=review, by=request.user, scores=_scores(data.get("scores")), comment=data.get("comment")
        )
        return Response(_review_detail(request.user, pk))


class _ReviewActionApi(generics.GenericAPIView):
    """One move of the review workflow; serializer_class is the request body."""

    serializer_class = NoteInput
    queryset = Review.objects.none()  # for the schema; the selector gives the review

    def act(self, request, review, data):  # pragma: no cover - overridden
        raise NotImplementedError

    @extend_schema(responses=ReviewDetailSerializer)
    def post(self, request, pk):
        review = selectors.review_get_for_user(user=request.user, review_id=pk)
        data = parse(self.serializer_class, request)
        self.act(request, review, data)
        return Response(_review_detail(request.user, pk))


class ReviewSubmitApi(_ReviewActionApi):
    """The reviewer submits a fully scored draft: the score is computed and the agent sees it."""

    def act(self, request, review, data):
        services.review_submit(review=review, by=request.user)


class ReviewAcknowledgeApi(_ReviewActionApi):
    """The agent accepts their review."""

    def act(self, request, review, data):
        services.review_acknowledge(review=review, by=request.user, note=data["note"])


class ReviewDisputeApi(_ReviewActionApi):
    """The agent disputes their review, with a reason."""

    serializer_class = DisputeInput

    def act(self, request, review, data):
        services.review_dispute(review=review, by=request.user, reason=data["reason"])


class ReviewResolveApi(_ReviewActionApi):
    """A QA lead resolves a dispute: upheld, or rescored with new scores."""

    serializer_class = ResolveInput

    def act(self, request, review, data):
        services.review_resolve(
            review=review,
            by=request.user,
            outcome=data["outcome"],
            note=data["note"],
            scores=_scores(data.get("scores")),
        )


class ReviewCoachingApi(APIView):
    """QA or the agent's supervisor add a coaching action with a due date."""

    @extend_schema(request=CoachingInput, responses={201: CoachingActionSerializer})
    def post(self, request, pk):
        review = selectors.review_get_for_user(user=request.user, review_id=pk)
        data = parse(CoachingInput, request)
        action = services.coaching_action_add(
            review=review, by=request.user, description=data["description"], due_date=data["due_date"]
        )
        return Response(CoachingActionSerializer(action).data, status=status.HTTP_201_CREATED)


class ReviewTrainingApi(APIView):
    """A trainer assigns a training course (agents app) from the review."""

    @extend_schema(request=TrainingInput, responses={201: CoachingActionSerializer})
    def post(self, request, pk):
        review = selectors.review_get_for_user(user=request.user, review_id=pk)
        data = parse(TrainingInput, request)
        action = services.training_assign(
            review=review, by=request.user, course_id=data["course"], due_date=data["due_date"], note=data["note"]
        )
        return Response(CoachingActionSerializer(action).data, status=status.HTTP_201_CREATED)


class AssignmentListApi(generics.ListAPIView):
    """The weekly sample: the caller's calls to review (managers: everyone's)."""

    serializer_class = AssignmentSerializer
    queryset = ReviewAssignment.objects.none()
    filterset_fields = ["week_start", "analyst", "agent"]

    def get_queryset(self):
        return selectors.assignments_for_user(user=self.request.user)


# --- Calibration ----------------------------------------------------------------------------------


class CalibrationSerializer(serializers.ModelSerializer):
    created_by = PersonField()
    scorecard = serializers.CharField(source="scorecard_version.scorecard.name")
    participants = serializers.SerializerMethodField()

    class Meta:
        model = CalibrationSession
        fields = [
            "id",
            "title",
            "call",
            "scorecard",
            "scorecard_version",
            "status",
            "created_by",
            "created_at",
            "closed_at",
            "participants",
        ]

    def get_participants(self, session) -> list[dict]:
        return [PersonField().to_representation(user) for user in session.participants.all()]


CALIBRATION_PAYLOAD = OpenApiTypes.OBJECT  # the session, my_review, results_visible and (then) results


def _dec(value) -> str | None:
    """Decimals as strings, like the serializers' DecimalFields."""
    return None if value is None else str(value)


def _calibration_payload(session, user) -> dict:
    data = CalibrationSerializer(session).data
    mine = session.reviews.filter(reviewer=user).first()
    data["my_review"] = mine.pk if mine else None
    data["results_visible"] = selectors.calibration_results_visible(session=session, user=user)
    if data["results_visible"]:
        results = services.calibration_results(session)
        data["results"] = {
            "mean_score_pct": _dec(results.mean_score_pct),
            "submitted": results.submitted,
            "participants": results.participants,
            "criteria": [
                {
                    "criterion": criterion.pk,
                    "label": criterion.label,
                    "scored": spread.scored,
                    "not_applicable": spread.not_applicable,
                    "mean_pct": _dec(spread.mean_pct),
                    "min_pct": _dec(spread.min_pct),
                    "max_pct": _dec(spread.max_pct),
                    "stdev_pct": _dec(spread.stdev_pct),
                }
                for criterion, spread in results.criteria
            ],
            "reviewers": [
                {
                    "reviewer": PersonField().to_representation(reviewer),
                    "score_pct": _dec(distance.score_pct),
                    "score_delta": _dec(distance.score_delta),
                    "mean_abs_distance": _dec(distance.mean_abs_distance),
                }
                for reviewer, distance in results.reviewers
            ],
        }
    return data


class CalibrationListApi(generics.ListCreateAPIView):
    """GET: calibration sessions (QA analysts, managers). POST: open a session on a call."""

    serializer_class = CalibrationSerializer
    queryset = CalibrationSession.objects.none()

    def get_queryset(self):
        return selectors.calibrations_for_user(user=self.request.user).prefetch_related("participants")

    @extend_schema(request=CalibrationCreateInput, responses={201: CALIBRATION_PAYLOAD})
    def post(self, request):
        selectors.calibrations_for_user(user=request.user)  # 403 for roles without calibration
        data = parse(CalibrationCreateInput, request)
        session = services.calibration_create(
            by=request.user,
            call_id=data["call"],
            title=data["title"],
            participant_ids=data["participants"],
            scorecard_version_id=data.get("scorecard_version"),
        )
        return Response(_calibration_payload(session, request.user), status=status.HTTP_201_CREATED)


class CalibrationDetailApi(APIView):
    """A session; its results (spread per criterion, distance per reviewer) once the blind rule allows."""

    @extend_schema(responses=CALIBRATION_PAYLOAD)
    def get(self, request, pk):
        session = selectors.calibration_get_for_user(user=request.user, session_id=pk)
        return Response(_calibration_payload(session, request.user))


class CalibrationReviewApi(APIView):
    """A participant opens (or gets back) their own blind review of the session's call;
    it is then scored and submitted through the review endpoints."""

    @extend_schema(request=None, responses=ReviewDetailSerializer)
    def post(self, request, pk):
        session = selectors.calibration_get_for_user(user=request.user, session_id=pk)
        review = services.calibration_review_start(session=session, by=request.user)
        return Response(_review_detail(request.user, review.pk))


class CalibrationCloseApi(APIView):
    @extend_schema(request=None, responses=CALIBRATION_PAYLOAD)
    def post(self, request, pk):
        session = selectors.calibration_get_for_user(user=request.user, session_id=pk)
        session = services.calibration_close(session=session, by=request.user)
        return Response(_calibration_payload(session, request.user))


# --- Aggregates ------------------------------------------------------------------------------------


def _plain(value):
    """Aggregates as JSON the way the serializers write them: decimals as strings."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _since(request, default_days: int = 90) -> date:
    raw = request.query_params.get("since")
    if not raw:
        return timezone.localdate() - timedelta(days=default_days)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({"since": [_("Enter a date as YYYY-MM-DD.")]}) from None


def _int_param(request, name):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError({name: [_("A whole number is required.")]}) from None


SINCE = OpenApiParameter("since", str, description="YYYY-MM-DD (default: 90 days ago)")
TEAM = OpenApiParameter("team", int)


class TeamQualityApi(APIView):
    """A supervisor's team view: QA average per agent, weekly trend, most failed criteria.
    Supervisors (their teams), QA analysts and managers (all)."""

    @extend_schema(parameters=[SINCE, TEAM], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(
            _plain(
                selectors.team_quality(user=request.user, since=_since(request), team_id=_int_param(request, "team"))
            )
        )


class FailedCriteriaApi(APIView):
    """Criteria most failed per team: the training-relevant aggregate (trainers included)."""

    @extend_schema(parameters=[SINCE, TEAM], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(
            _plain(
                selectors.criteria_most_failed(
                    user=request.user, since=_since(request), team_id=_int_param(request, "team")
                )
            )
        )


# --- Evaluations ---------------------------------------------------------------------------------------


class EvaluationListApi(generics.ListCreateAPIView):
    """GET: evaluations the caller may see. POST (the agent's supervisor, managers): open one
    for a period (default: the last complete month) with its measured figures."""

    serializer_class = EvaluationSerializer
    queryset = Evaluation.objects.none()
    filterset_fields = ["agent", "status", "period_start"]

    def get_queryset(self):
        return selectors.evaluations_for_user(user=self.request.user)

    @extend_schema(request=EvaluationCreateInput, responses={201: EvaluationSerializer})
    def post(self, request):
        selectors.evaluations_for_user(user=request.user)  # 403 for roles without evaluations
        data = parse(EvaluationCreateInput, request)
        evaluation = services.evaluation_create(
            by=request.user,
            agent_id=data["agent"],
            period_start=data.get("period_start"),
            period_end=data.get("period_end"),
        )
        return Response(EvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED)


class EvaluationDetailApi(APIView):
    """GET: one evaluation. PATCH: ratings, comments and goals of a draft."""

    @extend_schema(responses=EvaluationSerializer)
    def get(self, request, pk):
        return Response(
            EvaluationSerializer(selectors.evaluation_get_for_user(user=request.user, evaluation_id=pk)).data
        )

    @extend_schema(request=EvaluationUpdateInput, responses=EvaluationSerializer)
    def patch(self, request, pk):
        evaluation = selectors.evaluation_get_for_user(user=request.user, evaluation_id=pk)
        data = parse(EvaluationUpdateInput, request)
        evaluation = services.evaluation_update(evaluation=evaluation, by=request.user, **data)
        return Response(EvaluationSerializer(evaluation).data)


class EvaluationRefreshApi(APIView):
    @extend_schema(request=None, responses=EvaluationSerializer)
    def post(self, request, pk):
        evaluation = selectors.evaluation_get_for_user(user=request.user, evaluation_id=pk)
        evaluation = services.evaluation_refresh_figures(evaluation=evaluation, by=request.user)
        return Response(EvaluationSerializer(evaluation).data)


class EvaluationShareApi(APIView):
    @extend_schema(request=None, responses=EvaluationSerializer)
    def post(self, request, pk):
        evaluation = selectors.evaluation_get_for_user(user=request.user, evaluation_id=pk)
        evaluation = services.evaluation_share(evaluation=evaluation, by=request.user)
        return Response(EvaluationSerializer(evaluation).data)


class EvaluationSignApi(APIView):
    """The agent signs their shared evaluation (403 for anyone else)."""

    @extend_schema(request=SignInput, responses=EvaluationSerializer)
    def post(self, request, pk):
        evaluation = selectors.evaluation_get_for_user(user=request.user, evaluation_id=pk)
        data = parse(SignInput, request)
        evaluation = services.evaluation_sign(evaluation=evaluation, by=request.user, comment=data["comment"])
        return Response(EvaluationSerializer(evaluation).data)


class EvaluationHistoryApi(APIView):
    """One agent's evaluations, oldest first, with each figure's trend (a list per figure)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, agent_id):
        agent, evaluations = selectors.evaluation_history_for_user(user=request.user, agent_id=agent_id)
        rows = EvaluationSerializer(evaluations, many=True).data
        return Response(
            {
                "agent": AgentRefField().to_representation(agent),
                "evaluations": rows,
                "trend": {
                    "periods": [str(e.period_start) for e in evaluations],
                    **{figure: [row[figure] for row in rows] for figure in (*Evaluation.FIGURES, *Evaluation.RATINGS)},
                },
            }
        )


# --- Self-reported results --------------------------------------------------------------------------------


MONTH = OpenApiParameter("month", str, description="YYYY-MM: the days of one month, with running averages")


class SelfReportListApi(generics.ListCreateAPIView):
    """GET: self-reported days the caller may see (filter by agent, status, month). POST (an
    agent): enter or update their figures for a day; the cross-check runs at once."""

    serializer_class = SelfReportSerializer
    queryset = SelfReport.objects.none()
    filterset_fields = ["agent", "status", "date"]

    def get_queryset(self):
        qs = selectors.self_reports_for_user(user=self.request.user)
        month = self.request.query_params.get("month")
        if month:
            try:
                first = date.fromisoformat(f"{month}-01")
            except ValueError:
                raise ValidationError({"month": [_("Enter a month as YYYY-MM.")]}) from None
            qs = qs.filter(date__year=first.year, date__month=first.month)
        return qs

    @extend_schema(parameters=[MONTH])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        rows = response.data["results"] if isinstance(response.data, dict) else response.data
        # Running average per agent, over the days listed (oldest first), as the table shows it.
        totals: dict[int, list] = {}
        for row in sorted(rows, key=lambda r: (r["agent"]["id"], r["date"])):
            total = totals.setdefault(row["agent"]["id"], [0, 0, 0.0, 0])
            total[0] += row["applications_signed"]
            total[1] += row["sales"]
            total[2] += float(row["collections_amount"])
            total[3] += 1
            row["running_average"] = {
                "applications_signed": round(total[0] / total[3], 2),
                "sales": round(total[1] / total[3], 2),
                "collections_amount": round(total[2] / total[3], 2),
            }
        return response

    @extend_schema(request=SelfReportInput, responses={201: SelfReportSerializer})
    def post(self, request):
        data = parse(SelfReportInput, request)
        report = services.self_report_submit(
            by=request.user,
            day=data["date"],
            applications_signed=data["applications_signed"],
            sales=data["sales"],
            collections_amount=data["collections_amount"],
            note=data["note"],
        )
        return Response(SelfReportSerializer(report).data, status=status.HTTP_201_CREATED)


class SelfReportDetailApi(APIView):
    @extend_schema(responses=SelfReportSerializer)
    def get(self, request, pk):
        return Response(SelfReportSerializer(selectors.self_report_get_for_user(user=request.user, report_id=pk)).data)


class SelfReportConfirmApi(APIView):
    """The supervisor accepts a flagged (or unchecked) day as the agent reported it."""

    @extend_schema(request=NoteInput, responses=SelfReportSerializer)
    def post(self, request, pk):
        report = selectors.self_report_get_for_user(user=request.user, report_id=pk)
        data = parse(NoteInput, request)
        report = services.self_report_confirm(report=report, by=request.user, note=data["note"])
        return Response(SelfReportSerializer(report).data)


class SelfReportCorrectApi(APIView):
    """The supervisor sets the figures that count for a flagged (or unchecked) day, saying why."""

    @extend_schema(request=CorrectInput, responses=SelfReportSerializer)
    def post(self, request, pk):
        report = selectors.self_report_get_for_user(user=request.user, report_id=pk)
        data = parse(CorrectInput, request)
        report = services.self_report_correct(report=report, by=request.user, **data)
        return Response(SelfReportSerializer(report).data)
