"""Shared set-up of the client-base tests.

Who is who (on top of the project's named users, see the root conftest.py):
- campaign_a is a running campaign of team_a (alice and arthur, supervisor sam);
- client_in_a is one of its members: alice, arthur and sam may see them, bob (team_b) may not;
- client_outside is in no campaign and has no call: only HR and managers see them.
"""

import pytest

from clients.models import RefusalReason
from clients.tests.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    ClientFactory,
    OfferFactory,
    RefusalReasonFactory,
)


@pytest.fixture
def fibre(db):
    return OfferFactory(code="fibre-1g", name="Fibre 1 Gb/s", category="internet", price=39, commitment_months=12)


@pytest.fixture
def too_expensive(db):
    return RefusalReasonFactory(
        code="too_expensive", label="Too expensive", reoffer_rule=RefusalReason.ReofferRule.CHEAPER
    )


@pytest.fixture
def other_reason(db):
    return RefusalReasonFactory(
        code="other", label="Other", requires_text=True, reoffer_rule=RefusalReason.ReofferRule.NONE
    )


@pytest.fixture
def campaign_a(team_a, fibre):
    return CampaignFactory(name="Fibre A", offer=fibre, teams=[team_a])


@pytest.fixture
def client_in_a(campaign_a):
    member = CampaignMemberFactory(campaign=campaign_a, client=ClientFactory(full_name="Jeanne Martin"))
    return member.client


@pytest.fixture
def client_outside(db):
    return ClientFactory(full_name="Paul Dehors")
