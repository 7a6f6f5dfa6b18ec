"""Import of bought or exported client lists from CSV.

One service for the admin upload and `manage.py import_clients`:

- the file is streamed in batches (lines decoded a block at a time, rows checked one by
  one, written per batch), so 100,000 rows stay well under 300 MB;
- numbers are normalised to E.164 (phonenumbers decides; see import_rows.number_normaliser
  for the cheap path it takes for the center's own country); a row whose number is already a
  client's is merged into that client (the file fills the blanks, adds numbers and tags,
  may set do-not-call or withdraw marketing consent, never the reverse); rows of the file
  that share a number are merged together;
- a row with a do-not-call number (on the list, or a do-not-call client's) is skipped;
- by default all or nothing: one rejected row and the transaction is rolled back, the
  report listing every rejected row and why; with skip_invalid the valid rows are
  written and the rest reported.

Speed (issue #5: 100,000 rows against a COPY of the same file). Rows are read and checked
in import_rows.py at a few microseconds each. On PostgreSQL each batch costs two look-ups
(numbers already stored or on the do-not-call list; ids for the new clients) and two
COPYs straight into the client and number tables, sent by a writer thread while the next
batch is read and checked, so PostgreSQL's work and Python's overlap on two cores. (A
staging table and INSERT … SELECT was measured slower: every row is then written twice,
and the second write cannot overlap with reading the file; see docs/clients.md.)
"""

import csv
import gc
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import CampaignMember, Client, ClientPhone, DoNotCallNumber
from .import_rows import (
    ADDRESS_LINE,
    CITY,
    CLIENT_FIELDS,
    COLUMNS,
    CONSENT,
    COUNTRY,
    CURRENT_PROVIDER,
    DO_NOT_CALL,
    EMAIL,
    ESCAPE,
    FILLABLE,
    FULL_NAME,
    LANGUAGE,
    LINE,
    MERGE_FIELDS,
    NOTES,
    NUMBERS,
    PK,
    POSTAL_CODE,
    SEGMENT,
    STORED,
    TAGS,
    TIME_ZONE,
    check_columns,
    decoded_lines,
    read_header,
    row_checker,
    tag_list,
)

__all__ = ["COLUMNS", "BATCH_SIZE", "ImportReport", "RowResult", "RowStatus", "clients_import"]

# Rows read, checked and written together. Larger batches mean fewer round trips; each
# batch's clients are held in memory until written.
BATCH_SIZE = 5000


class RowStatus:
    CREATED = "created"  # a new client
    MERGED = "merged"  # added to an existing client (or to an earlier row of the file)
    SKIPPED = "skipped"  # a do-not-call number: not imported, the client left untouched
    REJECTED = "rejected"  # invalid: nothing written for this row


@dataclass(slots=True)
class RowResult:
    line: int  # line of the file (the header is line 1)
    status: str
    client_id: int | None = None
    messages: tuple[str, ...] = ()


@dataclass
class ImportReport:
    """What an import did, row by row. `committed` is False when nothing was written."""

    skip_invalid: bool
    rows: list[RowResult] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    committed: bool = False

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((RowStatus.CREATED, RowStatus.MERGED, RowStatus.SKIPPED, RowStatus.REJECTED), 0)
        for row in self.rows:
            counts[row.status] += 1
        return counts

    @property
    def rejected(self) -> list[RowResult]:
        return [row for row in self.rows if row.status == RowStatus.REJECTED]

    @property
    def ok(self) -> bool:
        return self.committed and not self.file_errors

    def summary(self) -> str:
        counts = self.counts
        text = (
            _("%(created)d created, %(merged)d merged, %(skipped)d skipped (do not call), %(rejected)d rejected.")
            % counts
        )
        if self.file_errors or not self.committed:
            text += " " + _("Nothing was written.")
        return text


class _Rollback(Exception):
    """Raised inside the transaction to undo an all-or-nothing import with a rejected row."""


