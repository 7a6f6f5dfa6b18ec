"""REST endpoints of the client base, outcomes, campaigns, offers and catalogs.

Every read of clients goes through clients.selectors (the same row rules as the pages);
every write through clients.services. A client out of the caller's scope is a 404.
"""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.roles import Role, has_role
from agents.selectors import agent_for_user_profile
from contactcenter.errors import ApplicationError

from . import selectors, services
from .exports import clients_csv_response
from .models import (
    Campaign,
    CampaignMember,
    Client,
    ClientAccessLog,
    ContactOutcome,
    Offer,
    RefusalReason,
    StayReason,
)

# --- Serializers ------------------------------------------------------------------------


class ClientSerializer(serializers.ModelSerializer):
    phones = serializers.SerializerMethodField()
    preferred_language = serializers.CharField(source="preferred_language_id", allow_null=True, read_only=True)
    tags = serializers.ListField(source="tag_list", child=serializers.CharField(), read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "full_name",
            "phones",
            "email",
            "address_line",
            "postal_code",
            "city",
            "country",
            "preferred_language",
            "time_zone",
            "current_provider",
            "segment",
            "tags",
            "do_not_call",
            "marketing_consent",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_phones(self, client) -> list[str]:
        return [phone.number for phone in client.phones.all()]


class ClientUpdateSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=200, required=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    address_line = serializers.CharField(max_length=255, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=16, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    time_zone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    current_provider = serializers.CharField(max_length=100, required=False, allow_blank=True)
    segment = serializers.CharField(max_length=50, required=False, allow_blank=True)
    tags = serializers.CharField(max_length=255, required=False, allow_blank=True)
    marketing_consent = serializers.BooleanField(required=False)
    do_not_call = serializers.BooleanField(required=False, help_text="Can be set, never unset.")
    notes = serializers.CharField(required=False, allow_blank=True)


class DialSerializer(serializers.Serializer):
    number = serializers.CharField(required=False, allow_blank=True)


class OfferSerializer(serializers.ModelSerializer):
    class Meta:
        model = Offer
        fields = [
            "id",
            "code",
            "name",
            "category",
            "description",
            "price",
            "price_period",
            "commitment_months",
            "terms",
            "needs_technician",
            "active_from",
            "active_to",
            "published_at",
        ]
        read_only_fields = fields


class RefusalReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = RefusalReason
        fields = ["id", "code", "label", "requires_text", "reoffer_rule"]
        read_only_fields = fields


class StayReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = StayReason
        fields = ["id", "code", "label", "requires_text"]
        read_only_fields = fields


class OutcomeSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username", read_only=True)
    order = serializers.SerializerMethodField()

    class Meta:
        model = ContactOutcome
        fields = [
            "id",
            "client",
            "kind",
            "campaign",
            "offer",
            "refusal_reason",
            "refusal_text",
            "callback_at",
            "note",
            "call",
            "agent",
            "by",
            "created_at",
            "order",
        ]
        read_only_fields = fields

    def get_order(self, outcome) -> int | None:
        order = getattr(outcome, "order", None)
        return order.pk if order is not None else None


class OutcomeCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ContactOutcome.Kind.choices)
    campaign = serializers.IntegerField(required=False, allow_null=True)
    offer = serializers.PrimaryKeyRelatedField(queryset=Offer.objects.all(), required=False, allow_null=True)
    refusal_reason = serializers.PrimaryKeyRelatedField(
        queryset=RefusalReason.objects.all(), required=False, allow_null=True
    )
    refusal_text = serializers.CharField(required=False, allow_blank=True, max_length=500)
    callback_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True)
    call = serializers.IntegerField(required=False, allow_null=True)


class CampaignSerializer(serializers.ModelSerializer):
    offer = OfferSerializer(read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "kind",
            "status",
            "offer",
            "is_reoffer",
            "starts_at",
            "ends_at",
            "max_attempts",
            "retry_no_answer_min",
            "retry_busy_min",
            "calling_hours_start",
            "calling_hours_end",
            "calling_weekdays",
        ]
        read_only_fields = fields


