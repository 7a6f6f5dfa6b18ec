"""Import of bought or exported client lists from CSV.

One service for the admin upload and `manage.py import_clients`:

- the file is streamed (a line at a time, bulk writes per batch), so 100,000 rows
  stay well under 300 MB;
- numbers are normalised to E.164; a row whose number is already a client's is merged
  into that client (the file fills the blanks, adds numbers and tags, may set
  do-not-call or withdraw marketing consent, never the reverse); rows of the file that
  share a number are merged together;
- a row with a do-not-call number (on the list, or a do-not-call client's) is skipped;
- by default all or nothing: one rejected row and the transaction is rolled back, the
  report listing every rejected row and why; with skip_invalid the valid rows are
  written and the rest reported.
"""

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Language

from ..dialing import is_known_zone
from ..models import CampaignMember, Client, ClientPhone, DoNotCallNumber
from ..numbers import E164Normaliser

BATCH_SIZE = 1000

REQUIRED_COLUMNS = ("full_name", "phone")
OPTIONAL_COLUMNS = (
    "email",
    "address_line",
    "postal_code",
    "city",
    "country",
    "preferred_language",
    "time_zone",
    "current_provider",
    "segment",
    "tags",
    "do_not_call",
    "marketing_consent",
    "notes",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Text fields a merge may fill when the client's own value is empty.
FILLABLE = (
    "email",
    "address_line",
    "postal_code",
    "city",
    "preferred_language_id",
    "time_zone",
    "current_provider",
    "segment",
)
MAX_LENGTHS = {
    "full_name": 200,
    "email": 254,
    "address_line": 255,
    "postal_code": 16,
    "city": 100,
    "current_provider": 100,
    "segment": 50,
    "tags": 255,
}
TRUE_WORDS = {"1", "yes", "y", "true", "oui", "o", "x"}
FALSE_WORDS = {"", "0", "no", "n", "false", "non"}
PHONE_SEPARATORS = re.compile(r"[;|/,]")


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


@dataclass(slots=True)
class _Row:
    line: int
    full_name: str
    numbers: list[str]
    values: dict
    tags: list[str]
    do_not_call: bool
    marketing_consent: bool | None


# --- Reading the file --------------------------------------------------------------


class _Lines:
    """The lines of a binary file decoded as UTF-8 one by one (a BOM is accepted), so a
    line in another encoding is reported by its number instead of failing the file."""

    def __init__(self, binary: Iterable[bytes]):
        self._binary = binary
        self.bad_lines: dict[int, str] = {}
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self._binary:
            self.number += 1
            if self.number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.bad_lines[self.number] = _(
                    "line %(line)d is not UTF-8 (byte 0x%(byte)02x at position %(pos)d): save the file as "
                    "“CSV UTF-8” and import it again"
                ) % {"line": self.number, "byte": raw[exc.start], "pos": exc.start + 1}
                yield raw.decode("utf-8", errors="replace")


def _read_header(lines: Iterator[str]) -> tuple[list[str], str, str | None]:
    """(columns, delimiter, error). The delimiter is "," or ";" (what French spreadsheets write)."""
    try:
        first = next(lines)
    except StopIteration:
        return [], ",", _("The file is empty.")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    header = next(csv.reader([first], delimiter=delimiter), [])
    columns = [name.strip().lower().replace(" ", "_") for name in header]
    return columns, delimiter, None


def _check_columns(columns: list[str]) -> list[str]:
    errors = []
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in COLUMNS]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if missing:
        errors.append(_("Missing column(s): %s.") % ", ".join(missing))
    if unknown:
        errors.append(_("Unknown column(s): %s.") % ", ".join(c or "(empty)" for c in unknown))
    if duplicated:
        errors.append(_("Repeated column(s): %s.") % ", ".join(duplicated))
    if errors:
        errors.append(_("Expected columns: %s (the first two are required).") % ", ".join(COLUMNS))
    return errors


# --- Checking one row ----------------------------------------------------------------