def _merge(client: list, row: list) -> list[str]:
    """Fill the client's blanks from the row; say what changed."""
    changes = []
    for position, name in FILLABLE:
        value = row[position]
        if value and not client[position]:
            client[position] = value
            changes.append(name)
    if row[TAGS]:
        tags = tag_list(client[TAGS])
        added = [t for t in row[TAGS].split(",") if t not in tags]
        if added:
            client[TAGS] = ",".join(tags + added)[:255]
            changes.append("tags")
    note = row[NOTES]
    if note and note not in client[NOTES]:
        client[NOTES] = f"{client[NOTES]}\n{note}".strip()
        changes.append("notes")
    if row[DO_NOT_CALL] and not client[DO_NOT_CALL]:
        client[DO_NOT_CALL] = True
        changes.append("do_not_call")
    # A list may withdraw a consent, never give one the client did not give us.
    if row[CONSENT] is False and client[CONSENT]:
        client[CONSENT] = False
        changes.append("marketing_consent")
    if row[ESCAPE]:
        client[ESCAPE] = True
    return changes


# --- Writing ------------------------------------------------------------------------------


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_line(c: list, stamp: str) -> str:
    """A new client as a line of COPY's text format (one f-string: psycopg's write_row adapts
    value by value, which costs more than the rest of the insert)."""
    if c[ESCAPE]:
        t = _copy_text
        return (
            f"{c[PK]}\t{t(c[FULL_NAME])}\t{t(c[EMAIL])}\t{t(c[ADDRESS_LINE])}\t{t(c[POSTAL_CODE])}\t{t(c[CITY])}\t"
            f"{t(c[COUNTRY])}\t{t(c[LANGUAGE])}\t{t(c[TIME_ZONE])}\t{t(c[CURRENT_PROVIDER])}\t{t(c[SEGMENT])}\t"
            f"{t(c[TAGS])}\t{'t' if c[DO_NOT_CALL] else 'f'}\t{'t' if c[CONSENT] else 'f'}\t{t(c[NOTES])}\t"
            f"{stamp}\t{stamp}\n"
        )
    return (
        f"{c[PK]}\t{c[FULL_NAME]}\t{c[EMAIL]}\t{c[ADDRESS_LINE]}\t{c[POSTAL_CODE]}\t{c[CITY]}\t{c[COUNTRY]}\t"
        f"{c[LANGUAGE] or NULL}\t{c[TIME_ZONE]}\t{c[CURRENT_PROVIDER]}\t{c[SEGMENT]}\t{c[TAGS]}\t"
        f"{'t' if c[DO_NOT_CALL] else 'f'}\t{'t' if c[CONSENT] else 'f'}\t{c[NOTES]}\t{stamp}\t{stamp}\n"
    )


NULL = "\\N"


def _copy_text(value: str | None) -> str:
    return NULL if value is None else value.translate(_COPY_ESCAPES)


class _Batch:
    """What resolving one batch decided, for the database to write."""

    __slots__ = ("created", "phones", "updated", "do_not_call")

    def __init__(self):
        self.created: list[list] = []  # new clients, in file order
        self.phones: list[tuple[list, str]] = []  # (client, number) for every number new to the base
        self.updated: dict[int, list] = {}  # stored clients a row merged into, by id
        self.do_not_call: list[list] = []  # clients of rows saying do-not-call


