"""Import of bought or exported client lists from CSV.

One service for the admin upload and `manage.py import_clients`:

- the file is streamed in batches (lines decoded a block at a time, rows checked one by
  one, written per batch), so 100,000 rows stay well under 300 MB;
- numbers are normalised to E.164 (phonenumbers decides; see _number_normaliser for the
  cheap path it takes for the center's own country); a row whose number is already a
  client's is merged into that client (the file fills the blanks, adds numbers and tags,
  may set do-not-call or withdraw marketing consent, never the reverse); rows of the file
  that share a number are merged together;
- a row with a do-not-call number (on the list, or a do-not-call client's) is skipped;
- by default all or nothing: one rejected row and the transaction is rolled back, the
  report listing every rejected row and why; with skip_invalid the valid rows are
  written and the rest reported.

Speed (issue #5: 100,000 rows against a COPY of the same file). A row costs a few
microseconds of Python: no form or model per row, fields checked with plain code
equivalent to the model's constraints, answers about repeated values (country, language,
time zone, yes/no words, tags) remembered. On PostgreSQL each batch costs two look-ups
(numbers already stored or on the do-not-call list; ids for the new clients) and two
COPYs straight into the client and number tables, sent by a writer thread while the next
batch is read and checked, so PostgreSQL's work and Python's overlap on two cores. (A
staging table and INSERT … SELECT was measured slower: every row is then written twice,
and the second write cannot overlap with reading the file; see docs/clients.md.)
"""

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from operator import gt, itemgetter
from typing import BinaryIO

import phonenumbers
import psycopg
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
from ..selectors import phone_to_e164

# Rows read, checked and written together. Larger batches mean fewer round trips; each
# batch's clients are held in memory until written.
BATCH_SIZE = 5000
# Lines decoded at once (a line that is not UTF-8 sends its block through one line at a time).
DECODE_BLOCK = 4096

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
# A subset of what Django's validate_email accepts (plain dot-atom local part, host names
# of letters, digits and inner hyphens, an alphabetic top-level domain): an address that
# matches is valid for Django too; any other goes through validate_email itself.
PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",
    re.ASCII,
).fullmatch
# Characters COPY's text format must escape; a row without any is written as it is.
COPY_SPECIAL = re.compile(r"[\\\t\n\r]").search


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


# --- A client as the import handles it -------------------------------------------------------
#
# A checked row, a client this import creates and a stored client it merges rows into are
# one plain list each, indexed by the constants below: building a Django model instance
# costs about 25 µs, a list well under one (and 100,000 of them are made).

LINE = 0  # the line of the file that created it (None for a client stored before the import)
NUMBERS = 1  # the row's numbers, E.164 (tuple)
PK = 2
FULL_NAME = 3
EMAIL = 4
ADDRESS_LINE = 5
POSTAL_CODE = 6
CITY = 7
COUNTRY = 8
LANGUAGE = 9  # preferred_language_id, None when empty
TIME_ZONE = 10
CURRENT_PROVIDER = 11
SEGMENT = 12
TAGS = 13  # comma-separated, each stripped
DO_NOT_CALL = 14
CONSENT = 15  # marketing consent: True, False, or None when the row leaves it empty
NOTES = 16
ESCAPE = 17  # True when a value holds a character COPY's text format must escape
STORED = 18  # True for a client stored before this batch (written back with an UPDATE)

# Fields a merge may fill when the client's own value is empty, with the name the report gives.
FILLABLE = (
    (EMAIL, "email"),
    (ADDRESS_LINE, "address_line"),
    (POSTAL_CODE, "postal_code"),
    (CITY, "city"),
    (LANGUAGE, "preferred_language"),
    (TIME_ZONE, "time_zone"),
    (CURRENT_PROVIDER, "current_provider"),
    (SEGMENT, "segment"),
)
# Model field (column) → position, for every field an import writes.
CLIENT_FIELDS = {
    "full_name": FULL_NAME,
    "email": EMAIL,
    "address_line": ADDRESS_LINE,
    "postal_code": POSTAL_CODE,
    "city": CITY,
    "country": COUNTRY,
    "preferred_language_id": LANGUAGE,
    "time_zone": TIME_ZONE,
    "current_provider": CURRENT_PROVIDER,
    "segment": SEGMENT,
    "tags": TAGS,
    "do_not_call": DO_NOT_CALL,
    "marketing_consent": CONSENT,
    "notes": NOTES,
}
# What a merge may change on a stored client.
MERGE_FIELDS = {
    "email": EMAIL,
    "address_line": ADDRESS_LINE,
    "postal_code": POSTAL_CODE,
    "city": CITY,
    "preferred_language_id": LANGUAGE,
    "time_zone": TIME_ZONE,
    "current_provider": CURRENT_PROVIDER,
    "segment": SEGMENT,
    "tags": TAGS,
    "notes": NOTES,
    "do_not_call": DO_NOT_CALL,
    "marketing_consent": CONSENT,
}