class _Checker:
    def __init__(self):
        self.languages = set(Language.objects.values_list("code", flat=True))
        self.zones: dict[str, bool] = {}
        self.default_region = settings.PHONE_REGION
        self.normalisers: dict[str, E164Normaliser] = {}

    def number(self, raw: str, region: str) -> str | None:
        normaliser = self.normalisers.get(region)
        if normaliser is None:
            normaliser = self.normalisers[region] = E164Normaliser(region)
        return normaliser(raw)

    def boolean(self, raw: str, name: str, errors: list[str]) -> bool | None:
        word = raw.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False if word else None
        errors.append(_("%(column)s: “%(value)s” is not yes or no") % {"column": name, "value": raw})
        return None

    def row(self, line: int, cells: dict[str, str]) -> tuple[_Row | None, list[str]]:
        errors: list[str] = []
        get = cells.get
        full_name = " ".join((get("full_name") or "").split())
        if not full_name:
            errors.append(_("full_name: a name is required"))
        for name, limit in MAX_LENGTHS.items():
            if len(get(name) or "") > limit:
                errors.append(_("%(column)s: at most %(limit)d characters") % {"column": name, "limit": limit})
        country = (get("country") or "").strip().upper() or "FR"
        if not (len(country) == 2 and country.isalpha()):
            errors.append(_("country: “%(value)s” is not a two-letter ISO code") % {"value": get("country")})
            country = "FR"
        region = country if country in phonenumbers.SUPPORTED_REGIONS else self.default_region
        numbers = []
        raw_numbers = [n.strip() for n in PHONE_SEPARATORS.split(get("phone") or "") if n.strip()]
        if not raw_numbers:
            errors.append(_("phone: a phone number is required"))
        for raw in raw_numbers:
            e164 = self.number(raw, region)
            if e164 is None:
                errors.append(_("phone: “%(value)s” is not a valid phone number") % {"value": raw})
            elif e164 not in numbers:
                numbers.append(e164)
        email = (get("email") or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.append(_("email: “%(value)s” is not a valid email address") % {"value": email})
        language = (get("preferred_language") or "").strip().lower()
        if language and language not in self.languages:
            errors.append(_("preferred_language: unknown language code “%(value)s”") % {"value": language})
        zone = (get("time_zone") or "").strip()
        if zone:
            known = self.zones.get(zone)
            if known is None:
                known = self.zones[zone] = is_known_zone(zone)
            if not known:
                errors.append(_("time_zone: “%(value)s” is not a known time zone") % {"value": zone})
        do_not_call = self.boolean(get("do_not_call") or "", "do_not_call", errors)
        consent = self.boolean(get("marketing_consent") or "", "marketing_consent", errors)
        if errors:
            return None, errors
        tags = [t.strip() for t in (get("tags") or "").split(",") if t.strip()]
        values = {
            "email": email,
            "address_line": " ".join((get("address_line") or "").split()),
            "postal_code": (get("postal_code") or "").strip().upper(),
            "city": " ".join((get("city") or "").split()),
            "country": country,
            "preferred_language_id": language or None,
            "time_zone": zone,
            "current_provider": (get("current_provider") or "").strip(),
            "segment": (get("segment") or "").strip(),
            "notes": (get("notes") or "").strip(),
        }
        return _Row(line, full_name, numbers, values, tags, bool(do_not_call), consent), []


# --- Writing ------------------------------------------------------------------------------


class _NewClient:
    """A client this import creates: plain attributes until the batch is written (a Django
    model instance costs about 25 µs to build; 100,000 of them would be the slowest part)."""

    __slots__ = ("pk", "line", "full_name", "tags", "notes", "do_not_call", "marketing_consent", *FILLABLE, "country")

    def __init__(self, row: _Row):
        self.pk = None
        self.line = row.line
        self.full_name = row.full_name
        self.tags = ",".join(row.tags)[:255]
        self.do_not_call = row.do_not_call
        self.marketing_consent = bool(row.marketing_consent)
        for name, value in row.values.items():
            setattr(self, name, value)

    @property
    def tag_list(self) -> list[str]:
        return [tag for tag in self.tags.split(",") if tag]


CLIENT_COLUMNS = (
    "full_name",
    "email",
    "address_line",
    "postal_code",
    "city",
    "country",
    "preferred_language_id",
    "time_zone",
    "current_provider",
    "segment",
    "tags",
    "do_not_call",
    "marketing_consent",
    "notes",
)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str | None) -> str:
    """A text value in COPY's text format."""
    return "\\N" if value is None else value.translate(_COPY_ESCAPES)