class _PostgresStore:
    """Reads and writes on PostgreSQL. Writes go to a thread of their own that sends the
    COPYs while the caller reads and checks the next batch; every read first waits for
    the writes in flight, so the connection is used by one thread at a time and a read
    sees everything written before it."""

    def __init__(self):
        connection.ensure_connection()
        self.raw = connection.connection  # psycopg's connection, in the service's transaction
        self.sequence = None
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clients-import")
        self.in_flight: Future | None = None
        # The foreign keys of the rows written (number → client, client → language) are
        # checked at commit by default: 100,000 checks that would then run after the whole
        # file, alone. Checked at the end of each COPY instead, they run in the writer
        # thread while Python reads the next batch. Put back as they were at the end.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferred AND conrelid = ANY(%s::regclass[])",
                [[Client._meta.db_table, ClientPhone._meta.db_table]],
            )
            self.deferred = ", ".join(connection.ops.quote_name(name) for (name,) in cursor.fetchall())
            if self.deferred:
                cursor.execute(f"SET CONSTRAINTS {self.deferred} IMMEDIATE")

    def wait(self) -> None:
        if self.in_flight is not None:
            future, self.in_flight = self.in_flight, None
            with connection.wrap_database_errors:
                future.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.pool.shutdown()
        from psycopg.pq import TransactionStatus  # PostgreSQL only: not imported for SQLite

        if self.deferred and self.raw.info.transaction_status != TransactionStatus.INERROR:
            with connection.cursor() as cursor:
                cursor.execute(f"SET CONSTRAINTS {self.deferred} DEFERRED")

    def look_up(self, numbers: list[str]) -> tuple[list[tuple[str, int]], set[str]]:
        """(number, client id) of the numbers already stored, and those on the do-not-call list."""
        self.wait()
        if not numbers:
            return [], set()
        with connection.cursor() as cursor:
            # One text parameter split by the server: psycopg adapting a list of 5,000
            # strings costs more than the query.
            cursor.execute(
                f"SELECT number, client_id FROM {ClientPhone._meta.db_table} "  # noqa: S608 -- table names from the models, values bound
                f"WHERE number = ANY(string_to_array(%s, ',')) "
                f"UNION ALL SELECT number, NULL FROM {DoNotCallNumber._meta.db_table} "
                f"WHERE number = ANY(string_to_array(%s, ','))",
                [",".join(numbers)] * 2,
            )
            rows = cursor.fetchall()
        return [row for row in rows if row[1] is not None], {number for number, owner in rows if owner is None}

    def load(self, ids: Iterable[int]) -> list[list]:
        """The stored clients with these ids, as client lists (the fields a merge reads)."""
        self.wait()
        columns = ", ".join(["id", *MERGE_FIELDS])
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {Client._meta.db_table} WHERE id = ANY(%s)",  # noqa: S608 -- as above
                [list(ids)],
            )
            return [_stored(row) for row in cursor.fetchall()]

    def assign_ids(self, clients: list[list]) -> None:
        """Take ids for the new clients from the table's sequence (in file order)."""
        self.wait()
        if not clients:
            return
        if self.sequence is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Client._meta.db_table])
                self.sequence = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            # One text value for all the ids: fetching them as rows costs several times more.
            cursor.execute(
                "SELECT string_agg(nextval(%s)::text, ',' ORDER BY n) FROM generate_series(1, %s) AS n",
                [self.sequence, len(clients)],
            )
            ids = cursor.fetchone()[0].split(",")
        for client, pk in zip(clients, ids, strict=True):
            client[PK] = int(pk)

    def write(self, batch: _Batch) -> None:
        """Send the batch's new clients and numbers (COPY) and its merges (one UPDATE) from
        the writer thread; the text is built here, in the caller's thread."""
        self.wait()
        stamp = timezone.now().isoformat()
        clients = "".join([_copy_line(c, stamp) for c in batch.created])
        phones = "".join([f"{c[PK]}\t{number}\t\n" for c, number in batch.phones])
        updated = list(batch.updated.values())
        self.in_flight = self.pool.submit(self._write, clients, phones, updated)

    def _write(self, clients: str, phones: str, updated: list[list]) -> None:
        with self.raw.cursor() as cursor:
            if clients:
                columns = ", ".join(("id", *CLIENT_FIELDS, "created_at", "updated_at"))
                with cursor.copy(f"COPY {Client._meta.db_table} ({columns}) FROM STDIN") as copy:
                    copy.write(clients)
            if phones:
                with cursor.copy(f"COPY {ClientPhone._meta.db_table} (client_id, number, label) FROM STDIN") as copy:
                    copy.write(phones)
            if updated:
                # bulk_update's CASE WHEN per row and column is the slow part of a merge-heavy
                # file: one UPDATE … FROM unnest(arrays) instead.
                names = list(MERGE_FIELDS)
                arrays = [[c[PK] for c in updated]] + [[c[MERGE_FIELDS[name]] for c in updated] for name in names]
                types = ", ".join(
                    ["%s::bigint[]"]
                    + [
                        f"%s::{'boolean' if name in ('do_not_call', 'marketing_consent') else 'text'}[]"
                        for name in names
                    ]
                )
                assignments = ", ".join(f"{name} = m.{name}" for name in names)
                cursor.execute(
                    # Table and column names come from the model; every value is a bound array.
                    f"UPDATE {Client._meta.db_table} AS c SET {assignments}, updated_at = now() "  # noqa: S608
                    f"FROM unnest({types}) AS m(id, {', '.join(names)}) WHERE c.id = m.id",
                    arrays,
                )