class MemberClientSerializer(serializers.ModelSerializer):
    phones = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = ["id", "full_name", "phones", "city", "time_zone", "current_provider", "segment", "do_not_call"]
        read_only_fields = fields

    def get_phones(self, client) -> list[str]:
        return [phone.number for phone in client.phones.all()]


class CampaignMemberSerializer(serializers.ModelSerializer):
    client = MemberClientSerializer(read_only=True)
    assigned_agent = serializers.CharField(source="assigned_agent.user.username", default=None, read_only=True)

    class Meta:
        model = CampaignMember
        fields = [
            "id",
            "campaign",
            "client",
            "state",
            "attempts",
            "next_attempt_at",
            "last_outcome_kind",
            "assigned_agent",
            "locked_until",
        ]
        read_only_fields = fields


class AddMembersSerializer(serializers.Serializer):
    clients = serializers.ListField(child=serializers.IntegerField(), allow_empty=False, max_length=100_000)


class SurveyAnswerCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    reason = serializers.PrimaryKeyRelatedField(queryset=StayReason.objects.filter(is_active=True))
    provider = serializers.CharField(required=False, allow_blank=True, max_length=100)
    text = serializers.CharField(required=False, allow_blank=True, max_length=500)
    satisfaction = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5)
    campaign = serializers.IntegerField(required=False, allow_null=True)


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    by = serializers.CharField()
    url = serializers.CharField(allow_null=True)


# --- Clients -----------------------------------------------------------------------------


class ClientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="name, number or email")
    tag = django_filters.CharFilter(field_name="tags", lookup_expr="icontains")

    class Meta:
        model = Client
        fields = ["segment", "do_not_call", "marketing_consent", "city", "current_provider"]

    def search(self, queryset, name, value):
        number = selectors.phone_to_e164(value)
        condition = Q(full_name__icontains=value) | Q(email__iexact=value)
        if number:
            condition |= Q(phones__number=number)
        return queryset.filter(condition).distinct()


def _scoped_clients(user):
    return selectors.clients_for_user(user=user).prefetch_related("phones")


class ClientListApi(generics.ListAPIView):
    """Clients the caller may see (agents: their campaigns' and calls' clients)."""

    serializer_class = ClientSerializer
    queryset = Client.objects.none()  # for the schema; requests use get_queryset's scope
    filterset_class = ClientFilter

    def get_queryset(self):
        return _scoped_clients(self.request.user).order_by("full_name", "pk")


class ClientDetailApi(APIView):
    """One client record; every read is written to the access log. PATCH changes contact
    details (do_not_call can be set, never unset)."""

    @extend_schema(responses=ClientSerializer)
    def get(self, request, pk):
        client = selectors.client_get_for_user(user=request.user, client_id=pk)
        services.client_log_access(user=request.user, client=client, via=ClientAccessLog.Via.API, path=request.path)
        return Response(ClientSerializer(client).data)

    @extend_schema(request=ClientUpdateSerializer, responses=ClientSerializer)
    def patch(self, request, pk):
        client = selectors.client_get_for_user(user=request.user, client_id=pk)
        data = ClientUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        client = services.client_update(client=client, by=request.user, **data.validated_data)
        return Response(ClientSerializer(client).data)


class ClientTimelineApi(APIView):
    """The client's whole contact history, newest first (logged as a view of the record)."""

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    def get(self, request, pk):
        client = selectors.client_get_for_user(user=request.user, client_id=pk)
        services.client_log_access(user=request.user, client=client, via=ClientAccessLog.Via.API, path=request.path)
        entries = selectors.client_timeline(client=client)
        return Response(TimelineEntrySerializer(entries, many=True).data)


class ClientDialApi(APIView):
    """Manual dial from the desk: the number to call, or 409 for a do-not-call client."""

    @extend_schema(request=DialSerializer, responses={200: OpenApiResponse(description='{"number": "+33…"}')})
    def post(self, request, pk):
        client = selectors.client_get_for_user(user=request.user, client_id=pk)
        data = DialSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        number = services.client_check_dialable(client=client, number=data.validated_data.get("number") or None)
        return Response({"client": client.pk, "number": number})