def _insert_clients(clients: list[_NewClient]) -> None:
    """Insert the batch's new clients and set their ids. On PostgreSQL with COPY (ids taken
    from the table's sequence first), elsewhere with bulk_create."""
    if not clients:
        return
    now = timezone.now()
    if connection.vendor != "postgresql":
        made = Client.objects.bulk_create(
            [Client(**{name: getattr(c, name) for name in CLIENT_COLUMNS}) for c in clients], batch_size=BATCH_SIZE
        )
        for client, row in zip(clients, made, strict=True):
            client.pk = row.pk
        return
    table = Client._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(clients)]
        )
        for client, (pk,) in zip(clients, cursor.fetchall(), strict=True):
            client.pk = pk
        # The rows in COPY's text format, one f-string each: psycopg's write_row adapts value
        # by value, which cost more than the rest of the insert.
        stamp = now.isoformat()
        t = _text
        text = "".join(
            f"{c.pk}\t{t(c.full_name)}\t{t(c.email)}\t{t(c.address_line)}\t{t(c.postal_code)}\t{t(c.city)}\t"
            f"{t(c.country)}\t{t(c.preferred_language_id)}\t{t(c.time_zone)}\t{t(c.current_provider)}\t"
            f"{t(c.segment)}\t{t(c.tags)}\t{'t' if c.do_not_call else 'f'}\t{'t' if c.marketing_consent else 'f'}\t"
            f"{t(c.notes)}\t{stamp}\t{stamp}\n"
            for c in clients
        )
        columns = ", ".join(("id", *CLIENT_COLUMNS, "created_at", "updated_at"))
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            copy.write(text)


def _insert_phones(phones: list[tuple[int, str]]) -> None:
    if not phones:
        return
    if connection.vendor != "postgresql":
        ClientPhone.objects.bulk_create(
            [ClientPhone(client_id=client_id, number=number) for client_id, number in phones], batch_size=BATCH_SIZE
        )
        return
    table = ClientPhone._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} (client_id, number, label) FROM STDIN") as copy,
    ):
        for client_id, number in phones:
            copy.write_row((client_id, number, ""))


MERGE_COLUMNS = (*FILLABLE, "tags", "notes", "do_not_call", "marketing_consent")
MERGE_TYPES = {"do_not_call": "boolean", "marketing_consent": "boolean"}