class _OrmStore:
    """Reads and writes through the ORM, for the other databases (SQLite in the embedded mode)."""

    def wait(self) -> None:
        pass

    def close(self) -> None:
        pass

    def look_up(self, numbers: list[str]) -> tuple[list[tuple[str, int]], set[str]]:
        owners = list(ClientPhone.objects.filter(number__in=numbers).values_list("number", "client_id"))
        return owners, set(DoNotCallNumber.objects.filter(number__in=numbers).values_list("number", flat=True))

    def load(self, ids: Iterable[int]) -> list[list]:
        return [_stored(row) for row in Client.objects.filter(pk__in=list(ids)).values_list("pk", *MERGE_FIELDS)]

    def assign_ids(self, clients: list[list]) -> None:
        pass  # bulk_create gives them

    def write(self, batch: _Batch) -> None:
        made = Client.objects.bulk_create([_model(c) for c in batch.created], batch_size=1000)
        for client, model in zip(batch.created, made, strict=True):
            client[PK] = model.pk
        ClientPhone.objects.bulk_create(
            [ClientPhone(client_id=c[PK], number=number) for c, number in batch.phones], batch_size=1000
        )
        if batch.updated:
            now = timezone.now()
            Client.objects.bulk_update(
                [
                    Client(pk=pk, updated_at=now, **{name: c[at] for name, at in MERGE_FIELDS.items()})
                    for pk, c in batch.updated.items()
                ],
                [*MERGE_FIELDS, "updated_at"],
                batch_size=1000,
            )


def _model(c: list) -> Client:
    values = {name: c[at] for name, at in CLIENT_FIELDS.items()}
    values["marketing_consent"] = bool(values["marketing_consent"])
    return Client(**values)


def _stored(row: tuple) -> list:
    """A stored client (id, then MERGE_FIELDS' columns) as a client list."""
    client = [None] * (STORED + 1)
    client[PK] = row[0]
    for at, value in zip(MERGE_FIELDS.values(), row[1:], strict=True):
        client[at] = value
    client[STORED] = True
    client[ESCAPE] = False
    return client


