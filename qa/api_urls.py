from django.urls import path

from . import api

urlpatterns = [
    path("qa/scorecards/", api.ScorecardListApi.as_view(), name="api-qa-scorecard-list"),
    path("qa/reviews/", api.ReviewListApi.as_view(), name="api-qa-review-list"),
    path("qa/reviews/<int:pk>/", api.ReviewDetailApi.as_view(), name="api-qa-review-detail"),
    path("qa/reviews/<int:pk>/submit/", api.ReviewSubmitApi.as_view(), name="api-qa-review-submit"),
    path("qa/reviews/<int:pk>/acknowledge/", api.ReviewAcknowledgeApi.as_view(), name="api-qa-review-acknowledge"),
    path("qa/reviews/<int:pk>/dispute/", api.ReviewDisputeApi.as_view(), name="api-qa-review-dispute"),
    path("qa/reviews/<int:pk>/resolve/", api.ReviewResolveApi.as_view(), name="api-qa-review-resolve"),
    path("qa/reviews/<int:pk>/coaching-actions/", api.ReviewCoachingApi.as_view(), name="api-qa-review-coaching"),
    path("qa/reviews/<int:pk>/training/", api.ReviewTrainingApi.as_view(), name="api-qa-review-training"),
    path("qa/assignments/", api.AssignmentListApi.as_view(), name="api-qa-assignment-list"),
    path("qa/calibrations/", api.CalibrationListApi.as_view(), name="api-qa-calibration-list"),
    path("qa/calibrations/<int:pk>/", api.CalibrationDetailApi.as_view(), name="api-qa-calibration-detail"),
    path("qa/calibrations/<int:pk>/review/", api.CalibrationReviewApi.as_view(), name="api-qa-calibration-review"),
    path("qa/calibrations/<int:pk>/close/", api.CalibrationCloseApi.as_view(), name="api-qa-calibration-close"),
    path("qa/quality/team/", api.TeamQualityApi.as_view(), name="api-qa-team-quality"),
    path("qa/quality/failed-criteria/", api.FailedCriteriaApi.as_view(), name="api-qa-failed-criteria"),
    path("qa/evaluations/", api.EvaluationListApi.as_view(), name="api-qa-evaluation-list"),
    path("qa/evaluations/<int:pk>/", api.EvaluationDetailApi.as_view(), name="api-qa-evaluation-detail"),
    path("qa/evaluations/<int:pk>/refresh/", api.EvaluationRefreshApi.as_view(), name="api-qa-evaluation-refresh"),
    path("qa/evaluations/<int:pk>/share/", api.EvaluationShareApi.as_view(), name="api-qa-evaluation-share"),
    path("qa/evaluations/<int:pk>/sign/", api.EvaluationSignApi.as_view(), name="api-qa-evaluation-sign"),
    path("qa/agents/<int:agent_id>/evaluations/", api.EvaluationHistoryApi.as_view(), name="api-qa-evaluation-history"),
    path("qa/self-reports/", api.SelfReportListApi.as_view(), name="api-qa-selfreport-list"),
    path("qa/self-reports/<int:pk>/", api.SelfReportDetailApi.as_view(), name="api-qa-selfreport-detail"),
    path("qa/self-reports/<int:pk>/confirm/", api.SelfReportConfirmApi.as_view(), name="api-qa-selfreport-confirm"),
    path("qa/self-reports/<int:pk>/correct/", api.SelfReportCorrectApi.as_view(), name="api-qa-selfreport-correct"),
]
