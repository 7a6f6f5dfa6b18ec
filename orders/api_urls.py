from django.urls import path

from . import api

urlpatterns = [
    path("orders/", api.OrderListCreateApi.as_view(), name="api-order-list"),
    path("orders/export/", api.OrderExportApi.as_view(), name="api-order-export"),
    path("orders/<int:pk>/", api.OrderDetailApi.as_view(), name="api-order-detail"),
    path("orders/<int:pk>/transition/", api.OrderTransitionApi.as_view(), name="api-order-transition"),
    path("orders/<int:pk>/summary/", api.OrderSummaryApi.as_view(), name="api-order-summary"),
    path("followups/", api.FollowUpListApi.as_view(), name="api-followup-list"),
    path("followups/<int:pk>/resolve/", api.FollowUpResolveApi.as_view(), name="api-followup-resolve"),
]