class _Writer:
    """Resolves and writes checked rows batch by batch.

    `owner` maps every number written so far (already in the database, or by an earlier
    batch of this file) to its client's id; only the current batch's clients are held in
    memory. A batch looks up its numbers, decides row by row (created, merged, skipped,
    rejected) in file order, then inserts its new clients and their numbers and updates
    the stored clients it merged rows into.
    """

    def __init__(self, store, report: ImportReport, progress):
        self.store = store
        self.report = report
        self.progress = progress
        self.owner: dict[str, int] = {}
        self.do_not_call_numbers: set[str] = set()  # on the list, among the numbers looked up
        self.created_at_line: dict[int, int] = {}  # client id → the line of this file that created it
        self.do_not_call_clients: set[int] = set()  # clients of rows saying do-not-call

    def label(self, client: list) -> str:
        if client[LINE] is not None:
            return _("the client of line %(line)d") % {"line": client[LINE]}
        return _("client #%(id)d") % {"id": client[PK]}

    def write(self, rows: list) -> None:
        owner = self.owner
        known, unknown = [], set()
        for row in rows:
            if row.__class__ is list:
                for n in row[NUMBERS]:
                    if n in owner:
                        known.append(n)
                    else:
                        unknown.add(n)
        found, dnc = self.store.look_up(list(unknown))
        owner.update(found)
        dnc_numbers = self.do_not_call_numbers
        dnc_numbers |= dnc
        # Clients stored before this batch that its rows name (merges: rare) are loaded whole.
        named = {owner[n] for n in known} | {pk for _number, pk in found}
        stored = {}
        if named:
            for client in self.store.load(named):
                client[LINE] = self.created_at_line.get(client[PK])
                stored[client[PK]] = client

        batch = _Batch()
        created, phones = batch.created, batch.phones
        pending: dict[str, list] = {}  # numbers first seen in this batch → their client
        # (row result, client) in file order; the result of a new client is made once it has its id.
        results: list[tuple[RowResult | None, list | None]] = []
        for row in rows:
            if row.__class__ is RowResult:  # rejected while checked
                results.append((row, None))
                continue
            numbers = row[NUMBERS]
            if len(numbers) == 1:
                n = numbers[0]
                if n not in pending and n not in owner and n not in dnc_numbers:
                    # The common case: a number nobody has. A new client.
                    created.append(row)
                    pending[n] = row
                    phones.append((row, n))
                    results.append((None, row))
                    if row[DO_NOT_CALL]:
                        batch.do_not_call.append(row)
                    continue
            results.append(self._resolve(row, pending, stored, batch))

        self.store.assign_ids(created)
        self.store.write(batch)  # on PostgreSQL, in flight while the next batch is read
        for number, client in pending.items():
            owner[number] = client[PK]
        created_at_line = self.created_at_line
        for client in created:
            created_at_line[client[PK]] = client[LINE]
        self.do_not_call_clients.update(client[PK] for client in batch.do_not_call)
        append, progress = self.report.rows.append, self.progress
        for result, client in results:
            if result is None:
                result = RowResult(client[LINE], RowStatus.CREATED, client[PK])
            elif client is not None:
                result.client_id = client[PK]
            append(result)
            if progress:
                progress(result)

    def _resolve(self, row: list, pending: dict[str, list], stored: dict[int, list], batch: _Batch) -> tuple:
        """(row result, client) of a row whose numbers are not all new, or that has several."""
        owner, line, numbers = self.owner, row[LINE], row[NUMBERS]
        owners = {}
        skip = False
        for n in numbers:
            if n in self.do_not_call_numbers:
                skip = True
            client = pending.get(n)
            if client is None and n in owner:
                client = stored[owner[n]]
            if client is not None:
                owners[id(client)] = client
                if client[DO_NOT_CALL]:
                    skip = True
        if skip:
            return RowResult(line, RowStatus.SKIPPED, messages=(_("do-not-call number"),)), None
        if len(owners) > 1:
            labels = ", ".join(sorted(self.label(c) for c in owners.values()))
            message = _("its numbers belong to different clients (%s)") % labels
            return RowResult(line, RowStatus.REJECTED, messages=(message,)), None
        if owners:
            (client,) = owners.values()
            added = [n for n in numbers if n not in pending and n not in owner]
            changes = _merge(client, row)
            if changes and client[STORED]:
                batch.updated[client[PK]] = client  # a row that changes nothing leaves updated_at alone
            if added:
                changes.append(_("%(count)d number(s) added") % {"count": len(added)})
            message = _("merged into %(client)s") % {"client": self.label(client)}
            if changes:
                message += " (" + ", ".join(changes) + ")"
            result = RowResult(line, RowStatus.MERGED, messages=(message,))
        else:
            client, added, result = row, numbers, None
            batch.created.append(client)
        for n in added:
            pending[n] = client
            batch.phones.append((client, n))
        if row[DO_NOT_CALL]:
            batch.do_not_call.append(client)
        return result, client

    def finish(self, *, by) -> None:
        self.store.close()
        if self.do_not_call_clients:
            _honour_do_not_call(sorted(self.do_not_call_clients), by=by)


def _honour_do_not_call(client_ids: list[int], *, by) -> None:
    """Rows that say do-not-call: every number of those clients on the list, out of every queue."""
    for start in range(0, len(client_ids), 5000):
        chunk = client_ids[start : start + 5000]
        DoNotCallNumber.objects.bulk_create(
            [
                DoNotCallNumber(number=number, client_id=client_id, source="import", created_by=by)
                for number, client_id in ClientPhone.objects.filter(client_id__in=chunk).values_list(
                    "number", "client_id"
                )
            ],
            ignore_conflicts=True,
        )
        CampaignMember.objects.filter(client_id__in=chunk).update(
            state=CampaignMember.State.EXCLUDED, locked_until=None
        )


