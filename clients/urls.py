from django.urls import path

from . import views

app_name = "clients"
urlpatterns = [
    path("clients/", views.client_list, name="client-list"),
    path("clients/export.csv", views.client_export, name="client-export"),
    path("clients/provider-survey/", views.provider_survey_report, name="provider-survey-report"),
    path("clients/<int:pk>/", views.client_detail, name="client-detail"),
    path("clients/<int:pk>/outcome/", views.client_outcome, name="client-outcome"),
    path("clients/<int:pk>/dial/", views.client_dial, name="client-dial"),
    path("clients/<int:pk>/do-not-call/", views.client_do_not_call, name="client-do-not-call"),
    path("clients/<int:pk>/survey/", views.client_survey, name="client-survey"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/next/", views.campaign_next, name="campaign-next"),
    path(
        "campaigns/<int:pk>/members/<int:member_pk>/release/",
        views.campaign_member_release,
        name="campaign-member-release",
    ),
]
