from django.urls import path

from . import views

app_name = "scheduling"
urlpatterns = [
    path("schedule/", views.my_schedule, name="my-schedule"),
    path("schedule/dayoff/", views.dayoff_submit, name="dayoff-submit"),
    path("schedule/dayoff/<int:pk>/cancel/", views.dayoff_cancel, name="dayoff-cancel"),
    path("schedule/shifts/<int:shift_id>/offer/", views.swap_offer, name="swap-offer"),
    path(
        "schedule/swaps/<int:pk>/<str:action>/",
        views.swap_action,
        name="swap-action",
    ),
    path("schedule/notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("schedule/approvals/", views.approvals, name="approvals"),
    path("schedule/approvals/<int:pk>/<str:action>/", views.dayoff_decide, name="dayoff-decide"),
    path("schedule/coverage/", views.coverage, name="coverage"),
    path("schedule/team/", views.team_week, name="team-week"),
    path("schedule/team/shifts/", views.team_shift_create, name="team-shift-create"),
    path("schedule/team/shifts/<int:pk>/delete/", views.team_shift_delete, name="team-shift-delete"),
    path("schedule/team/publish/", views.team_publish, name="team-publish"),
    path("schedule/adherence/", views.adherence_page, name="adherence"),
]