# --- The service ------------------------------------------------------------------------


def clients_import(
    file: BinaryIO | Iterable[bytes],
    *,
    skip_invalid: bool = False,
    by=None,
    progress: Callable[[RowResult], None] | None = None,
) -> ImportReport:
    """Import clients from a CSV file (bytes, UTF-8) and report every row.

    All or nothing unless skip_invalid: a file with a wrong header, a line that is not
    UTF-8 or any invalid row writes nothing. Do-not-call numbers are skipped, never reset.
    """
    report = ImportReport(skip_invalid=skip_invalid)
    bad_lines: dict[int, str] = {}
    lines = decoded_lines(file, bad_lines)
    columns, delimiter, error = read_header(lines)
    if error:
        report.file_errors.append(error)
        return report
    if 1 in bad_lines:
        report.file_errors.append(bad_lines[1])
        return report
    column_errors = check_columns(columns)
    if column_errors:
        report.file_errors.extend(column_errors)
        return report

    with _cyclic_gc_paused():
        _import_rows(report, lines, bad_lines, columns, delimiter, by=by, progress=progress)
    return report


@contextmanager
def _cyclic_gc_paused():
    """Pause Python's cyclic garbage collector during an import.

    An import allocates a few containers per row and keeps a result for every row; the
    collector would walk them (and every object Django holds) again and again as they pile
    up: 40 % of the import's Python time, measured. They form no reference cycles, so
    reference counting frees them as before. The pause is process-wide: other threads'
    cycles wait the few seconds of the import, and are collected when it ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import_rows(report: ImportReport, lines, bad_lines, columns, delimiter, *, by, progress) -> None:
    """The rows after the header: checked, merged and written in one transaction, or nothing."""
    skip_invalid = report.skip_invalid
    check = row_checker(columns)
    reader = csv.reader(lines, delimiter=delimiter)
    width = len(columns)
    try:
        with transaction.atomic():
            store = _PostgresStore() if connection.vendor == "postgresql" else _OrmStore()
            writer = _Writer(store, report, progress)
            try:
                batch_size = BATCH_SIZE
                batch: list = []
                rejected = False
                last_line = 1  # the header
                for cells in reader:
                    # line_num counts the lines the reader took (a quoted value may span several).
                    line, last_line = last_line + 1, reader.line_num + 1
                    if not "".join(cells).strip():
                        continue  # blank line (or only delimiters)
                    if bad_lines and (bad := [bad_lines[n] for n in range(line, last_line + 1) if n in bad_lines]):
                        row = RowResult(line, RowStatus.REJECTED, messages=tuple(bad))
                    elif len(cells) != width:
                        message = _("%(found)d fields where the header has %(expected)d") % {
                            "found": len(cells),
                            "expected": width,
                        }
                        row = RowResult(line, RowStatus.REJECTED, messages=(message,))
                    else:
                        row = check(line, cells)
                        if row[0].__class__ is str:  # its errors
                            row = RowResult(line, RowStatus.REJECTED, messages=tuple(row))
                    # A rejected row keeps its place in the batch, so the report stays in file
                    # order and a file with many bad rows is still written in full batches.
                    batch.append(row)
                    if len(batch) >= batch_size:
                        writer.write(batch)
                        batch = []
                if batch:
                    writer.write(batch)
            finally:
                store.close()
            writer.finish(by=by)
            rejected = any(r.status == RowStatus.REJECTED for r in report.rows)
            if not report.rows:
                report.file_errors.append(_("The file has no rows."))
                raise _Rollback
            if rejected and not skip_invalid:
                raise _Rollback
    except _Rollback:
        for result in report.rows:
            result.client_id = None
        return
    except csv.Error as exc:
        report.file_errors.append(
            _("The file is not valid CSV (line %(line)d: %(error)s).") % {"line": reader.line_num + 1, "error": exc}
        )
        return
    report.committed = True
