from django.urls import path

from . import api

urlpatterns = [
    path("telephony/events/", api.TelephonyEventApi.as_view(), name="api-telephony-events"),
    path("agents/me/status/", api.AgentStatusApi.as_view(), name="api-agent-status"),
    path("calls/", api.CallListApi.as_view(), name="api-call-list"),
    path("calls/<int:pk>/", api.CallDetailApi.as_view(), name="api-call-detail"),
    path("calls/<int:pk>/accept/", api.CallAcceptApi.as_view(), name="api-call-accept"),
    path("calls/<int:pk>/end/", api.CallEndApi.as_view(), name="api-call-end"),
    path("calls/<int:pk>/wrap-up/", api.CallWrapUpApi.as_view(), name="api-call-wrap-up"),
    path("calls/<int:pk>/escalate/", api.CallEscalateApi.as_view(), name="api-call-escalate"),
    path("callbacks/", api.CallbackListApi.as_view(), name="api-callback-list"),
    path("dispositions/", api.DispositionListApi.as_view(), name="api-disposition-list"),
    path("queues/status/", api.QueueStatusApi.as_view(), name="api-queue-status"),
]
