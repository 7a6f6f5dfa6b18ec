"""Matching numbers to clients: E.164, any format, a number identifies at most one client."""

import pytest

from clients.selectors import client_find_by_number, phone_to_e164
from clients.services import client_add_phone
from clients.tests.factories import ClientFactory
from contactcenter.errors import Conflict

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw",
    ["+33612345678", "06 12 34 56 78", "06.12.34.56.78", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78"],
)
def test_every_format_of_a_number_finds_its_client(raw):
    client = ClientFactory(numbers=["+33612345678"])
    ClientFactory(numbers=["+33698765432"])
    assert client_find_by_number(number=raw) == client


@pytest.mark.parametrize("raw", ["", "12", "not a number", "+33 6 12"])
def test_a_broken_number_matches_nobody(raw):
    ClientFactory(numbers=["+33612345678"])
    assert phone_to_e164(raw) is None
    assert client_find_by_number(number=raw) is None


def test_foreign_numbers_keep_their_country():
    client = ClientFactory(numbers=["+32470123456"])
    assert phone_to_e164("+32 470 12 34 56") == "+32470123456"
    assert client_find_by_number(number="0032470123456") == client


def test_a_number_cannot_belong_to_two_clients():
    ClientFactory(numbers=["+33612345678"])
    other = ClientFactory(numbers=[])
    with pytest.raises(Conflict):
        client_add_phone(client=other, number="06 12 34 56 78")
    assert other.phones.count() == 0


def test_adding_a_number_stores_it_in_e164():
    client = ClientFactory(numbers=[])
    phone = client_add_phone(client=client, number="07 81 22 33 44", label="mobile")
    assert phone.number == "+33781223344"
    assert client_find_by_number(number="0781223344") == client


@pytest.mark.parametrize("region", ["FR", "BE", "DE", "CH", "US", "MA"])
def test_the_fast_normaliser_of_imports_agrees_with_phonenumbers(region):
    """E164Normaliser applies phonenumbers' own metadata with compiled patterns for the
    region's common shapes; on thousands of generated numbers it answers exactly as
    phone_to_e164 (which asks phonenumbers each time)."""
    import random

    from clients.numbers import E164Normaliser

    normalise = E164Normaliser(region)
    rng = random.Random(region)
    for _ in range(4000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([8, 9, 10, 11])))
        shape = rng.randrange(5)
        raw = [
            "0" + digits[1:],
            "+33" + digits,
            "0033 " + digits,
            "+" + digits,
            " ".join([digits[:2], digits[2:4], digits[4:6], digits[6:]]),
        ][shape]
        assert normalise(raw) == phone_to_e164(raw, region=region), raw


def test_the_fast_normaliser_reads_digits_of_other_scripts_as_phonenumbers_does():
    """Full-width digits (typed with a Japanese or Chinese input method) and Arabic-Indic
    digits, alone or mixed with ASCII ones, are the same number for phonenumbers."""
    from clients.numbers import E164Normaliser

    normalise = E164Normaliser("FR")
    for raw in [
        "０６ １２ ３４ ５６ ７８",
        "06 １２ ３４ ５６ ７８",
        "+33 6 １２ ３４ ５６ ７８",
        "٠٦١٢٣٤٥٦٧٨",
    ]:
        assert normalise(raw) == phone_to_e164(raw, region="FR") == "+33612345678", raw
