"""Benchmark: import 100,000 clients from CSV, against a COPY of the same file in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clients_dev \
        .venv/bin/python bench/clients/bench_import.py [--rows 100000] [--repeat 3]

Creates a scratch database (bench_clients, see benchdb.py), writes a CSV of generated
French clients (numbers in national format with spaces, 1 % of rows repeating an earlier
number so merges happen), then, `--repeat` times each and alternating:
- baseline: COPY of the raw file into a plain table of text columns (psycopg 3
  cursor.copy, FORMAT csv), in a fresh process;
- ours: clients.services.clients_import (normalising, checking, merging, all or
  nothing) into the empty client tables, in a fresh process;
- floor: the rows the import just wrote, already in their final form (read back with
  COPY TO before the clock starts), COPYed again into the emptied client and number
  tables and committed, in a fresh process. No reading, checking or merging: what
  PostgreSQL alone needs to store these rows in the real tables (indexes, foreign keys
  checked at commit), the part of the import no Python work can remove.
Each run reports its wall time, the import's own CPU time (the machine may be shared: the
wall time then moves with the load, the CPU time much less) and the process's peak RSS
(getrusage ru_maxrss, which includes the Python interpreter and Django). Prints medians; exit status 0 when the
median import is within 5x the median COPY and under 300 MB.
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchdb  # noqa: E402

TARGET_RATIO = 5
TARGET_MB = 300
HEADER = (
    "full_name,phone,email,address_line,postal_code,city,country,preferred_language,time_zone,"
    "current_provider,segment,tags,do_not_call,marketing_consent,notes"
)
FIRST = ["Jeanne", "Pierre", "Marie", "Louis", "Camille", "Nicolas", "Sophie", "Julien", "Céline", "Olivier", "Inès"]
LAST = ["Lemoine", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas"]
STREETS = ["rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gambetta", "rue Pasteur"]
CITIES = [("75011", "Paris"), ("69003", "Lyon"), ("13006", "Marseille"), ("31000", "Toulouse"), ("59000", "Lille")]
PROVIDERS = ["Orange", "SFR", "Bouygues Telecom", "Free", ""]


def write_csv(path: Path, rows: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        for i in range(rows):
            # 1 % of the rows repeat an earlier number: merged into that client.
            n = rng.randrange(i) if i > 100 and rng.random() < 0.01 else i
            digits = f"{6 if n % 2 else 7}{(12_000_000 + n * 37) % 100_000_000:08d}"
            if digits[0] == "7":
                digits = "7" + str(3 + n % 6) + digits[2:]  # 073–078: French mobile ranges
            phone = "0" + " ".join([digits[0], digits[1:3], digits[3:5], digits[5:7], digits[7:9]])
            postal_code, city = CITIES[i % len(CITIES)]
            first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
            out.write(
                ",".join(
                    [
                        f"{first} {last}",
                        phone,
                        f"client{i}@example.test",
                        f'"{1 + i % 150} {STREETS[i % len(STREETS)]}"',
                        postal_code,
                        city,
                        "FR",
                        "fr" if i % 3 else "",
                        "",
                        PROVIDERS[i % len(PROVIDERS)],
                        "particulier",
                        "fibre-eligible" if i % 2 else "",
                        "no",
                        "yes" if i % 4 else "no",
                        "",
                    ]
                )
                + "\n"
            )


# --- Workers (run in a fresh process each) -------------------------------------------------


def work_copy(url: str, csv_path: str) -> dict:
    import psycopg

    columns = HEADER.split(",")
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_baseline")
        conn.execute("CREATE TABLE bench_copy_baseline (" + ", ".join(f"{c} text" for c in columns) + ")")
        conn.commit()
        start = time.perf_counter()
        sql = "COPY bench_copy_baseline FROM STDIN WITH (FORMAT csv, HEADER true)"
        with conn.cursor() as cursor, open(csv_path, "rb") as source, cursor.copy(sql) as copy:
            while chunk := source.read(1 << 16):
                copy.write(chunk)
        conn.commit()
        elapsed = time.perf_counter() - start
        rows = conn.execute("SELECT count(*) FROM bench_copy_baseline").fetchone()[0]
    return {"seconds": elapsed, "rows": rows, "max_rss_mb": _max_rss_mb()}


def work_import(url: str, csv_path: str) -> dict:
    benchdb.setup_django(url)
    from django.db import connection

    from agents.models import Language
    from clients.services import clients_import

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE clients_clientphone, clients_donotcallnumber, clients_campaignmember, clients_client CASCADE"
        )
    Language.objects.get_or_create(code="fr", defaults={"name": "Français"})
    start, cpu = time.perf_counter(), time.process_time()
    with open(csv_path, "rb") as source:
        report = clients_import(source)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if not report.committed:
        raise SystemExit(f"import failed: {report.file_errors or report.rejected[:3]}")
    return {"seconds": elapsed, "cpu_s": cpu, "counts": report.counts, "max_rss_mb": _max_rss_mb()}


def work_floor(url: str, csv_path: str) -> dict:
    import psycopg

    clients_columns = (
        "id, full_name, email, address_line, postal_code, city, country, preferred_language_id, time_zone, "
        "current_provider, segment, tags, do_not_call, marketing_consent, notes, created_at, updated_at"
    )
    with psycopg.connect(url) as conn:
        tables = {}
        with conn.cursor() as cursor:
            for table, columns in (
                ("clients_client", clients_columns),
                ("clients_clientphone", "client_id, number, label"),  # ids from the sequence, as in the import
            ):
                with cursor.copy(f"COPY (SELECT {columns} FROM {table}) TO STDOUT") as copy:  # noqa: S608 -- constants
                    tables[table] = (columns, b"".join(bytes(block) for block in copy))
        if not tables["clients_client"][1]:
            raise SystemExit("floor: run after an import (nothing to copy back)")
        conn.execute(
            "TRUNCATE clients_clientphone, clients_donotcallnumber, clients_campaignmember, clients_client CASCADE"
        )
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cursor:
            for table, (columns, data) in tables.items():
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    copy.write(data)
        conn.commit()
        elapsed = time.perf_counter() - start
        rows = conn.execute("SELECT count(*) FROM clients_client").fetchone()[0]
    return {"seconds": elapsed, "rows": rows, "max_rss_mb": _max_rss_mb()}


def _max_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_worker(kind: str, url: str, csv_path: Path) -> dict:
    done = subprocess.run(  # noqa: S603 -- this script with our own arguments
        [sys.executable, __file__, "--worker", kind, "--url", url, "--csv", str(csv_path)],
        check=True,
        capture_output=True,
        text=True,
        env=benchdb.bench_env(url),
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", choices=["copy", "import", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        work = {"copy": work_copy, "import": work_import, "floor": work_floor}[args.worker]
        print(json.dumps(work(args.url, args.csv)))
        return 0

    url = benchdb.bench_database_url()
    print(f"Scratch database: {url.rsplit('/', 1)[-1]} (created fresh, migrated)")
    benchdb.create_fresh(url)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "clients.csv"
        write_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"CSV: {args.rows} rows, {size_mb:.1f} MB")
        copies, imports, floors = [], [], []
        for i in range(args.repeat):
            copies.append(run_worker("copy", url, csv_path))
            imports.append(run_worker("import", url, csv_path))
            floors.append(run_worker("floor", url, csv_path))
            print(
                f"  run {i + 1}: COPY {copies[-1]['seconds']:.2f} s ({copies[-1]['max_rss_mb']:.0f} MB)"
                f" | import {imports[-1]['seconds']:.2f} s (Python CPU {imports[-1]['cpu_s']:.2f} s,"
                f" {imports[-1]['max_rss_mb']:.0f} MB) {imports[-1]['counts']}"
                f" | floor {floors[-1]['seconds']:.2f} s"
            )
    copy_s = statistics.median(r["seconds"] for r in copies)
    import_s = statistics.median(r["seconds"] for r in imports)
    floor_s = statistics.median(r["seconds"] for r in floors)
    import_mb = statistics.median(r["max_rss_mb"] for r in imports)
    ratio = import_s / copy_s
    print(f"Median COPY baseline: {copy_s:.2f} s, peak RSS {statistics.median(r['max_rss_mb'] for r in copies):.0f} MB")
    print(f"Median import:        {import_s:.2f} s, peak RSS {import_mb:.0f} MB")
    print(
        f"Median floor:         {floor_s:.2f} s = {floor_s / copy_s:.1f}x COPY (the same rows, final form, "
        f"COPYed into the real tables: PostgreSQL's share alone)"
    )
    print(f"Import / COPY: {ratio:.1f}x (target ≤ {TARGET_RATIO}x); memory target < {TARGET_MB} MB")
    ok = ratio <= TARGET_RATIO and import_mb < TARGET_MB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
