"""The scheduling REST API: schedules and shifts, day-off requests, shift swaps,
forecasts, coverage, adherence, notifications and the Erlang C staffing calculator.

Each view parses its input, calls one selector or service, and renders. Domain errors
become 400/403/404/409 through the project's exception handler.
"""

from datetime import date, timedelta

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.roles import Role, has_role
from calls.models import Queue
from calls.selectors import queues_for_user
from contactcenter.errors import ApplicationError, NotFound

from . import adherence, erlang, periods, selectors, services, staffing
from .models import DayOffRequest, Notification, Shift, ShiftSwap, ShiftTemplate
from .notifications import text as notification_text

# --- Serializers ------------------------------------------------------------------------


class BreakSerializer(serializers.Serializer):
    start_at = serializers.DateTimeField()
    end_at = serializers.DateTimeField()


class ShiftSerializer(serializers.ModelSerializer):
    agent_name = serializers.CharField(source="agent.user.get_full_name", read_only=True)
    template = serializers.CharField(source="template.name", default=None, read_only=True)
    breaks = BreakSerializer(many=True, read_only=True)

    class Meta:
        model = Shift
        fields = [
            "id",
            "agent",
            "agent_name",
            "date",
            "template",
            "start_at",
            "end_at",
            "breaks",
            "state",
            "is_published",
            "published_at",
        ]
        read_only_fields = fields


class ShiftCreateSerializer(serializers.Serializer):
    agent = serializers.IntegerField()
    date = serializers.DateField()
    template = serializers.IntegerField(required=False)
    start_at = serializers.DateTimeField(required=False)
    end_at = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if "template" not in attrs and not ("start_at" in attrs and "end_at" in attrs):
            raise ValidationError({"template": _("Give a template, or a start and an end.")})
        if "start_at" in attrs and "end_at" in attrs and attrs["end_at"] <= attrs["start_at"]:
            raise ValidationError({"end_at": _("A shift must end after it starts.")})
        return attrs


class WeekSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="Any day of the week (its Monday is used).")


class DayOffRequestSerializer(serializers.ModelSerializer):
    agent_name = serializers.CharField(source="agent.user.get_full_name", read_only=True)
    days = serializers.SerializerMethodField()
    decided_by = serializers.CharField(source="decided_by.username", default=None, read_only=True)

    class Meta:
        model = DayOffRequest
        fields = [
            "id",
            "agent",
            "agent_name",
            "week_start",
            "days",
            "state",
            "note",
            "decided_by",
            "decided_at",
            "comment",
            "override_reason",
            "created_at",
        ]
        read_only_fields = fields

    def get_days(self, obj) -> list[date]:
        return [d.date for d in obj.days.all()]


class DayOffRequestCreateSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    days = serializers.ListField(child=serializers.DateField(), min_length=1, max_length=7)
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class DecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class SwapSerializer(serializers.ModelSerializer):
    shift = ShiftSerializer(read_only=True)
    offered_by_name = serializers.CharField(source="offered_by.user.get_full_name", read_only=True)
    taken_by_name = serializers.CharField(source="taken_by.user.get_full_name", default=None, read_only=True)

    class Meta:
        model = ShiftSwap
        fields = [
            "id",
            "shift",
            "offered_by",
            "offered_by_name",
            "taken_by",
            "taken_by_name",
            "state",
            "note",
            "comment",
            "override_reason",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class SwapOfferSerializer(serializers.Serializer):
    shift = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class NotificationSerializer(serializers.ModelSerializer):
    text = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "params", "created_at", "read_at"]
        read_only_fields = fields

    def get_text(self, obj) -> str:
        return notification_text(obj)


class StaffingInputSerializer(serializers.Serializer):
    """Either `traffic_erlangs`, or `calls` with `interval_s` (default 1800 s)."""

    traffic_erlangs = serializers.FloatField(required=False, min_value=0)
    calls = serializers.FloatField(required=False, min_value=0)
    interval_s = serializers.FloatField(required=False, default=1800, min_value=1)
    aht_s = serializers.FloatField(min_value=0.001)
    target_pct = serializers.FloatField(min_value=0, max_value=100, help_text="Below 100: 100 % is never reached.")
    threshold_s = serializers.FloatField(min_value=0)
    max_occupancy_pct = serializers.FloatField(required=False, min_value=0.001, max_value=100)
    shrinkage_pct = serializers.FloatField(required=False, min_value=0, max_value=99.999)
    agents = serializers.IntegerField(
        required=False, min_value=0, help_text="Also evaluate this number of productive agents."
    )

    def validate(self, attrs):
        has_traffic = "traffic_erlangs" in attrs
        if has_traffic == ("calls" in attrs):
            raise ValidationError({"traffic_erlangs": _("Give either traffic_erlangs, or calls (with interval_s).")})
        if attrs["target_pct"] >= 100:
            raise ValidationError({"target_pct": _("The target must be below 100 %: Erlang C only tends to it.")})
        return attrs