class ClientDoNotCallApi(APIView):
    """Record a do-not-call request: honoured at once and for good."""

    @extend_schema(request=None, responses=ClientSerializer)
    def post(self, request, pk):
        client = selectors.client_get_for_user(user=request.user, client_id=pk)
        client = services.client_mark_do_not_call(client=client, by=request.user, source="API")
        return Response(ClientSerializer(client).data)


class ClientExportApi(APIView):
    """All clients as CSV. Managers only; the export is written to the access log."""

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="CSV")})
    def get(self, request):
        if not has_role(request.user, Role.MANAGER):
            raise PermissionDenied("Exports are for managers.")
        return clients_csv_response(selectors.clients_for_user(user=request.user), user=request.user, path=request.path)


# --- Outcomes ------------------------------------------------------------------------------


class OutcomeListCreateApi(generics.ListCreateAPIView):
    """Outcomes of the clients the caller may see; POST records one (refused needs a
    reason, accepted opens a draft order whose id comes back in `order`)."""

    serializer_class = OutcomeSerializer
    queryset = ContactOutcome.objects.none()
    filterset_fields = ["client", "campaign", "kind", "refusal_reason"]

    def get_queryset(self):
        return (
            selectors.outcomes_for_user(user=self.request.user).select_related("order").order_by("-created_at", "-pk")
        )

    @extend_schema(request=OutcomeCreateSerializer, responses={201: OutcomeSerializer})
    def post(self, request):
        data = OutcomeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        client = selectors.client_get_for_user(user=request.user, client_id=values.pop("client"))
        campaign_id = values.pop("campaign", None)
        campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=campaign_id) if campaign_id else None
        call_id = values.pop("call", None)
        call = _call_for(request.user, call_id, client) if call_id else None
        outcome = services.outcome_record(by=request.user, client=client, campaign=campaign, call=call, **values)
        outcome = ContactOutcome.objects.select_related("order", "by").get(pk=outcome.pk)
        return Response(OutcomeSerializer(outcome).data, status=status.HTTP_201_CREATED)


def _call_for(user, call_id, client):
    """The call an outcome refers to: one of this client's calls."""
    from calls.models import Call

    call = Call.objects.filter(pk=call_id, client=client).first()
    if call is None:
        raise ApplicationError(_("No such call for this client."), fields={"call": str(call_id)})
    return call


# --- Campaigns -------------------------------------------------------------------------------


class CampaignListApi(generics.ListAPIView):
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.none()
    filterset_fields = ["status", "kind", "is_reoffer"]

    def get_queryset(self):
        return selectors.campaigns_for_user(user=self.request.user).order_by("-starts_at", "pk")


class CampaignDetailApi(APIView):
    @extend_schema(responses=CampaignSerializer)
    def get(self, request, pk):
        campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=pk)
        return Response(CampaignSerializer(campaign).data)


class CampaignMembersApi(generics.ListAPIView):
    """The members of a campaign (its queue); POST adds clients (supervisors and managers)."""

    serializer_class = CampaignMemberSerializer
    queryset = CampaignMember.objects.none()
    filterset_fields = ["state", "last_outcome_kind"]

    def get_queryset(self):
        campaign = selectors.campaign_get_for_user(user=self.request.user, campaign_id=self.kwargs["pk"])
        return (
            selectors.members_for_campaign(campaign=campaign)
            .prefetch_related("client__phones")
            .order_by("next_attempt_at", "pk")
        )

    @extend_schema(request=AddMembersSerializer, responses={200: OpenApiResponse(description='{"added", "refused"}')})
    def post(self, request, pk):
        if not has_role(request.user, Role.SUPERVISOR, Role.MANAGER):
            raise PermissionDenied("Supervisors and managers add clients to campaigns.")
        campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=pk)
        data = AddMembersSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        clients = selectors.clients_for_user(user=request.user).filter(pk__in=data.validated_data["clients"])
        added, refused = services.campaign_add_clients(campaign=campaign, clients=clients)
        return Response({"added": added, "refused_do_not_call": refused})


