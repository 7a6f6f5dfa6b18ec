from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("orders/", views.order_list, name="order-list"),
    path("orders/export.csv", views.order_export, name="order-export"),
    path("orders/new/", views.order_create, name="order-create"),
    path("orders/followups/", views.followup_list, name="followup-list"),
    path("orders/followups/<int:pk>/resolve/", views.followup_resolve, name="followup-resolve"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order-edit"),
    path("orders/<int:pk>/transition/", views.order_transition, name="order-transition"),
]
