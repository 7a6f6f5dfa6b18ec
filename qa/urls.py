from django.urls import path

from . import views

app_name = "qa"
urlpatterns = [
    path("qa/", views.home, name="home"),
    path("qa/reviews/", views.review_list, name="review-list"),
    path("qa/reviews/new/", views.review_new, name="review-new"),
    path("qa/reviews/<int:pk>/", views.review_detail, name="review-detail"),
    path("qa/reviews/<int:pk>/score/", views.review_score, name="review-score"),
    path("qa/reviews/<int:pk>/acknowledge/", views.review_acknowledge, name="review-acknowledge"),
    path("qa/reviews/<int:pk>/dispute/", views.review_dispute, name="review-dispute"),
    path("qa/reviews/<int:pk>/resolve/", views.review_resolve, name="review-resolve"),
    path("qa/reviews/<int:pk>/coaching/", views.review_coaching, name="review-coaching"),
    path("qa/reviews/<int:pk>/training/", views.review_training, name="review-training"),
    path("qa/actions/<int:pk>/done/", views.action_done, name="action-done"),
    path("qa/me/", views.my_quality, name="my-quality"),
    path("qa/team/", views.team, name="team"),
    path("qa/training/", views.training, name="training"),
    path("qa/calibrations/", views.calibration_list, name="calibration-list"),
    path("qa/calibrations/<int:pk>/", views.calibration_detail, name="calibration-detail"),
    path("qa/evaluations/", views.evaluation_list, name="evaluation-list"),
    path("qa/evaluations/<int:pk>/", views.evaluation_detail, name="evaluation-detail"),
    path("qa/agents/<int:agent_id>/evaluations/", views.evaluation_history, name="evaluation-history"),
    path("qa/results/", views.self_reports, name="self-reports"),
]
