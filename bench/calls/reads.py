"""The long dashboard reads of the benchmark, run inside Django (bench settings) beside the
server: BENCH_READERS threads (4), each a supervisor's dashboard left open, reading the
product's dashboard figures (calls.selectors.wallboard_for_user, as the wallboard and the
dashboard pages do) inside REPEATABLE READ transactions of 5 s. They read at the pace of a
page on a busy floor, which re-reads after pushes at most every half second
(calls/static/calls/wallboard.js): every 0.5 s (BENCH_READS_PAUSE_S). Each transaction
holds its snapshot the whole time, which holds back the clean-up of the rows that routing
updates. Touches the file named by BENCH_READY once its readers started, runs until the
file named by BENCH_READS_STOP exists, then prints what it read."""

import os
import threading
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from calls import selectors

STOP = Path(os.environ["BENCH_READS_STOP"])
READERS = int(os.environ.get("BENCH_READERS", "4"))
PAUSE_S = float(os.environ.get("BENCH_READS_PAUSE_S", "0.5"))
manager = get_user_model().objects.get(username="bench-manager")
counts = [[0, 0, 0.0] for _ in range(READERS)]  # transactions, dashboard reads, seconds reading


def reader(n: int) -> None:
    time.sleep(n * 5 / READERS)  # staggered: at every moment one snapshot is up to 5 s old
    try:
        while not STOP.exists():
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                until = time.monotonic() + 5
                while time.monotonic() < until and not STOP.exists():
                    started = time.perf_counter()
                    selectors.wallboard_for_user(user=manager)
                    counts[n][1] += 1
                    counts[n][2] += time.perf_counter() - started
                    time.sleep(PAUSE_S)  # until the next push asks again; the snapshot stays open
            counts[n][0] += 1
    finally:
        connection.close()


threads = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
for thread in threads:
    thread.start()
Path(os.environ["BENCH_READY"]).touch()  # started: the bench starts its senders now
for thread in threads:
    thread.join()
transactions, reads, seconds = (sum(column) for column in zip(*counts, strict=True))
print(
    f"reads: {transactions} transactions, {reads} dashboard reads, "
    f"{1000 * seconds / max(reads, 1):.1f} ms each on average",
    flush=True,
)