class CampaignNextApi(APIView):
    """ "Next client": the next due member for the calling agent, atomically (204 when none)."""

    @extend_schema(request=None, responses={200: CampaignMemberSerializer, 204: None})
    def post(self, request, pk):
        campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=pk)
        agent = agent_for_user_profile(user=request.user)
        member = services.campaign_next_member(campaign=campaign, agent=agent)
        if member is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        member = selectors.members_for_campaign(campaign=campaign).prefetch_related("client__phones").get(pk=member.pk)
        return Response(CampaignMemberSerializer(member).data)


class CampaignMemberReleaseApi(APIView):
    """Give a member back without calling (due again at once for anyone)."""

    @extend_schema(request=None, responses=CampaignMemberSerializer)
    def post(self, request, pk, member_pk):
        campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=pk)
        member = generics.get_object_or_404(CampaignMember, pk=member_pk, campaign=campaign)
        member = services.campaign_member_release(member=member, agent=agent_for_user_profile(user=request.user))
        return Response(CampaignMemberSerializer(member).data)


class CampaignProgressApi(APIView):
    """Reached, accepted, refused by reason, conversion rate, attempts per contact."""

    @extend_schema(responses={200: OpenApiResponse(description="progress figures")})
    def get(self, request, pk):
        if not has_role(request.user, Role.SUPERVISOR, Role.MANAGER):
            raise PermissionDenied("Campaign progress is for supervisors and managers.")
        campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=pk)
        return Response({"campaign": campaign.pk, **selectors.campaign_progress(campaign=campaign)})


# --- Catalogs ----------------------------------------------------------------------------------


class OfferListApi(generics.ListAPIView):
    serializer_class = OfferSerializer
    queryset = Offer.objects.order_by("category", "price", "pk")
    filterset_fields = ["category", "price_period", "needs_technician"]


class OfferPublishApi(APIView):
    """Publish an offer: builds the re-offer campaign of the refusals it answers (managers)."""

    @extend_schema(request=None, responses={200: OpenApiResponse(description='{"campaign": id or null, "clients": n}')})
    def post(self, request, pk):
        if not has_role(request.user, Role.MANAGER):
            raise PermissionDenied("Managers publish offers.")
        offer = generics.get_object_or_404(Offer, pk=pk)
        campaign = services.offer_publish(offer=offer, by=request.user)
        return Response(
            {
                "offer": offer.pk,
                "campaign": campaign.pk if campaign else None,
                "clients": campaign.members.count() if campaign else 0,
            }
        )


class RefusalReasonListApi(generics.ListAPIView):
    serializer_class = RefusalReasonSerializer
    queryset = RefusalReason.objects.filter(is_active=True).order_by("position", "label")
    pagination_class = None


class StayReasonListApi(generics.ListAPIView):
    serializer_class = StayReasonSerializer
    queryset = StayReason.objects.filter(is_active=True).order_by("position", "label")
    pagination_class = None


class ProviderSurveyApi(APIView):
    """POST: record why a client stays with their provider. GET: counts per reason
    (supervisors and managers)."""

    @extend_schema(responses={200: OpenApiResponse(description="counts per reason and provider")})
    def get(self, request):
        if not has_role(request.user, Role.SUPERVISOR, Role.MANAGER):
            raise PermissionDenied("The survey report is for supervisors and managers.")
        return Response(selectors.provider_survey_report(provider=request.query_params.get("provider", "")))

    @extend_schema(request=SurveyAnswerCreateSerializer, responses={201: OpenApiResponse(description="{id}")})
    def post(self, request):
        data = SurveyAnswerCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        client = selectors.client_get_for_user(user=request.user, client_id=values.pop("client"))
        campaign_id = values.pop("campaign", None)
        campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=campaign_id) if campaign_id else None
        answer = services.provider_survey_record(by=request.user, client=client, campaign=campaign, **values)
        return Response({"id": answer.pk}, status=status.HTTP_201_CREATED)