class StaffingOutputSerializer(serializers.Serializer):
    traffic_erlangs = serializers.FloatField()
    agents = serializers.IntegerField()
    headcount = serializers.IntegerField()
    service_level_pct = serializers.FloatField()
    asa_s = serializers.FloatField()
    occupancy_pct = serializers.FloatField()
    probability_of_waiting_pct = serializers.FloatField()
    evaluated = serializers.DictField(required=False)


# --- Helpers ------------------------------------------------------------------------------


def _require(user, *roles):
    if not has_role(user, *roles):
        raise PermissionDenied(_("Your role does not give access to this."))


def _parse_date(value: str | None, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: _("Enter a date as YYYY-MM-DD.")}) from None


def _days_from_query(request) -> list[date]:
    """?date=YYYY-MM-DD (one day) or ?week=YYYY-MM-DD (its Monday to Sunday); default today."""
    day = _parse_date(request.query_params.get("date"), "date")
    week = _parse_date(request.query_params.get("week"), "week")
    if day and week:
        raise ValidationError({"date": _("Give a date or a week, not both.")})
    if week:
        return periods.week_days(periods.monday_of(week))
    return [day or periods.local_today()]


def _queue_for(request):
    queue_id = request.query_params.get("queue")
    if not queue_id:
        raise ValidationError({"queue": _("Choose a queue.")})
    try:
        return queues_for_user(user=request.user).get(pk=int(queue_id))
    except (Queue.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such queue.")) from None


PLANNING_ROLES = (Role.SUPERVISOR, Role.MANAGER, Role.HR)


# --- Schedules and shifts ---------------------------------------------------------------


class ScheduleApi(generics.ListAPIView):
    """The shifts of a week the caller may see: an agent their own published shifts; a
    supervisor their agents' (drafts too); HR and managers everyone's. ?week=, ?agent=."""

    serializer_class = ShiftSerializer
    queryset = Shift.objects.none()
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("week", str, description="Any day of the week (default: this week)"),
            OpenApiParameter("agent", int),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        week = periods.monday_of(_parse_date(self.request.query_params.get("week"), "week") or periods.local_today())
        qs = selectors.shifts_for_user(user=self.request.user).filter(date__gte=week, date__lt=week + timedelta(days=7))
        agent = self.request.query_params.get("agent")
        if agent:
            try:
                qs = qs.filter(agent_id=int(agent))
            except ValueError:
                raise ValidationError({"agent": _("An agent id is a number.")}) from None
        return qs.order_by("start_at", "agent_id")


class ShiftCreateApi(APIView):
    """Plan a draft shift (supervisors for their agents, managers): from a template, or
    start_at and end_at."""

    @extend_schema(request=ShiftCreateSerializer, responses={201: ShiftSerializer})
    def post(self, request):
        data = ShiftCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        agent = selectors.agents_for_planning(user=request.user).filter(pk=v["agent"]).first()
        if agent is None:
            raise NotFound(_("No such agent."))
        template = None
        if "template" in v:
            template = ShiftTemplate.objects.filter(pk=v["template"]).first()
            if template is None:
                raise ValidationError({"template": _("No such shift template.")})
        shift = services.shift_create(
            agent=agent,
            day=v["date"],
            template=template,
            start_at=v.get("start_at"),
            end_at=v.get("end_at"),
            by=request.user,
        )
        return Response(ShiftSerializer(selectors.shifts_for_user(user=request.user).get(pk=shift.pk)).data, 201)


class ShiftDetailApi(APIView):
    @extend_schema(responses=ShiftSerializer)
    def get(self, request, pk: int):
        return Response(ShiftSerializer(selectors.shift_get_for_user(user=request.user, shift_id=pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        shift = selectors.shift_get_for_user(user=request.user, shift_id=pk)
        services.shift_delete(shift=shift, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SchedulePublishApi(APIView):
    """Publish the draft shifts of a week for the agents the caller plans."""

    @extend_schema(request=WeekSerializer, responses={200: dict})
    def post(self, request):
        _require(request.user, Role.SUPERVISOR, Role.MANAGER)
        data = WeekSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        week = periods.monday_of(data.validated_data["week"])
        count = services.schedule_publish(week_start=week, by=request.user)
        return Response({"week": week, "published": count})


# --- Day-off requests ---------------------------------------------------------------------


class DayOffRequestListApi(generics.ListCreateAPIView):
    """Day-off requests the caller may see (own; a supervisor's agents'; HR and managers
    all). POST: an agent files their own for a coming week."""

    serializer_class = DayOffRequestSerializer
    queryset = DayOffRequest.objects.none()
    filterset_fields = ["state", "week_start", "agent"]

    def get_queryset(self):
        return selectors.dayoff_requests_for_user(user=self.request.user)

    @extend_schema(request=DayOffRequestCreateSerializer, responses={201: DayOffRequestSerializer})
    def post(self, request, *args, **kwargs):
        data = DayOffRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agent = selectors.agent_of(request.user)
        if agent is None:
            raise PermissionDenied(_("Only agents ask for days off."))
        v = data.validated_data
        created = services.dayoff_request_submit(
            agent=agent, week_start=v["week_start"], days=v["days"], note=v["note"], by=request.user
        )
        return Response(DayOffRequestSerializer(self.get_queryset().get(pk=created.pk)).data, 201)


class DayOffRequestDetailApi(APIView):
    @extend_schema(responses=DayOffRequestSerializer)
    def get(self, request, pk: int):
        obj = selectors.dayoff_request_get_for_user(user=request.user, request_id=pk)
        return Response(DayOffRequestSerializer(obj).data)


def _impact_payload(impacts) -> list[dict]:
    out = []
    for impact in impacts:
        worst = impact.worst
        out.append(
            {
                "date": impact.day,
                "shifts": impact.shifts,
                "needs_override": impact.needs_override,
                "half_hours_under": [
                    {
                        "queue": row.queue_name,
                        "start": row.start,
                        "required": row.required,
                        "before": row.before,
                        "after": row.after,
                    }
                    for row in impact.under
                ],
                "worst": None
                if worst is None
                else {
                    "queue": worst.queue_name,
                    "start": worst.start,
                    "required": worst.required,
                    "before": worst.before,
                    "after": worst.after,
                },
            }
        )
    return out


class DayOffImpactApi(APIView):
    """For each requested day: what approving leaves against the requirement (deciders)."""

    @extend_schema(responses={200: dict})
    def get(self, request, pk: int):
        obj = selectors.dayoff_request_get_for_user(user=request.user, request_id=pk)
        if not selectors.can_decide(user=request.user, agent=obj.agent):
            raise PermissionDenied(_("Only those who decide this request see its impact."))
        impacts = staffing.dayoff_impact([obj])[obj.pk]
        return Response({"request": obj.pk, "days": _impact_payload(impacts)})


class DayOffApproveApi(APIView):
    @extend_schema(request=DecisionSerializer, responses=DayOffRequestSerializer)
    def post(self, request, pk: int):
        obj = selectors.dayoff_request_get_for_user(user=request.user, request_id=pk)
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.dayoff_approve(request=obj, by=request.user, **data.validated_data)
        return Response(
            DayOffRequestSerializer(selectors.dayoff_request_get_for_user(user=request.user, request_id=pk)).data
        )


class DayOffRejectApi(APIView):
    @extend_schema(request=DecisionSerializer, responses=DayOffRequestSerializer)
    def post(self, request, pk: int):
        obj = selectors.dayoff_request_get_for_user(user=request.user, request_id=pk)
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.dayoff_reject(request=obj, by=request.user, comment=data.validated_data["comment"])
        return Response(
            DayOffRequestSerializer(selectors.dayoff_request_get_for_user(user=request.user, request_id=pk)).data
        )


class DayOffCancelApi(APIView):
    @extend_schema(request=None, responses=DayOffRequestSerializer)
    def post(self, request, pk: int):
        obj = selectors.dayoff_request_get_for_user(user=request.user, request_id=pk)
        services.dayoff_cancel(request=obj, by=request.user)
        return Response(
            DayOffRequestSerializer(selectors.dayoff_request_get_for_user(user=request.user, request_id=pk)).data
        )


# --- Shift swaps ---------------------------------------------------------------------------


class SwapListApi(generics.ListCreateAPIView):
    """Swaps the caller offered or took, the open offers of their team, and a supervisor's
    agents' swaps. POST: offer one of one's own published shifts."""

    serializer_class = SwapSerializer
    queryset = ShiftSwap.objects.none()
    filterset_fields = ["state"]

    def get_queryset(self):
        return selectors.swaps_for_user(user=self.request.user).prefetch_related("shift__breaks")

    @extend_schema(request=SwapOfferSerializer, responses={201: SwapSerializer})
    def post(self, request, *args, **kwargs):
        data = SwapOfferSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shift = selectors.shift_get_for_user(user=request.user, shift_id=data.validated_data["shift"])
        swap = services.swap_offer(shift=shift, by=request.user, note=data.validated_data["note"])
        return Response(SwapSerializer(self.get_queryset().get(pk=swap.pk)).data, 201)


class _SwapActionApi(APIView):
    action_name = ""

    @extend_schema(request=DecisionSerializer, responses=SwapSerializer)
    def post(self, request, pk: int):
        swap = selectors.swap_get_for_user(user=request.user, swap_id=pk)
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if self.action_name == "take":
            services.swap_take(swap=swap, by=request.user)
        elif self.action_name == "cancel":
            services.swap_cancel(swap=swap, by=request.user)
        elif self.action_name == "approve":
            services.swap_approve(swap=swap, by=request.user, **v)
        else:
            services.swap_reject(swap=swap, by=request.user, comment=v["comment"])
        return Response(SwapSerializer(selectors.swap_get_for_user(user=request.user, swap_id=pk)).data)


class SwapTakeApi(_SwapActionApi):
    action_name = "take"


class SwapCancelApi(_SwapActionApi):
    action_name = "cancel"


class SwapApproveApi(_SwapActionApi):
    action_name = "approve"


class SwapRejectApi(_SwapActionApi):
    action_name = "reject"


# --- Forecast, coverage, adherence --------------------------------------------------------


class ForecastApi(APIView):
    """Forecast offered calls and handle time per half-hour of a day (?date=) or a week
    (?week=) for a queue (?queue=), with the Erlang C agents and headcount it requires."""

    @extend_schema(
        parameters=[
            OpenApiParameter("queue", int, required=True),
            OpenApiParameter("date", str),
            OpenApiParameter("week", str),
        ],
        responses={200: dict},
    )
    def get(self, request):
        _require(request.user, *PLANNING_ROLES)
        queue = _queue_for(request)
        days = _days_from_query(request)
        plan = staffing.StaffingPlan(days=days, queues=[queue])
        return Response(
            {
                "queue": {"id": queue.pk, "name": queue.name},
                "days": [
                    {
                        "date": day,
                        "half_hours": [
                            {
                                "start": row.start,
                                "end": row.end,
                                "label": row.label,
                                "calls": round(row.calls, 2),
                                "aht_s": round(row.aht_s, 1),
                                "traffic_erlangs": round(row.traffic, 3),
                                "required_agents": row.required_agents,
                                "required_headcount": row.required,
                            }
                            for row in plan.intervals(queue.pk, day)
                        ],
                    }
                    for day in days
                ],
            }
        )


class CoverageApi(APIView):
    """Required against scheduled headcount per half-hour for a queue, a day or a week,
    with the service level and ASA expected from the agents scheduled."""

    @extend_schema(
        parameters=[
            OpenApiParameter("queue", int, required=True),
            OpenApiParameter("date", str),
            OpenApiParameter("week", str),
        ],
        responses={200: dict},
    )
    def get(self, request):
        _require(request.user, *PLANNING_ROLES)
        queue = _queue_for(request)
        days = _days_from_query(request)
        plan = staffing.StaffingPlan(days=days, queues=[queue])
        return Response(
            {
                "queue": {"id": queue.pk, "name": queue.name},
                "shrinkage_pct": plan.shrinkage * 100,
                "max_occupancy_pct": plan.max_occupancy * 100,
                "days": [
                    {
                        "date": day,
                        "half_hours": [
                            {
                                "start": row.start,
                                "label": row.label,
                                "required": row.required,
                                "scheduled": row.scheduled,
                                "gap": row.gap,
                                "stable": row.stable,
                                "service_level_pct": None
                                if row.service_level is None
                                else round(row.service_level * 100, 1),
                                "asa_s": None if row.asa_s is None else round(row.asa_s, 1),
                            }
                            for row in plan.intervals(queue.pk, day)
                        ],
                    }
                    for day in days
                ],
            }
        )


class AdherenceApi(APIView):
    """Adherence of one agent (?agent=, default: oneself) on one day (?date=, default
    today): the percentage and the intervals out of adherence."""

    @extend_schema(
        parameters=[OpenApiParameter("agent", int), OpenApiParameter("date", str)],
        responses={200: dict},
    )
    def get(self, request):
        day = _parse_date(request.query_params.get("date"), "date") or periods.local_today()
        agent_id = request.query_params.get("agent")
        scope = selectors.agents_for_planning(user=request.user)
        try:
            agent = scope.get(pk=int(agent_id)) if agent_id else scope.get(user=request.user)
        except (ValueError, TypeError, scope.model.DoesNotExist):
            raise NotFound(_("No such agent.")) from None
        result = adherence.adherence_for_agents([agent.pk], day)[agent.pk]
        return Response(
            {
                "agent": agent.pk,
                "date": day,
                "adherence_pct": None if result.percent is None else round(result.percent, 1),
                "scheduled_s": result.scheduled_s,
                "counted_s": result.counted_s,
                "in_adherence_s": result.in_adherence_s,
                "out_of_adherence": [
                    {"start": o.start, "end": o.end, "expected": o.expected, "state": o.state, "seconds": o.seconds}
                    for o in result.out
                ],
            }
        )


# --- Notifications --------------------------------------------------------------------------


class NotificationListApi(generics.ListAPIView):
    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()

    def get_queryset(self):
        return selectors.notifications_for_user(user=self.request.user)


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request, pk: int):
        notification = get_object_or_404(selectors.notifications_for_user(user=request.user), pk=pk)
        services.notification_mark_read(notification=notification, by=request.user)
        return Response(NotificationSerializer(notification).data)


# --- Staffing calculator ----------------------------------------------------------------------


class StaffingCalculatorApi(APIView):
    """Erlang C: the agents and headcount a traffic needs for a service level, and what
    they achieve. Percentages are 0-100. Impossible inputs answer 400 naming the field;
    `agents` at or below the traffic answers `stable: false` in `evaluated`."""

    @extend_schema(request=StaffingInputSerializer, responses=StaffingOutputSerializer)
    def post(self, request):
        data = StaffingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            if "traffic_erlangs" in v:
                traffic = v["traffic_erlangs"]
            else:
                traffic = erlang.traffic_erlangs(v["calls"], v["aht_s"], v["interval_s"])
            result = erlang.staffing(
                traffic,
                v["aht_s"],
                v["threshold_s"],
                v["target_pct"] / 100,
                v.get("max_occupancy_pct", periods.max_occupancy() * 100) / 100,
                v.get("shrinkage_pct", periods.shrinkage() * 100) / 100,
            )
            payload = {
                "traffic_erlangs": result.traffic,
                "agents": result.agents,
                "headcount": result.headcount,
                "service_level_pct": result.service_level * 100,
                "asa_s": result.asa_s,
                "occupancy_pct": result.occupancy * 100,
                "probability_of_waiting_pct": result.probability_of_waiting * 100,
            }
            if "agents" in v:
                given = erlang.outcome(traffic, v["agents"], v["aht_s"], v["threshold_s"])
                payload["evaluated"] = {
                    "agents": given.agents,
                    "stable": given.stable,
                    "service_level_pct": given.service_level * 100,
                    "asa_s": given.asa_s,
                    "occupancy_pct": given.occupancy * 100,
                    "probability_of_waiting_pct": given.probability_of_waiting * 100,
                    "message": ""
                    if given.stable
                    else _("%(n)s agents cannot carry %(a).2f Erlangs: the queue grows without bound.")
                    % {"n": given.agents, "a": traffic},
                }
        except erlang.ErlangInputError as exc:
            raise ApplicationError(exc.message, fields={exc.field: exc.message}) from None
        return Response(payload)
