"""Reading and checking the rows of a client CSV file, for clients_import (imports.py).

A row costs a few microseconds of Python here (issue #5 measures 100,000 rows against a
COPY of the same file): no form or model per row, fields checked with plain code
equivalent to the model's constraints, and every answer that depends on one repeated
value (country, language, time zone, yes/no words, tags) remembered by that value.

A checked row, a client the import creates and a stored client it merges rows into are
one plain list each, indexed by the constants below: building a Django model instance
costs about 25 µs, a list well under one, and 100,000 of them are made.
"""

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from operator import gt, itemgetter

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from agents.models import Language

from ..dialing import is_known_zone
from ..numbers import E164Normaliser
from ..selectors import phone_to_e164

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


# --- A client as the import handles it: positions in its list --------------------------------

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


def tag_list(tags: str) -> list[str]:
    return [tag.strip() for tag in tags.split(",") if tag.strip()]


# --- Reading the file --------------------------------------------------------------


def decoded_lines(binary: Iterable[bytes], bad_lines: dict[int, str]) -> Iterator[str]:
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


def read_header(lines: Iterator[str]) -> tuple[list[str], str, str | None]:
    """(columns, delimiter, error). The delimiter is "," or ";" (what French spreadsheets write)."""
    try:
        first = next(lines)
    except StopIteration:
        return [], ",", _("The file is empty.")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    header = next(csv.reader([first], delimiter=delimiter), [])
    columns = [name.strip().lower().replace(" ", "_") for name in header]
    return columns, delimiter, None


def check_columns(columns: list[str]) -> list[str]:
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


def number_normaliser(region: str) -> Callable[[str], str | None]:
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


def row_checker(columns: list[str]) -> Callable[[int, list[str]], list]:
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
            normalisers[region] = number_normaliser(region)
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
            tags = tag_answers[raw] = ",".join(tag_list(raw))
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
