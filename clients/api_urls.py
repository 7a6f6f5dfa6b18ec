from django.urls import path

from . import api

urlpatterns = [
    path("clients/", api.ClientListApi.as_view(), name="api-client-list"),
    path("clients/export/", api.ClientExportApi.as_view(), name="api-client-export"),
    path("clients/<int:pk>/", api.ClientDetailApi.as_view(), name="api-client-detail"),
    path("clients/<int:pk>/timeline/", api.ClientTimelineApi.as_view(), name="api-client-timeline"),
    path("clients/<int:pk>/dial/", api.ClientDialApi.as_view(), name="api-client-dial"),
    path("clients/<int:pk>/do-not-call/", api.ClientDoNotCallApi.as_view(), name="api-client-do-not-call"),
    path("outcomes/", api.OutcomeListCreateApi.as_view(), name="api-outcome-list"),
    path("campaigns/", api.CampaignListApi.as_view(), name="api-campaign-list"),
    path("campaigns/<int:pk>/", api.CampaignDetailApi.as_view(), name="api-campaign-detail"),
    path("campaigns/<int:pk>/members/", api.CampaignMembersApi.as_view(), name="api-campaign-members"),
    path(
        "campaigns/<int:pk>/members/<int:member_pk>/release/",
        api.CampaignMemberReleaseApi.as_view(),
        name="api-campaign-member-release",
    ),
    path("campaigns/<int:pk>/next/", api.CampaignNextApi.as_view(), name="api-campaign-next"),
    path("campaigns/<int:pk>/progress/", api.CampaignProgressApi.as_view(), name="api-campaign-progress"),
    path("offers/", api.OfferListApi.as_view(), name="api-offer-list"),
    path("offers/<int:pk>/publish/", api.OfferPublishApi.as_view(), name="api-offer-publish"),
    path("refusal-reasons/", api.RefusalReasonListApi.as_view(), name="api-refusal-reason-list"),
    path("stay-reasons/", api.StayReasonListApi.as_view(), name="api-stay-reason-list"),
    path("provider-survey/", api.ProviderSurveyApi.as_view(), name="api-provider-survey"),
]
