"""Checking and normalising the postal address of an order.

What is checked: the street line is required (whitespace collapsed); the country is a
two-letter code; the postal code matches the country's format where we know it (FR:
five digits, 01000–98999, Corsica's 20xxx included; BE, CH, LU, AT: four digits; DE,
ES, IT, MA: five digits; elsewhere any 2 to 10 letters and digits); the city is
required and written upper-case, as La Poste asks. Whether the street exists is not
checked (no address database is shipped).
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

POSTAL_CODE_FORMATS = {
    "FR": re.compile(r"^(?:0[1-9]|[1-8]\d|9[0-8])\d{3}$"),
    "MC": re.compile(r"^980\d{2}$"),
    "BE": re.compile(r"^[1-9]\d{3}$"),
    "CH": re.compile(r"^[1-9]\d{3}$"),
    "LU": re.compile(r"^\d{4}$"),
    "AT": re.compile(r"^\d{4}$"),
    "DE": re.compile(r"^\d{5}$"),
    "ES": re.compile(r"^(?:0[1-9]|[1-4]\d|5[0-2])\d{3}$"),
    "IT": re.compile(r"^\d{5}$"),
    "MA": re.compile(r"^\d{5}$"),
}
ANY_POSTAL_CODE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{0,8}[A-Z0-9]$")


@dataclass(frozen=True)
class Address:
    line: str
    postal_code: str
    city: str
    country: str


def address_normalise(*, line: str, postal_code: str, city: str, country: str = "FR") -> tuple[Address, dict]:
    """The normalised address and a dict of field errors (empty when the address is good)."""
    errors = {}
    line = " ".join((line or "").split())
    country = (country or "FR").strip().upper()
    postal_code = "".join((postal_code or "").split()) if country == "FR" else " ".join((postal_code or "").split())
    postal_code = postal_code.upper()
    city = " ".join((city or "").split()).upper()
    if not line:
        errors["address_line"] = _("The street address is required.")
    if not (len(country) == 2 and country.isalpha()):
        errors["country"] = _("A two-letter country code (FR, BE…).")
    pattern = POSTAL_CODE_FORMATS.get(country, ANY_POSTAL_CODE)
    if not postal_code:
        errors["postal_code"] = _("The postal code is required.")
    elif not pattern.match(postal_code):
        errors["postal_code"] = _("“%(code)s” is not a postal code of %(country)s.") % {
            "code": postal_code,
            "country": country,
        }
    if not city:
        errors["city"] = _("The city is required.")
    return Address(line, postal_code, city, country), errors
