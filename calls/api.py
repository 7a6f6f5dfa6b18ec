"""The calls API: telephony events (signed, for the PBX), the agent's actions, queue status.

Contract: docs/telephony.md; schema at /api/schema/, Swagger UI at /api/docs/.
"""

import json
from datetime import datetime

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.selectors import phone_to_e164

from . import realtime, selectors, services, telephony
from .models import AgentPresence, Call, Callback, CallEvent, Disposition, Queue

# --- Telephony events -------------------------------------------------------------------------


class TelephonyEventSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=CallEvent.Type.choices)
    call_id = serializers.CharField(max_length=100)
    occurred_at = serializers.CharField(help_text="ISO 8601 with an offset, e.g. 2025-03-01T09:30:00+01:00")
    queue = serializers.SlugField(max_length=50, required=False, help_text="The queue's slug.")
    caller = serializers.CharField(max_length=40, required=False)
    direction = serializers.ChoiceField(choices=Call.Direction.choices, required=False)
    reason = serializers.ChoiceField(choices=[Call.EndReason.COMPLETED, Call.EndReason.DROPPED], required=False)
    hold_s = serializers.IntegerField(min_value=0, max_value=86_400, required=False)
    recording_url = serializers.URLField(max_length=500, required=False)

    def validate_occurred_at(self, value: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise serializers.ValidationError(_("Not an ISO 8601 date and time.")) from None
        if parsed.tzinfo is None:
            raise serializers.ValidationError(_("Give the offset (e.g. +01:00 or Z)."))
        return parsed

    def validate_queue(self, value: str) -> Queue:
        queue = selectors.active_queue_by_slug(value)
        if queue is None:
            raise serializers.ValidationError(_("No active queue has this slug."))
        return queue

    def validate_caller(self, value: str) -> str:
        e164 = phone_to_e164(value)
        if e164 is None:
            raise serializers.ValidationError(_("Not a valid phone number."))
        return e164

    def validate(self, attrs):
        if attrs["type"] == CallEvent.Type.OFFERED:
            missing = {name: _("Required for call.offered.") for name in ("queue", "caller") if not attrs.get(name)}
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class CallAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    call_id = serializers.CharField()
    state = serializers.ChoiceField(choices=Call.State.choices)
    queue = serializers.CharField()
    agent = serializers.CharField(allow_null=True, help_text="Username of the agent the call rings for or talks to.")
    position = serializers.IntegerField(allow_null=True, help_text="1 = next in its queue; null unless waiting.")
    result = serializers.ChoiceField(choices=CallEvent.Result.choices)
    detail = serializers.CharField(allow_blank=True)


ERROR = inline_serializer(
    "CallsError",
    {"detail": serializers.CharField(), "code": serializers.CharField(), "errors": serializers.DictField()},
)


class TelephonyEventApi(APIView):
    """The PBX (or a softphone bridge) reports call events here. Signed, not logged in."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="telephony_event",
        request=TelephonyEventSerializer,
        parameters=[
            OpenApiParameter(
                "X-Signature",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="sha256=<hex HMAC-SHA256 of the raw body with TELEPHONY_WEBHOOK_SECRET>",
            )
        ],
        responses={
            200: CallAnswerSerializer,
            400: OpenApiResponse(ERROR, description="Malformed event, unknown queue, invalid number"),
            403: OpenApiResponse(ERROR, description="Missing or wrong signature"),
            404: OpenApiResponse(ERROR, description="Event for a call never offered"),
            409: OpenApiResponse(ERROR, description="Event id reused with another body, or impossible for the call"),
        },
        examples=[
            OpenApiExample(
                "call.offered",
                request_only=True,
                value={
                    "event_id": "evt-0001",
                    "type": "call.offered",
                    "call_id": "pbx-8812",
                    "occurred_at": "2025-03-01T09:30:00+01:00",
                    "queue": "service-client",
                    "caller": "+33612345678",
                    "direction": "inbound",
                },
            )
        ],
    )
    def post(self, request):
        raw = request.body  # read before anything parses it: the signature covers these bytes
        if not telephony.signature_valid(raw_body=raw, header=request.headers.get("X-Signature")):
            return Response(
                {"detail": _("Missing or wrong signature."), "code": "bad_signature"}, status=status.HTTP_403_FORBIDDEN
            )
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return Response(
                {"detail": _("The body is not JSON."), "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST
            )
        if not isinstance(payload, dict):
            return Response(
                {"detail": _("The body must be a JSON object."), "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST
            )
        event_id = payload.get("event_id")
        if not isinstance(event_id, str) or not 1 <= len(event_id) <= 100:
            return Response(
                {
                    "detail": _("Invalid event."),
                    "code": "invalid",
                    "errors": {"event_id": [_("A string of 1 to 100 characters is required.")]},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        serializer = TelephonyEventSerializer(data=payload)
        if serializer.is_valid():
            answer = telephony.event_receive(payload=payload, data=serializer.validated_data, errors=None)
        else:
            errors = json.loads(json.dumps(serializer.errors))
            answer = telephony.event_receive(payload=payload, data=None, errors=errors)
        services.calls_sweep_if_due()
        return Response(answer.body, status=answer.status, headers=answer.headers)


# --- The agent's desk ------------------------------------------------------------------------


class CallSerializer(serializers.ModelSerializer):
    queue = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    agent = serializers.CharField(source="agent.user.username", default=None, read_only=True)
    client = serializers.CharField(source="client.full_name", default=None, read_only=True)
    disposition = serializers.SlugRelatedField(slug_field="code", read_only=True)
    call_id = serializers.CharField(source="external_id", read_only=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "call_id",
            "direction",
            "caller_number",
            "client",
            "client_id",
            "queue",
            "agent",
            "state",
            "virtual_hold",
            "callback",
            "offered_at",
            "ringing_at",
            "reservation_expires_at",
            "answered_at",
            "ended_at",
            "wrap_up_done_at",
            "wait_s",
            "talk_s",
            "hold_s",
            "wrap_up_s",
            "end_reason",
            "disposition",
            "notes",
            "recording_url",
            "escalated",
        ]
        read_only_fields = fields


class PresenceSerializer(serializers.ModelSerializer):
    call = serializers.PrimaryKeyRelatedField(source="current_call", read_only=True)

    class Meta:
        model = AgentPresence
        fields = ["state", "reason", "since", "idle_since", "call"]
        read_only_fields = fields


class AgentStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=services.AGENT_STATUSES)
    reason = serializers.ChoiceField(choices=services.AGENT_BREAK_REASONS, required=False, allow_blank=True)


class AgentStatusApi(APIView):
    """The agent's own status: available, break (with a reason) or offline."""

    def dispatch(self, request, *args, **kwargs):
        with realtime.batch():
            return super().dispatch(request, *args, **kwargs)

    @extend_schema(request=AgentStatusInput, responses={200: PresenceSerializer, 403: ERROR, 409: ERROR})
    def post(self, request):
        agent = selectors.agent_for_user(user=request.user)
        data = _valid(AgentStatusInput, request)
        presence = services.agent_set_status(
            agent=agent, status=data["status"], reason=data.get("reason") or "", by=request.user
        )
        services.calls_sweep_if_due()
        return Response(PresenceSerializer(presence).data)

    @extend_schema(responses={200: PresenceSerializer})
    def get(self, request):
        agent = selectors.agent_for_user(user=request.user)
        return Response(PresenceSerializer(services.presence_get_or_create(agent_id=agent.pk)).data)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _AgentCallAction(APIView):
    """Base of the agent's call actions: on their own calls only (404 otherwise). A request's
    pushes to desks and wallboards go out together once it is done (realtime.batch)."""

    def dispatch(self, request, *args, **kwargs):
        with realtime.batch():
            return super().dispatch(request, *args, **kwargs)

    def respond(self, request, call: Call) -> Response:
        services.calls_sweep_if_due()
        fresh = selectors.call_get_for_user(user=request.user, call_id=call.pk)
        return Response(CallSerializer(fresh).data)


class CallAcceptApi(_AgentCallAction):
    """Accept the call ringing on your desk."""

    @extend_schema(request=None, responses={200: CallSerializer, 404: ERROR, 409: ERROR})
    def post(self, request, pk: int):
        agent = selectors.agent_for_user(user=request.user)
        return self.respond(request, services.call_accept(agent=agent, call_id=pk, by=request.user))


class CallEndInput(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=[Call.EndReason.COMPLETED, Call.EndReason.DROPPED, Call.EndReason.NO_ANSWER],
        default=Call.EndReason.COMPLETED,
    )


class CallEndApi(_AgentCallAction):
    """Hang up: the call goes to wrap-up."""

    @extend_schema(request=CallEndInput, responses={200: CallSerializer, 404: ERROR, 409: ERROR})
    def post(self, request, pk: int):
        agent = selectors.agent_for_user(user=request.user)
        data = _valid(CallEndInput, request)
        return self.respond(request, services.call_end(agent=agent, call_id=pk, reason=data["reason"], by=request.user))


class CallWrapUpInput(serializers.Serializer):
    disposition = serializers.SlugField(max_length=50)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    follow_up_at = serializers.DateTimeField(required=False, allow_null=True)


class CallWrapUpApi(_AgentCallAction):
    """Record the outcome; you are available again. A follow-up time creates your callback."""

    @extend_schema(request=CallWrapUpInput, responses={200: CallSerializer, 400: ERROR, 404: ERROR, 409: ERROR})
    def post(self, request, pk: int):
        agent = selectors.agent_for_user(user=request.user)
        data = _valid(CallWrapUpInput, request)
        call = services.call_wrap_up(
            agent=agent,
            call_id=pk,
            disposition_code=data["disposition"],
            notes=data.get("notes") or "",
            follow_up_at=data.get("follow_up_at"),
            by=request.user,
        )
        return self.respond(request, call)


class CallEscalateInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CallEscalateApi(_AgentCallAction):
    """Flag the call for a supervisor."""

    @extend_schema(request=CallEscalateInput, responses={200: CallSerializer, 404: ERROR, 409: ERROR})
    def post(self, request, pk: int):
        agent = selectors.agent_for_user(user=request.user)
        data = _valid(CallEscalateInput, request)
        call = services.call_escalate(agent=agent, call_id=pk, reason=data.get("reason") or "", by=request.user)
        return self.respond(request, call)


class CallListApi(generics.ListAPIView):
    """Calls the caller may see (their own; a supervisor's teams'; everyone's for managers and QA)."""

    serializer_class = CallSerializer
    queryset = Call.objects.none()  # for the schema; requests use the selector's scope
    filterset_fields = ["state", "queue", "direction", "escalated"]

    def get_queryset(self):
        return selectors.calls_for_user(user=self.request.user)


class CallDetailApi(generics.RetrieveAPIView):
    serializer_class = CallSerializer
    queryset = Call.objects.none()

    def get_queryset(self):
        return selectors.calls_for_user(user=self.request.user)


class CallbackSerializer(serializers.ModelSerializer):
    queue = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.CharField(source="owner.user.username", default=None, read_only=True)
    client = serializers.CharField(source="client.full_name", default=None, read_only=True)

    class Meta:
        model = Callback
        fields = [
            "id",
            "kind",
            "state",
            "number",
            "client",
            "queue",
            "owner",
            "due_at",
            "attempts",
            "max_attempts",
            "origin_call",
        ]
        read_only_fields = fields


class CallbackListApi(generics.ListAPIView):
    """Callbacks the caller may see: their own and their queues' (the desk shows the open ones)."""

    serializer_class = CallbackSerializer
    queryset = Callback.objects.none()
    filterset_fields = ["state", "kind", "queue"]

    def get_queryset(self):
        return selectors.callbacks_for_user(user=self.request.user)


class DispositionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Disposition
        fields = ["code", "label"]


class DispositionListApi(generics.ListAPIView):
    """The outcomes an agent can choose at wrap-up."""

    serializer_class = DispositionSerializer
    queryset = Disposition.objects.filter(active=True)
    pagination_class = None


QUEUE_STATUS = inline_serializer(
    "QueueStatus",
    many=True,
    fields={
        "id": serializers.IntegerField(),
        "slug": serializers.CharField(),
        "name": serializers.CharField(),
        "priority": serializers.IntegerField(),
        "waiting": serializers.IntegerField(),
        "longest_wait_s": serializers.IntegerField(),
        "agents": serializers.DictField(child=serializers.IntegerField(), help_text="eligible agents by state"),
        "today": inline_serializer(
            "QueueToday",
            {
                "offered": serializers.IntegerField(),
                "answered": serializers.IntegerField(),
                "abandoned": serializers.IntegerField(),
                "short_abandoned": serializers.IntegerField(),
                "service_level_pct": serializers.FloatField(allow_null=True),
                "abandon_rate_pct": serializers.FloatField(allow_null=True),
                "asa_s": serializers.FloatField(allow_null=True),
                "aht_s": serializers.FloatField(allow_null=True),
            },
        ),
        "service_level_threshold_s": serializers.IntegerField(),
        "service_level_target_pct": serializers.IntegerField(),
        "target_aht_s": serializers.IntegerField(),
    },
)


class QueueStatusApi(APIView):
    """Per queue: waiting, longest wait, agents by state, today's figures (calls/kpis.py)."""

    @extend_schema(responses={200: QUEUE_STATUS, 403: ERROR})
    def get(self, request):
        services.calls_sweep_if_due()
        return Response(selectors.queue_status_for_user(user=request.user))
