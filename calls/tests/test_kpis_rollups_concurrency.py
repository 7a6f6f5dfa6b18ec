"""The KPI roll-ups on PostgreSQL with real threads and real transactions: folds of the same
half-hours running at once (two beat workers) fail nothing and leave one set of rows, and a
wallboard reading while they replace rows always gets the records' answer."""

import threading

import pytest
from django.db import connection

from calls import kpis
from calls.models import KpiSlot, QueueSlotFigures
from calls.tests.test_kpis_rollups import clock, figures, floor, from_records  # noqa: F401 -- fixtures

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_thread(target, errors):
    def run():
        try:
            target()
        except Exception as exc:  # noqa: BLE001 -- reported by the test
            errors.append(exc)
        finally:
            connection.close()

    return threading.Thread(target=run)


def test_folds_at_once_and_reads_meanwhile_give_the_records_answers(floor, clock):  # noqa: F811 -- fixtures
    expected = from_records(floor)
    errors, seen = [], []
    kpis.rollup_refresh(days=1)
    KpiSlot.objects.update(folded_at=KpiSlot.objects.earliest("start").start)  # every half-hour due again

    def fold():
        kpis.rollup_refresh(days=1)

    def read():
        for _ in range(15):
            seen.append(figures(floor))

    threads = [_in_thread(fold, errors) for _ in range(3)] + [_in_thread(read, errors) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert KpiSlot.objects.count() == 48
    assert QueueSlotFigures.objects.count() == QueueSlotFigures.objects.values("slot", "queue").distinct().count()
    assert len(seen) == 30 and all(result == expected for result in seen)
    assert figures(floor) == expected
