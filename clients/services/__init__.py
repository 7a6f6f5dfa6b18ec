"""Every write the clients app knows, by topic; import them from here."""

from .campaigns import (
    CampaignError,
    agent_is_assigned,
    campaign_add_clients,
    campaign_member_release,
    campaign_next_member,
    campaign_set_status,
)
from .clients import (
    DoNotCallError,
    client_add_phone,
    client_check_dialable,
    client_log_access,
    client_mark_do_not_call,
    client_update,
    number_check_dialable,
)
from .imports import ImportReport, RowStatus, clients_import
from .outcomes import offer_publish, outcome_record, provider_survey_record

__all__ = [
    "CampaignError",
    "DoNotCallError",
    "ImportReport",
    "RowStatus",
    "agent_is_assigned",
    "campaign_add_clients",
    "campaign_member_release",
    "campaign_next_member",
    "campaign_set_status",
    "client_add_phone",
    "client_check_dialable",
    "client_log_access",
    "client_mark_do_not_call",
    "client_update",
    "clients_import",
    "number_check_dialable",
    "offer_publish",
    "outcome_record",
    "provider_survey_record",
]
