from django.urls import path

from . import api

urlpatterns = [
    path("schedules/", api.ScheduleApi.as_view(), name="api-schedule"),
    path("schedules/publish/", api.SchedulePublishApi.as_view(), name="api-schedule-publish"),
    path("shifts/", api.ShiftCreateApi.as_view(), name="api-shift-create"),
    path("shifts/<int:pk>/", api.ShiftDetailApi.as_view(), name="api-shift-detail"),
    path("dayoff-requests/", api.DayOffRequestListApi.as_view(), name="api-dayoff-list"),
    path("dayoff-requests/<int:pk>/", api.DayOffRequestDetailApi.as_view(), name="api-dayoff-detail"),
    path("dayoff-requests/<int:pk>/impact/", api.DayOffImpactApi.as_view(), name="api-dayoff-impact"),
    path("dayoff-requests/<int:pk>/approve/", api.DayOffApproveApi.as_view(), name="api-dayoff-approve"),
    path("dayoff-requests/<int:pk>/reject/", api.DayOffRejectApi.as_view(), name="api-dayoff-reject"),
    path("dayoff-requests/<int:pk>/cancel/", api.DayOffCancelApi.as_view(), name="api-dayoff-cancel"),
    path("shift-swaps/", api.SwapListApi.as_view(), name="api-swap-list"),
    path("shift-swaps/<int:pk>/take/", api.SwapTakeApi.as_view(), name="api-swap-take"),
    path("shift-swaps/<int:pk>/cancel/", api.SwapCancelApi.as_view(), name="api-swap-cancel"),
    path("shift-swaps/<int:pk>/approve/", api.SwapApproveApi.as_view(), name="api-swap-approve"),
    path("shift-swaps/<int:pk>/reject/", api.SwapRejectApi.as_view(), name="api-swap-reject"),
    path("forecasts/", api.ForecastApi.as_view(), name="api-forecast"),
    path("coverage/", api.CoverageApi.as_view(), name="api-coverage"),
    path("adherence/", api.AdherenceApi.as_view(), name="api-adherence"),
    path("notifications/", api.NotificationListApi.as_view(), name="api-notification-list"),
    path("notifications/<int:pk>/read/", api.NotificationReadApi.as_view(), name="api-notification-read"),
    path("staffing/", api.StaffingCalculatorApi.as_view(), name="api-staffing"),
]