def _owners_of(numbers: list[str]) -> list[tuple[str, int]]:
    """(number, client id) of the numbers already stored. On PostgreSQL one array parameter
    (an IN list of a thousand parameters costs more to build than to run)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT number, client_id FROM {ClientPhone._meta.db_table} WHERE number = ANY(%s)",  # noqa: S608 -- table name from the model, values bound
                [numbers],
            )
            return cursor.fetchall()
    return list(ClientPhone.objects.filter(number__in=numbers).values_list("number", "client_id"))


def _do_not_call_among(numbers: list[str]) -> set[str]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT number FROM {DoNotCallNumber._meta.db_table} WHERE number = ANY(%s)",  # noqa: S608 -- as above
                [numbers],
            )
            return {number for (number,) in cursor.fetchall()}
    return set(DoNotCallNumber.objects.filter(number__in=numbers).values_list("number", flat=True))


def _update_merged(clients: list[Client]) -> None:
    """Write the merged clients back. On PostgreSQL one UPDATE … FROM unnest(arrays)
    (bulk_update's CASE WHEN per row and column is the slow part of a merge-heavy file)."""
    if not clients:
        return
    if connection.vendor != "postgresql":
        Client.objects.bulk_update(clients, list(MERGE_COLUMNS), batch_size=BATCH_SIZE)
        return
    arrays = [[c.pk for c in clients]] + [[getattr(c, name) for c in clients] for name in MERGE_COLUMNS]
    types = ", ".join(["%s::bigint[]"] + [f"%s::{MERGE_TYPES.get(name, 'text')}[]" for name in MERGE_COLUMNS])
    assignments = ", ".join(f"{name} = m.{name}" for name in MERGE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            # Table and column names come from the model; every value is a bound array.
            f"UPDATE {Client._meta.db_table} AS c SET {assignments}, updated_at = now() "  # noqa: S608
            f"FROM unnest({types}) AS m(id, {', '.join(MERGE_COLUMNS)}) WHERE c.id = m.id",
            arrays,
        )


class _Writer:
    """Applies checked rows batch by batch.

    `owner` maps every number written so far (already in the database, or by an earlier
    batch of this file) to its client's id; only the current batch's clients are held in
    memory. A batch inserts its new clients, then their numbers, then updates the stored
    clients it merged rows into.
    """

    def __init__(self, by):
        self.by = by
        self.owner: dict[str, int] = {}
        self.created_at_line: dict[int, int] = {}  # client id → the line of this file that created it

    def label(self, client) -> str:
        if isinstance(client, _NewClient) and client.pk is None:
            return _("the client of line %(line)d") % {"line": client.line}
        if client.pk in self.created_at_line:
            return _("the client of line %(line)d") % {"line": self.created_at_line[client.pk]}
        return _("client #%(id)d") % {"id": client.pk}

    def write(self, batch: list["_Row | RowResult"], report: ImportReport, progress) -> None:
        numbers = {n for row in batch if isinstance(row, _Row) for n in row.numbers}
        unknown = [n for n in numbers if n not in self.owner]
        self.owner.update(_owners_of(unknown))
        dnc_numbers = _do_not_call_among(list(numbers))
        # Clients stored before this batch that its rows name: merges (rare) load them whole.
        named = {self.owner[n] for n in numbers if n in self.owner}
        stored = Client.objects.in_bulk(named) if named else {}

        pending: dict[str, _NewClient | Client] = {}  # numbers first seen in this batch → their client
        created: list[_NewClient] = []
        updated: dict[int, Client] = {}
        new_phones: list[tuple[_NewClient | Client, str]] = []
        new_dnc: list[_NewClient | Client] = []
        results: list[tuple[RowResult, _NewClient | Client | None]] = []
        for row in batch:
            if isinstance(row, RowResult):  # rejected while checked
                results.append((row, None))
                continue
            owners: dict[int, _NewClient | Client] = {}
            for n in row.numbers:
                client = pending.get(n) or (stored[self.owner[n]] if n in self.owner else None)
                if client is not None:
                    owners[id(client)] = client
            if any(n in dnc_numbers for n in row.numbers) or any(c.do_not_call for c in owners.values()):
                results.append((RowResult(row.line, RowStatus.SKIPPED, messages=(_("do-not-call number"),)), None))
                continue
            if len(owners) > 1:
                labels = ", ".join(sorted(self.label(c) for c in owners.values()))
                message = _("its numbers belong to different clients (%s)") % labels
                results.append((RowResult(row.line, RowStatus.REJECTED, messages=(message,)), None))
                continue
            added = [n for n in row.numbers if n not in pending and n not in self.owner]
            if owners:
                client = next(iter(owners.values()))
                changes = _merge(client, row)
                if added:
                    changes.append(_("%(count)d number(s) added") % {"count": len(added)})
                if isinstance(client, Client):
                    updated[client.pk] = client
                message = _("merged into %(client)s") % {"client": self.label(client)}
                if changes:
                    message += " (" + ", ".join(changes) + ")"
                status, messages = RowStatus.MERGED, (message,)
            else:
                client = _NewClient(row)
                created.append(client)
                status, messages = RowStatus.CREATED, ()
            for number in added:
                pending[number] = client
                new_phones.append((client, number))
            if row.do_not_call:
                new_dnc.append(client)
            results.append((RowResult(row.line, status, messages=messages), client))

        _insert_clients(created)
        _insert_phones([(client.pk, number) for client, number in new_phones])
        _update_merged(list(updated.values()))
        for number, client in pending.items():
            self.owner[number] = client.pk
        for client in created:
            self.created_at_line[client.pk] = client.line
        if new_dnc:
            _honour_do_not_call({c.pk for c in new_dnc}, by=self.by)
        for result, client in results:
            if client is not None:
                result.client_id = client.pk
            report.rows.append(result)
            if progress:
                progress(result)


def _honour_do_not_call(client_ids: set[int], *, by) -> None:
    """Rows that say do-not-call: every number of those clients on the list, out of every queue."""
    DoNotCallNumber.objects.bulk_create(
        [
            DoNotCallNumber(number=number, client_id=client_id, source="import", created_by=by)
            for number, client_id in ClientPhone.objects.filter(client_id__in=client_ids).values_list(
                "number", "client_id"
            )
        ],
        ignore_conflicts=True,
    )
    CampaignMember.objects.filter(client_id__in=client_ids).update(
        state=CampaignMember.State.EXCLUDED, locked_until=None
    )


def _merge(client: Client, row: _Row) -> list[str]:
    """Fill the client's blanks from the row; say what changed."""
    changes = []
    for name in FILLABLE:
        value = row.values.get(name)
        if value and not getattr(client, name):
            setattr(client, name, value)
            changes.append(name.removesuffix("_id"))
    if row.tags:
        tags = client.tag_list
        added = [t for t in row.tags if t not in tags]
        if added:
            client.tags = ",".join(tags + added)[:255]
            changes.append("tags")
    note = row.values.get("notes")
    if note and note not in client.notes:
        client.notes = f"{client.notes}\n{note}".strip()
        changes.append("notes")
    if row.do_not_call and not client.do_not_call:
        client.do_not_call = True
        changes.append("do_not_call")
    # A list may withdraw a consent, never give one the client did not give us.
    if row.marketing_consent is False and client.marketing_consent:
        client.marketing_consent = False
        changes.append("marketing_consent")
    return changes


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
    lines = _Lines(file)
    line_iter = iter(lines)
    columns, delimiter, error = _read_header(line_iter)
    if error:
        report.file_errors.append(error)
        return report
    if 1 in lines.bad_lines:
        report.file_errors.append(lines.bad_lines[1])
        return report
    column_errors = _check_columns(columns)
    if column_errors:
        report.file_errors.extend(column_errors)
        return report

    checker = _Checker()
    writer = _Writer(by)
    reader = csv.reader(line_iter, delimiter=delimiter)
    width = len(columns)
    try:
        with transaction.atomic():
            batch: list[_Row | RowResult] = []
            first_line = 2
            for cells in reader:
                last_line = lines.number
                line, first_line = first_line, last_line + 1
                if not cells or not any(c.strip() for c in cells):
                    continue  # blank line
                bad = [lines.bad_lines[n] for n in range(line, last_line + 1) if n in lines.bad_lines]
                if bad:
                    errors = bad
                elif len(cells) != width:
                    errors = [
                        _("%(found)d fields where the header has %(expected)d")
                        % {"found": len(cells), "expected": width}
                    ]
                else:
                    row, errors = checker.row(line, dict(zip(columns, cells, strict=True)))
                # A rejected row keeps its place in the batch, so the report stays in file
                # order and a file with many bad rows is still written in full batches.
                batch.append(RowResult(line, RowStatus.REJECTED, messages=tuple(errors)) if errors else row)
                if len(batch) >= BATCH_SIZE:
                    writer.write(batch, report, progress)
                    batch = []
            if batch:
                writer.write(batch, report, progress)
            if not report.rows:
                report.file_errors.append(_("The file has no rows."))
                raise _Rollback
            if not skip_invalid and any(r.status == RowStatus.REJECTED for r in report.rows):
                raise _Rollback
    except _Rollback:
        for result in report.rows:
            result.client_id = None
        return report
    except csv.Error as exc:
        report.file_errors.append(
            _("The file is not valid CSV (line %(line)d: %(error)s).")
            % {
                "line": lines.number,
                "error": exc,
            }
        )
        return report
    report.committed = True
    return report
