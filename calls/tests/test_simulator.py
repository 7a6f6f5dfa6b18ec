"""simulate_traffic: a real HTTP client against a running server, which stops by itself."""

import pytest
from django.core.management import CommandError, call_command

from calls.models import AgentPresence, Call, CallEvent
from calls.tests.factories import agent_with


# The live server answers from many threads at once: SQLite's shared in-memory test database
# refuses concurrent writers ("table is locked") where the file database of the real
# single-process mode waits. So this runs on PostgreSQL (CI always does).
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simulator_drives_calls_and_agents_through_the_api(live_server, migrated_rows, queue, billing, settings):
    settings.CALLS_SWEEP_INTERVAL_S = 0
    for _ in range(3):
        agent_with(skills=[billing])
    call_command(
        "simulate_traffic",
        url=live_server.url,
        rate=6,
        agents=3,
        duration=3,
        drain=3,
        handle_mean=0.3,
        wrap_up_mean=0.2,
        answer_mean=0.1,
        patience_mean=20,
        seed=3,
        queues="billing-fr",
    )
    assert Call.objects.filter(external_id__startswith="sim-").count() >= 5
    assert Call.objects.filter(state=Call.State.COMPLETED).exists()
    assert CallEvent.objects.filter(type="call.offered", result="applied").exists()
    assert not CallEvent.objects.filter(response_status__gte=500).exists()
    # It stopped by itself and left the floor tidy: nobody holds a call, every call is over.
    assert set(AgentPresence.objects.values_list("state", flat=True)) == {"offline"}
    assert set(Call.objects.values_list("state", flat=True)) <= {"completed", "abandoned"}


@pytest.mark.parametrize("url", ["http://10.1.2.3:8000", "http://example.com", "ftp://127.0.0.1"])
def test_simulator_only_targets_loopback_unless_told(url):
    with pytest.raises(CommandError):
        call_command("simulate_traffic", url=url, duration=1)
