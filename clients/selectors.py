"""Reads of clients with their rules."""

import phonenumbers
from django.conf import settings

from .models import Client


def phone_to_e164(raw: str, *, region: str | None = None) -> str | None:
    """The E.164 form of a phone number as typed or sent by a PBX, or None when it is not a
    valid number. National numbers are read in the center's country (PHONE_REGION)."""
    try:
        parsed = phonenumbers.parse(raw or "", region or settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def client_find_by_number(*, number: str) -> Client | None:
    """The client who owns this number (any format), or None. Used to match incoming calls."""
    e164 = phone_to_e164(number)
    if e164 is None:
        return None
    return Client.objects.filter(phones__number=e164).first()