def _tag_list(tags: str) -> list[str]:
    return [tag.strip() for tag in tags.split(",") if tag.strip()]


def _merge(client: list, row: list) -> list[str]:
    """Fill the client's blanks from the row; say what changed."""
    changes = []
    for position, name in FILLABLE:
        value = row[position]
        if value and not client[position]:
            client[position] = value
            changes.append(name)
    if row[TAGS]:
        tags = _tag_list(client[TAGS])
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


# --- Reading the file --------------------------------------------------------------


def _decoded_lines(binary: Iterable[bytes], bad_lines: dict[int, str]) -> Iterator[str]:
    """The lines of a binary file decoded as UTF-8 (a BOM is accepted). A line in another
    encoding is recorded in bad_lines by its number (and decoded with replacement
    characters), so the report names it instead of failing the whole file."""
    source = iter(binary)
    number = 0
    while block := list(islice(source, DECODE_BLOCK)):
        if number == 0 and block[0].startswith(codecs.BOM_UTF8):
            block[0] = block[0][len(codecs.BOM_UTF8) :]
        try:
            decoded = [raw.decode("utf-8") for raw in block]
        except UnicodeDecodeError:
            decoded = []
            for offset, raw in enumerate(block, start=number + 1):
                try:
                    decoded.append(raw.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    bad_lines[offset] = _(
                        "line %(line)d is not UTF-8 (byte 0x%(byte)02x at position %(pos)d): save the file as "
                        "“CSV UTF-8” and import it again"
                    ) % {"line": offset, "byte": raw[exc.start], "pos": exc.start + 1}
                    decoded.append(raw.decode("utf-8", errors="replace"))
        number += len(block)
        yield from decoded


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


def _number_normaliser(region: str) -> Callable[[str], str | None]:
    """raw number → E.164 or None, with phonenumbers' answer (phone_to_e164).

    phonenumbers' parse + is_valid_number costs 18 to 35 µs a number, which alone would
    be many times the COPY the import is measured against. E164Normaliser (clients/numbers.py)
    answers the common shapes of the region's own numbers ("06 12 34 56 78", "+33 6…",
    "0033 6…") with phonenumbers' own metadata patterns compiled once (about 1.5 µs),
    and is tested to agree with phonenumbers. Here it is only trusted to say yes, and only
    on ASCII text: anything it does not accept (another shape, a foreign number, a number
    it finds invalid, digits of another script) is asked to phonenumbers itself.
    """
    fast = E164Normaliser(region)

    def normalise(raw: str) -> str | None:
        if raw.isascii():
            e164 = fast(raw)
            if e164 is not None:
                return e164
        return phone_to_e164(raw, region=region)

    return normalise


def _row_checker(columns: list[str]) -> Callable[[int, list[str]], list]:
    """A function (line, cells) → the row as a client list, or the list of its errors (strings).

    Per row: the cells of the columns the file has (the others read as ""); every answer
    that depends on one value alone (country, language, time zone, yes/no words, tags) is
    remembered by that value, since a list repeats them on every line.
    """
    index = {name: columns.index(name) if name in columns else -1 for name in COLUMNS}
    name_at, phone_at, email_at = index["full_name"], index["phone"], index["email"]
    address_at, postal_code_at, city_at = index["address_line"], index["postal_code"], index["city"]
    country_at, language_at, zone_at = index["country"], index["preferred_language"], index["time_zone"]
    provider_at, segment_at, tags_at = index["current_provider"], index["segment"], index["tags"]
    do_not_call_at, consent_at, notes_at = index["do_not_call"], index["marketing_consent"], index["notes"]
    # The limited columns the file has, plus an empty one so itemgetter always gives a tuple.
    limited = [(name, limit) for name, limit in MAX_LENGTHS.items() if index[name] >= 0] + [("", 0)]
    lengths_of = itemgetter(*(index[name] if name else -1 for name, _limit in limited))
    limits = tuple(limit for _name, limit in limited)

    languages = set(Language.objects.values_list("code", flat=True))
    default_region = settings.PHONE_REGION
    normalisers: dict[str, Callable] = {}
    countries: dict[str, tuple] = {}
    language_answers: dict[str, tuple] = {}
    zone_answers: dict[str, bool] = {}
    flag_answers: dict[str, bool | None | str] = {}
    tag_answers: dict[str, str] = {}
    not_a_flag = "not a flag"  # the answer for a word that is neither yes nor no

    def country_of(raw: str) -> tuple:
        """(country, number normaliser, error or None)."""
        country = raw.strip().upper() or "FR"
        error = None
        if not (len(country) == 2 and country.isalpha()):
            error = _("country: “%(value)s” is not a two-letter ISO code") % {"value": raw}
            country = "FR"
        region = country if country in phonenumbers.SUPPORTED_REGIONS else default_region
        if region not in normalisers:
            normalisers[region] = _number_normaliser(region)
        return country, normalisers[region], error

    def flag_of(raw: str):
        word = raw.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False if word else None
        return not_a_flag

    def check(line: int, cells: list[str]) -> list:
        cells.append("")  # what a column the file does not have reads
        errors = []
        full_name = " ".join(cells[name_at].split())
        if not full_name:
            errors.append(_("full_name: a name is required"))
        if any(map(gt, map(len, lengths_of(cells)), limits)):
            for name, limit in limited:
                if name and len(cells[index[name]]) > limit:
                    errors.append(_("%(column)s: at most %(limit)d characters") % {"column": name, "limit": limit})
        raw = cells[country_at]
        known = countries.get(raw)
        if known is None:
            known = countries[raw] = country_of(raw)
        country, normalise, error = known
        if error:
            errors.append(error)

        raw = cells[phone_at]
        if PHONE_SEPARATORS.search(raw):
            raw_numbers = [n.strip() for n in PHONE_SEPARATORS.split(raw) if n.strip()]
        else:
            raw = raw.strip()
            raw_numbers = [raw] if raw else []
        if not raw_numbers:
            errors.append(_("phone: a phone number is required"))
        numbers = []
        for raw in raw_numbers:
            e164 = normalise(raw)
            if e164 is None:
                errors.append(_("phone: “%(value)s” is not a valid phone number") % {"value": raw})
            elif e164 not in numbers:
                numbers.append(e164)

        email = cells[email_at].strip()
        if email and not PLAIN_EMAIL(email):
            try:
                validate_email(email)
            except ValidationError:
                errors.append(_("email: “%(value)s” is not a valid email address") % {"value": email})

        raw = cells[language_at]
        known = language_answers.get(raw)
        if known is None:
            code = raw.strip().lower()
            known = language_answers[raw] = (code or None, not code or code in languages)
        language, ok = known
        if not ok:
            errors.append(_("preferred_language: unknown language code “%(value)s”") % {"value": language})

        zone = cells[zone_at].strip()
        if zone:
            ok = zone_answers.get(zone)
            if ok is None:
                ok = zone_answers[zone] = is_known_zone(zone)
            if not ok:
                errors.append(_("time_zone: “%(value)s” is not a known time zone") % {"value": zone})

        raw = cells[do_not_call_at]
        do_not_call = flag_answers.get(raw, not_a_flag)
        if do_not_call is not_a_flag:
            do_not_call = flag_answers[raw] = flag_of(raw)
            if do_not_call is not_a_flag:
                errors.append(_("%(column)s: “%(value)s” is not yes or no") % {"column": "do_not_call", "value": raw})
        raw = cells[consent_at]
        consent = flag_answers.get(raw, not_a_flag)
        if consent is not_a_flag:
            consent = flag_answers[raw] = flag_of(raw)
            if consent is not_a_flag:
                errors.append(
                    _("%(column)s: “%(value)s” is not yes or no") % {"column": "marketing_consent", "value": raw}
                )
        if errors:
            return errors

        raw = cells[tags_at]
        tags = tag_answers.get(raw)
        if tags is None:
            tags = tag_answers[raw] = ",".join(_tag_list(raw))
        return [
            line,
            tuple(numbers),
            None,
            full_name,
            email,
            " ".join(cells[address_at].split()),
            cells[postal_code_at].strip().upper(),
            " ".join(cells[city_at].split()),
            country,
            language,
            zone,
            cells[provider_at].strip(),
            cells[segment_at].strip(),
            tags,
            do_not_call is True,
            consent,
            cells[notes_at].strip(),
            COPY_SPECIAL("".join(cells)) is not None,
            False,
        ]

    return check


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
        if self.deferred and self.raw.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
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
            if added:
                changes.append(_("%(count)d number(s) added") % {"count": len(added)})
            if client[STORED]:
                batch.updated[client[PK]] = client
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
    lines = _decoded_lines(file, bad_lines)
    columns, delimiter, error = _read_header(lines)
    if error:
        report.file_errors.append(error)
        return report
    if 1 in bad_lines:
        report.file_errors.append(bad_lines[1])
        return report
    column_errors = _check_columns(columns)
    if column_errors:
        report.file_errors.extend(column_errors)
        return report

    check = _row_checker(columns)
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
        return report
    except csv.Error as exc:
        report.file_errors.append(
            _("The file is not valid CSV (line %(line)d: %(error)s).") % {"line": reader.line_num + 1, "error": exc}
        )
        return report
    report.committed = True
    return report
