from django.urls import path

from . import views

app_name = "calls"
urlpatterns = [
    path("desk/", views.desk, name="desk"),
    path("wallboard/", views.wallboard, name="wallboard"),
    path("wallboard/data/", views.wallboard_data, name="wallboard-data"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/calls.csv", views.call_export, name="call-export"),
    path("dashboard/announcements/", views.announcement_create, name="announcement-create"),
]
