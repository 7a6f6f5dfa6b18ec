"""Importing client lists from CSV: normalised numbers, merges, do-not-call, all or nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from agents.tests.factories import LanguageFactory
from clients.models import CampaignMember, Client, ClientPhone, DoNotCallNumber
from clients.services import RowStatus, clients_import
from clients.tests.factories import CampaignMemberFactory, ClientFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "full_name,phone,email,city,postal_code,preferred_language,time_zone,tags,do_not_call,marketing_consent,notes\n"
)


def run(text: str | bytes, **kwargs):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return clients_import(io.BytesIO(data), **kwargs)


def statuses(report):
    return {row.line: row.status for row in report.rows}


@pytest.fixture(autouse=True)
def languages(db):
    LanguageFactory(code="fr", name="Français")


def test_import_creates_clients_with_e164_numbers():
    report = run(
        HEADER
        + "Jeanne Martin,06 12 34 56 78,jeanne@example.test,Lyon,69003,fr,Europe/Paris,fibre,no,yes,\n"
        + 'Paul Durand,"+33 1 42 68 53 00; 07.81.22.33.44",,Paris,75008,,,,,,VIP\n'
    )
    assert report.committed and report.counts[RowStatus.CREATED] == 2
    jeanne = Client.objects.get(full_name="Jeanne Martin")
    assert list(jeanne.phones.values_list("number", flat=True)) == ["+33612345678"]
    assert jeanne.preferred_language_id == "fr" and jeanne.marketing_consent and jeanne.tags == "fibre"
    paul = Client.objects.get(full_name="Paul Durand")
    assert sorted(paul.phones.values_list("number", flat=True)) == ["+33142685300", "+33781223344"]
    assert report.rows[0].client_id == jeanne.pk


def test_row_with_an_existing_number_is_merged_into_that_client():
    existing = ClientFactory(full_name="Jeanne Martin", email="", city="LYON", numbers=["+33612345678"], tags="old")
    report = run(HEADER + "J. Martin,0612345678;0698765432,jeanne@example.test,Paris,,,,new,,,\n")
    assert statuses(report) == {2: RowStatus.MERGED}
    assert Client.objects.count() == 1
    existing.refresh_from_db()
    # Blanks are filled; what we had is kept; numbers and tags are added.
    assert existing.full_name == "Jeanne Martin" and existing.city == "LYON"
    assert existing.email == "jeanne@example.test"
    assert existing.tags == "old,new"
    assert sorted(existing.phones.values_list("number", flat=True)) == ["+33612345678", "+33698765432"]
    assert f"client #{existing.pk}" in report.rows[0].messages[0]


def test_duplicates_inside_the_file_are_merged_by_number():
    report = run(
        HEADER + "Jeanne Martin,0612345678,,,,,,,,,\n" + "Jeanne MARTIN,+33 6 12 34 56 78,j@example.test,,,,,,,,\n"
    )
    assert statuses(report) == {2: RowStatus.CREATED, 3: RowStatus.MERGED}
    assert Client.objects.get().email == "j@example.test"
    assert "line 2" in report.rows[1].messages[0]


def test_duplicates_across_batches_are_merged(monkeypatch):
    monkeypatch.setattr("clients.services.imports.BATCH_SIZE", 2)
    rows = "".join(f"Client {i},06123400{i:02d},,,,,,,,,\n" for i in range(5))
    report = run(HEADER + rows + "Client zero again,0612340000,again@example.test,,,,,,,,\n")
    assert report.counts == {"created": 5, "merged": 1, "skipped": 0, "rejected": 0}
    assert Client.objects.get(phones__number="+33612340000").email == "again@example.test"


def test_do_not_call_numbers_are_skipped_and_never_reset():
    refuser = ClientFactory(full_name="Ne Pas Appeler", numbers=["+33612345678"], do_not_call=True)
    DoNotCallNumber.objects.create(number="+33698765432")
    report = run(
        HEADER
        + "Ne Pas Appeler,0612345678,new@example.test,,,,,,no,yes,\n"
        + "Unknown Person,0698765432,,,,,,,,,\n"
        + "Someone Else,0781223344,,,,,,,,,\n"
    )
    assert statuses(report) == {2: RowStatus.SKIPPED, 3: RowStatus.SKIPPED, 4: RowStatus.CREATED}
    refuser.refresh_from_db()
    assert refuser.do_not_call and refuser.email == "" and not refuser.marketing_consent
    assert not ClientPhone.objects.filter(number="+33698765432").exists()


def test_a_row_saying_do_not_call_flags_the_client_and_takes_them_out_of_campaigns():
    member = CampaignMemberFactory(client=ClientFactory(numbers=["+33612345678"]))
    run(HEADER + "Jeanne,0612345678,,,,,,,oui,,\n")
    member.refresh_from_db()
    assert member.client.do_not_call and member.state == CampaignMember.State.EXCLUDED
    assert DoNotCallNumber.objects.filter(number="+33612345678").exists()


def test_one_bad_row_and_nothing_is_written_with_every_bad_row_reported():
    report = run(
        HEADER
        + "Good One,0612345678,,,,,,,,,\n"
        + ",0612345679,,,,,,,,,\n"
        + "Broken Number,12,,,,,,,,,\n"
        + "Bad Email,0612345680,not-an-email,,,,,,,,\n"
        + "Bad Language,0612345681,,,,xx,,,,,\n"
        + "Bad Zone,0612345682,,,,,Mars/Olympus,,,,\n"
        + "Bad Flag,0612345683,,,,,,,maybe,,\n"
        + "Short Row,0612345684\n"
    )
    assert not report.committed
    assert Client.objects.count() == 0 and ClientPhone.objects.count() == 0
    rejected = {row.line: " ".join(row.messages) for row in report.rejected}
    assert sorted(rejected) == [3, 4, 5, 6, 7, 8, 9]
    assert "name is required" in rejected[3]
    assert "“12” is not a valid phone number" in rejected[4]
    assert "email" in rejected[5] and "preferred_language" in rejected[6] and "time_zone" in rejected[7]
    assert "do_not_call" in rejected[8] and "fields where the header has" in rejected[9]
    assert "Nothing was written" in report.summary()


def test_skip_invalid_imports_the_valid_rows_and_reports_the_rest():
    report = run(HEADER + "Good One,0612345678,,,,,,,,,\nBroken,12,,,,,,,,,\n", skip_invalid=True)
    assert report.committed
    assert statuses(report) == {2: RowStatus.CREATED, 3: RowStatus.REJECTED}
    assert list(Client.objects.values_list("full_name", flat=True)) == ["Good One"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name,phone\nJeanne,0612345678\n", "Missing column(s): full_name"),
        ("full_name,phone,fax\nJeanne,0612345678,\n", "Unknown column(s): fax"),
        ("full_name,phone,phone\nJeanne,0612345678,\n", "Repeated column(s): phone"),
        ("", "The file is empty"),
        ("full_name,phone\n", "The file has no rows"),
    ],
)
def test_wrong_columns_are_refused_before_any_row(text, expected):
    report = run(text)
    assert not report.committed and any(expected in error for error in report.file_errors)
    assert Client.objects.count() == 0


def test_a_file_in_another_encoding_is_reported_by_line_and_writes_nothing():
    latin1 = (HEADER + "Hélène Dupré,0612345678,,Orléans,,,,,,,\nAnne,0612345679,,,,,,,,,\n").encode("latin-1")
    report = run(latin1)
    assert not report.committed and Client.objects.count() == 0
    assert [row.line for row in report.rejected] == [2]
    assert "not UTF-8" in report.rejected[0].messages[0] and "CSV UTF-8" in report.rejected[0].messages[0]


def test_bom_and_semicolons_from_a_french_spreadsheet_are_accepted():
    text = "\ufefffull_name;phone;city\nHélène Dupré;06 12 34 56 78;Orléans\n"
    report = run(text.encode("utf-8"))
    assert report.committed
    assert Client.objects.get().city == "Orléans"


def test_numbers_of_two_different_clients_in_one_row_are_rejected():
    a = ClientFactory(numbers=["+33612345678"])
    b = ClientFactory(numbers=["+33698765432"])
    report = run(HEADER + "Mixed,0612345678;0698765432,,,,,,,,,\n", skip_invalid=True)
    assert report.rows[0].status == RowStatus.REJECTED
    assert f"#{a.pk}" in report.rows[0].messages[0] and f"#{b.pk}" in report.rows[0].messages[0]


def test_management_command_imports_and_reports(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "Jeanne,0612345678,,,,,,,,,\nJeanne bis,0612345678,,,,,,,,,\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_clients", str(good), stdout=out)
    assert "1 created, 1 merged" in out.getvalue() and "line 3: merged" in out.getvalue()
    assert Client.objects.count() == 1


def test_management_command_fails_and_writes_nothing_on_a_bad_row(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Anne,0612345679,,,,,,,,,\nBroken,12,,,,,,,,,\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was written"):
        call_command("import_clients", str(bad), stdout=out)
    assert "line 3: rejected" in out.getvalue() and Client.objects.count() == 0
    call_command("import_clients", str(bad), "--skip-invalid", stdout=io.StringIO())
    assert list(Client.objects.values_list("full_name", flat=True)) == ["Anne"]


def upload(client, text: bytes, skip_invalid=False):
    data = {"file": SimpleUploadedFile("clients.csv", text, content_type="text/csv")}
    if skip_invalid:
        data["skip_invalid"] = "on"
    return client.post(reverse("admin:clients_client_import"), data)


def test_admin_upload_reports_each_row_and_writes_nothing_on_a_bad_row(client, manager_mia):
    client.force_login(manager_mia)
    response = upload(client, (HEADER + "Anne,0612345679,,,,,,,,,\nBroken,12,,,,,,,,,\n").encode())
    assert response.status_code == 200
    page = response.content.decode()
    assert "is not a valid phone number" in page and "Nothing was written" in page
    assert Client.objects.count() == 0


def test_admin_upload_with_the_checkbox_imports_the_valid_rows(client, manager_mia):
    client.force_login(manager_mia)
    response = upload(client, (HEADER + "Anne,0612345679,,,,,,,,,\nBroken,12,,,,,,,,,\n").encode(), skip_invalid=True)
    assert response.status_code == 200 and "1 created" in response.content.decode()
    assert list(Client.objects.values_list("full_name", flat=True)) == ["Anne"]


@pytest.mark.parametrize("who", ["hr_hana", "qa_quinn"])
def test_only_managers_may_import(request, client, who):
    client.force_login(request.getfixturevalue(who))
    response = upload(client, (HEADER + "Anne,0612345679,,,,,,,,,\n").encode())
    assert response.status_code == 403
    assert Client.objects.count() == 0


def test_a_long_report_in_the_admin_lists_only_what_needs_reading(client, manager_mia, monkeypatch):
    monkeypatch.setattr("clients.admin.REPORT_ROWS_SHOWN", 2)
    ClientFactory(numbers=["+33612345678"])
    client.force_login(manager_mia)
    text = HEADER + "A,0612345678,,,,,,,,,\nB,0612345679,,,,,,,,,\nC,0612345680,,,,,,,,,\n"
    page = upload(client, text.encode()).content.decode()
    assert "Created rows are not listed" in page
    assert page.count('class="import-merged"') == 1 and 'class="import-created"' not in page


def test_numbers_the_fast_path_does_not_accept_are_read_by_phonenumbers():
    """The import's cheap number check may only say yes; anything else is phonenumbers'
    call. Digits of another script (here full-width) are valid numbers for phonenumbers."""
    report = run(
        HEADER
        + "Mixed Digits,06１２３４５６７８,,,,,,,,,\n"
        + "Full Width,０６ ９８ ７６ ５４ ３２,,,,,,,,,\n"
        + 'Brackets,"+33 (0)7 81 22 33 44",,,,,,,,,\n'
    )
    assert report.committed, report.rejected
    numbers = set(ClientPhone.objects.values_list("number", flat=True))
    assert numbers == {"+33612345678", "+33698765432", "+33781223344"}


def test_values_with_tabs_backslashes_and_line_breaks_are_stored_as_written():
    """On PostgreSQL rows go through COPY's text format, where these characters are special."""
    text = HEADER + 'Anne \\ Marie,0612345678,,"Saint-\\Denis",,,,"vip\t,new",,,"first line\nsecond\tline \\N"\n'
    report = run(text)
    assert report.committed, report.rejected
    client = Client.objects.get()
    assert client.full_name == "Anne \\ Marie" and client.city == "Saint-\\Denis"
    assert client.tags == "vip,new"
    assert client.notes == "first line\nsecond\tline \\N"
    assert client.preferred_language_id is None


