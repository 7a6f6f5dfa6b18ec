"""Every write the quality app knows, one module per topic; re-exported here."""

from .calibrations import calibration_close, calibration_create, calibration_results, calibration_review_start
from .evaluations import (
    evaluation_create,
    evaluation_refresh_figures,
    evaluation_share,
    evaluation_sign,
    evaluation_update,
    evaluations_open_period,
)
from .reviews import (
    coaching_action_add,
    coaching_action_complete,
    review_acknowledge,
    review_create,
    review_dispute,
    review_resolve,
    review_save_scores,
    review_start,
    review_submit,
    training_assign,
)
from .sampling import sample_assign_last_week, sample_assign_week
from .scorecards import (
    scorecard_create,
    scorecard_current_version,
    scorecard_version_create_next,
    scorecard_version_publish,
    scorecard_version_set_content,
)
from .self_reports import self_report_confirm, self_report_correct, self_report_submit, self_reports_check

__all__ = [
    "calibration_close",
    "calibration_create",
    "calibration_results",
    "calibration_review_start",
    "coaching_action_add",
    "coaching_action_complete",
    "evaluation_create",
    "evaluation_refresh_figures",
    "evaluation_share",
    "evaluation_sign",
    "evaluation_update",
    "evaluations_open_period",
    "review_acknowledge",
    "review_create",
    "review_dispute",
    "review_resolve",
    "review_save_scores",
    "review_start",
    "review_submit",
    "sample_assign_last_week",
    "sample_assign_week",
    "scorecard_create",
    "scorecard_current_version",
    "scorecard_version_create_next",
    "scorecard_version_publish",
    "scorecard_version_set_content",
    "self_report_confirm",
    "self_report_correct",
    "self_report_submit",
    "self_reports_check",
    "training_assign",
]
