# The client-base fixtures (fibre, campaign_a, client_in_a, client_outside…), described in
# clients/tests/conftest.py: orders are taken for those clients.
from clients.tests.conftest import campaign_a, client_in_a, client_outside, fibre, too_expensive  # noqa: F401