def test_a_file_merging_into_stored_clients_across_batches(monkeypatch):
    monkeypatch.setattr("clients.services.imports.BATCH_SIZE", 2)
    stored = ClientFactory(full_name="Stored", email="", city="", numbers=["+33612345678"])
    refuser = ClientFactory(full_name="Refuser", numbers=["+33699999999"], do_not_call=True)
    report = run(
        HEADER
        + "New One,0611111111,,,,,,,,,\n"
        + "Stored again,0612345678;0622222222,s@example.test,,,,,,,,\n"
        + "New Two,0633333333,,Lyon,,,,,,,\n"
        + "Stored third,0622222222,,Paris,,,,tagged,,,\n"
        + "Refuser,0699999999,,,,,,,,,\n"
        + "New One again,0611111111;0644444444,,,,,,,oui,,\n"
        + "Both,0633333333;0612345678,,,,,,,,,\n",
        skip_invalid=True,
    )
    assert statuses(report) == {
        2: RowStatus.CREATED,
        3: RowStatus.MERGED,
        4: RowStatus.CREATED,
        5: RowStatus.MERGED,
        6: RowStatus.SKIPPED,
        7: RowStatus.MERGED,
        8: RowStatus.REJECTED,
    }
    stored.refresh_from_db()
    assert (stored.email, stored.city, stored.tags) == ("s@example.test", "Paris", "tagged")
    assert sorted(stored.phones.values_list("number", flat=True)) == ["+33612345678", "+33622222222"]
    new_one = Client.objects.get(full_name="New One")
    assert new_one.do_not_call and report.rows[5].client_id == new_one.pk
    assert set(DoNotCallNumber.objects.filter(client=new_one).values_list("number", flat=True)) == {
        "+33611111111",
        "+33644444444",
    }
    assert "line 4" in report.rows[6].messages[0] and f"client #{stored.pk}" in report.rows[6].messages[0]
    assert refuser.phones.count() == 1
    assert [row.client_id for row in report.rows] == [
        new_one.pk,
        stored.pk,
        Client.objects.get(full_name="New Two").pk,
        stored.pk,
        None,
        new_one.pk,
        None,
    ]


