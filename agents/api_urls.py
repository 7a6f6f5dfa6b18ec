from django.urls import path

from . import api

urlpatterns = [
    path("agents/", api.AgentListApi.as_view(), name="api-agent-list"),
    path("agents/me/", api.MeApi.as_view(), name="api-agent-me"),
    path("agents/<int:pk>/", api.AgentDetailApi.as_view(), name="api-agent-detail"),
]
