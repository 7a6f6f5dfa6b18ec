"""REST endpoints of orders and follow-ups (same row rules as the pages: orders/selectors.py)."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.roles import Role, has_role
from clients import selectors as client_selectors
from clients.models import ClientAccessLog, Offer
from clients.services import client_log_access

from . import selectors, services
from .confirmation import order_confirmation_summary
from .exports import orders_csv_response
from .filters import FollowUpFilter, OrderFilter
from .models import FollowUp, Order


class OrderSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    client_name = serializers.CharField(source="client.full_name", read_only=True)
    agent = serializers.CharField(source="agent.user.username", default=None, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "reference",
            "status",
            "client",
            "client_name",
            "offer",
            "service",
            "outcome",
            "address_line",
            "postal_code",
            "city",
            "country",
            "scheduled_date",
            "visit_from",
            "visit_to",
            "materials",
            "amount",
            "payment_method",
            "agent",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrderFormSerializer(serializers.Serializer):
    """The fields of the order form; services.order_create / order_update check the rules."""

    offer = serializers.PrimaryKeyRelatedField(queryset=Offer.objects.all(), required=False, allow_null=True)
    service = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address_line = serializers.CharField(max_length=255, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=16, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False)
    scheduled_date = serializers.DateField(required=False, allow_null=True)
    visit_from = serializers.TimeField(required=False, allow_null=True)
    visit_to = serializers.TimeField(required=False, allow_null=True)
    materials = serializers.CharField(required=False, allow_blank=True)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)
    # A plain string: "cash" must reach the service and be refused with its own message.
    payment_method = serializers.CharField(max_length=16, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class OrderCreateSerializer(OrderFormSerializer):
    client = serializers.IntegerField()


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Order.Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    scheduled_date = serializers.DateField(required=False, allow_null=True)
    visit_from = serializers.TimeField(required=False, allow_null=True)
    visit_to = serializers.TimeField(required=False, allow_null=True)
    # For "problem": the follow-up.
    description = serializers.CharField(required=False, allow_blank=True)
    assigned_to = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )
    due_at = serializers.DateTimeField(required=False, allow_null=True)


class FollowUpSerializer(serializers.ModelSerializer):
    order_reference = serializers.CharField(source="order.reference", read_only=True)
    assigned_to = serializers.CharField(source="assigned_to.username", read_only=True)
    escalated_to = serializers.CharField(source="escalated_to.username", default=None, read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "order",
            "order_reference",
            "description",
            "assigned_to",
            "due_at",
            "status",
            "escalated_at",
            "escalated_to",
            "resolution",
            "done_at",
        ]
        read_only_fields = fields


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField()


class OrderListCreateApi(generics.ListCreateAPIView):
    """The orders the caller may see, with the back-office filters; POST opens a draft."""

    serializer_class = OrderSerializer
    queryset = Order.objects.none()
    filterset_class = OrderFilter

    def get_queryset(self):
        return selectors.orders_for_user(user=self.request.user)

    @extend_schema(request=OrderCreateSerializer, responses={201: OrderSerializer})
    def post(self, request):
        data = OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        client = client_selectors.client_get_for_user(user=request.user, client_id=values.pop("client"))
        order = services.order_create(by=request.user, client=client, **values)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetailApi(APIView):
    @extend_schema(responses=OrderSerializer)
    def get(self, request, pk):
        return Response(OrderSerializer(selectors.order_get_for_user(user=request.user, order_id=pk)).data)

    @extend_schema(request=OrderFormSerializer, responses=OrderSerializer)
    def patch(self, request, pk):
        order = selectors.order_get_for_user(user=request.user, order_id=pk)
        data = OrderFormSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        order = services.order_update(order=order, by=request.user, **data.validated_data)
        return Response(OrderSerializer(selectors.order_get_for_user(user=request.user, order_id=order.pk)).data)


class OrderTransitionApi(APIView):
    """Move an order: submitted, scheduled (date, visit window), completed, cancelled (note =
    reason) or problem (description, assigned_to, due_at: opens a follow-up). 409 when
    the move is not allowed from the order's status."""

    @extend_schema(request=TransitionSerializer, responses=OrderSerializer)
    def post(self, request, pk):
        order = selectors.order_get_for_user(user=request.user, order_id=pk)
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        order = services.order_transition(order=order, by=request.user, **values)
        return Response(OrderSerializer(selectors.order_get_for_user(user=request.user, order_id=order.pk)).data)


class OrderSummaryApi(APIView):
    """The confirmation text the agent reads back to the client."""

    @extend_schema(responses={200: OpenApiResponse(description='{"text": "…"}')})
    def get(self, request, pk):
        order = selectors.order_get_for_user(user=request.user, order_id=pk)
        return Response({"order": order.pk, "text": order_confirmation_summary(order)})


class OrderExportApi(APIView):
    """The filtered order list as CSV. Managers only (orders hold personal data)."""

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="CSV")})
    def get(self, request):
        if not has_role(request.user, Role.MANAGER):
            raise PermissionDenied("Exports are for managers.")
        orders = OrderFilter(request.query_params, queryset=selectors.orders_for_user(user=request.user)).qs
        client_log_access(
            user=request.user, client=None, via=ClientAccessLog.Via.EXPORT, path=request.get_full_path(), label="orders"
        )
        return orders_csv_response(orders)


class FollowUpListApi(generics.ListAPIView):
    serializer_class = FollowUpSerializer
    queryset = FollowUp.objects.none()
    filterset_class = FollowUpFilter

    def get_queryset(self):
        return selectors.followups_for_user(user=self.request.user).order_by("due_at", "pk")


class FollowUpResolveApi(APIView):
    @extend_schema(request=ResolveSerializer, responses=FollowUpSerializer)
    def post(self, request, pk):
        followup = selectors.followup_get_for_user(user=request.user, followup_id=pk)
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        followup = services.followup_resolve(followup=followup, by=request.user, **data.validated_data)
        return Response(
            FollowUpSerializer(selectors.followup_get_for_user(user=request.user, followup_id=followup.pk)).data
        )