def test_the_import_costs_a_few_queries_per_batch_not_per_row(monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr("clients.services.imports.BATCH_SIZE", 100)

    def queries(rows: int) -> int:
        lines = "".join(f"Client {i},06{i + 20_000_000:08d},c{i}@example.test,Lyon,,fr,,,,,\n" for i in range(rows))
        with CaptureQueriesContext(connection) as captured:
            assert run(HEADER + lines).committed
        Client.objects.all().delete()
        return len(captured)

    assert queries(5) == queries(40)


def test_foreign_keys_are_checked_at_commit_again_after_an_import():
    """On PostgreSQL the import checks the new rows' foreign keys statement by statement;
    the rest of the transaction keeps Django's deferred checks."""
    run(HEADER + "Anne,0612345679,,,,,,,,,\n")
    phone = ClientPhone.objects.create(client_id=987_654_321, number="+33600000001")  # no such client yet
    phone.delete()


@pytest.mark.parametrize("line", ["Anne,0612345679,,,,,,,,,\n", "Broken,12,,,,,,,,,\n"])
def test_the_garbage_collector_runs_again_after_an_import(line):
    """The import pauses Python's cyclic garbage collector while it works (see imports.py)."""
    import gc

    assert gc.isenabled()
    run(HEADER + line)
    assert gc.isenabled()


def test_importing_the_same_file_again_merges_every_row_and_changes_nothing():
    text = HEADER + "Anne,0612345679,anne@example.test,Lyon,,fr,,vip,,yes,\nPaul,0612345680,,,,,,,,,\n"
    run(text)
    before = dict(Client.objects.values_list("full_name", "updated_at"))
    report = run(text)
    assert report.counts == {"created": 0, "merged": 2, "skipped": 0, "rejected": 0}
    assert dict(Client.objects.values_list("full_name", "updated_at")) == before
    assert ClientPhone.objects.count() == 2


def test_a_failed_write_in_the_middle_of_a_file_leaves_nothing_written(monkeypatch):
    """A database error on a later batch (on PostgreSQL, in the writer thread) undoes the
    batches already written and reaches the caller."""
    import gc

    from django.db import DatabaseError

    from clients.services import imports

    monkeypatch.setattr(imports, "BATCH_SIZE", 1)
    calls = []

    def failing(original):
        def write(self, *args):
            calls.append(1)
            if len(calls) == 2:
                raise DatabaseError("disk full")
            return original(self, *args)

        return write

    monkeypatch.setattr(imports._PostgresStore, "_write", failing(imports._PostgresStore._write))
    monkeypatch.setattr(imports._OrmStore, "write", failing(imports._OrmStore.write))
    with pytest.raises(DatabaseError, match="disk full"):
        run(HEADER + "Anne,0612345679,,,,,,,,,\nPaul,0612345680,,,,,,,,,\nZoé,0612345681,,,,,,,,,\n")
    assert Client.objects.count() == 0 and ClientPhone.objects.count() == 0
    assert gc.isenabled()


@pytest.mark.django_db(transaction=True)
def test_an_import_commits_its_rows_for_real(monkeypatch):
    """Outside a test transaction: the import's own transaction commits (foreign keys and
    all) and every batch is there afterwards."""
    monkeypatch.setattr("clients.services.imports.BATCH_SIZE", 2)
    LanguageFactory(code="en", name="English")
    report = run(HEADER + "".join(f"Client {i},06{i + 30_000_000:08d},,,,en,,,,,\n" for i in range(5)))
    assert report.committed
    assert Client.objects.filter(preferred_language_id="en").count() == 5
    assert ClientPhone.objects.filter(client__in=[row.client_id for row in report.rows]).count() == 5
