"""manage.py import_contacts: the same import from the command line, with a progress bar."""

import io

import pytest
from django.core.management import CommandError, call_command

from contacts.models import Contact, ImportBatch, ImportStatus, Strength
from tests.contacts.import_samples import linkedin_csv, linkedin_rows, vcard_file
from tests.factories import ContactFactory


def import_contacts(*args) -> str:
    out = io.StringIO()
    call_command("import_contacts", *args, stdout=out)
    return out.getvalue()


def test_command_imports_a_linkedin_export_with_a_progress_bar(connector, tmp_path, monkeypatch):
    monkeypatch.setattr("contacts.services.WRITE_CHUNK", 500)
    path = tmp_path / "Connections.csv"
    path.write_bytes(linkedin_csv(linkedin_rows(1_200)))

    output = import_contacts("--user", connector.email.upper(), str(path))

    assert "Connections.csv: 1200 rows — 1200 new" in output
    assert "\r[############..................]  41% 500/1200" in output
    assert "\r[##############################] 100% 1200/1200" in output
    assert "Imported: 1200 added, 0 merged, 0 skipped." in output
    assert Contact.objects.owned_by(connector).count() == 1_200
    assert set(Contact.objects.owned_by(connector).values_list("strength", flat=True)) == {Strength.ONLINE_ONLY}
    assert ImportBatch.objects.get().status == ImportStatus.DONE


def test_command_merges_exact_and_chooses_for_likely_duplicates(connector, tmp_path):
    ContactFactory(owner=connector, name="Bo Chen", email="bo.chen@example.com", profile_url="")
    ContactFactory(
        owner=connector,
        name="Adaeze Okafor",
        email="",
        organisation="Lagos Municipal Transport Authority and Partners in Urban Mobility Consulting",
    )
    path = tmp_path / "contacts.vcf"
    path.write_bytes(vcard_file())

    output = import_contacts("--user", connector.email, "--likely", "merge", str(path))

    assert "1 new, 1 exact duplicates (merge), 1 likely duplicates (merge)" in output
    assert "Imported: 1 added, 2 merged, 0 skipped." in output
    assert Contact.objects.owned_by(connector).count() == 3
    assert Contact.objects.get(owner=connector, name="Bo Chen").profile_url == "https://www.linkedin.com/in/bochen"


def test_dry_run_changes_nothing(connector, tmp_path):
    path = tmp_path / "Connections.csv"
    path.write_bytes(linkedin_csv(["Ann,Lee,,,,,21 Nov 2023", "Bo,Chen,,not-email,,,21 Nov 2023", ",,,,,,1 Jan 2020"]))

    output = import_contacts("--user", connector.email, "--dry-run", str(path))

    assert "2 new, 0 exact duplicates (merge), 0 likely duplicates (skip), 1 cannot be imported" in output
    assert "Line 7: there is no name, email address or profile URL" in output
    assert "1 row is imported with a value set aside for you to fix:" in output
    assert "Line 6 (Bo Chen): The email address “not-email” can't receive email" in output
    assert "Dry run: nothing was changed." in output
    assert not Contact.objects.exists()
    assert not ImportBatch.objects.exists()


def test_command_keeps_the_row_limit_and_says_so(connector, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 10
    path = tmp_path / "Connections.csv"
    path.write_bytes(linkedin_csv(linkedin_rows(12)))

    with pytest.raises(CommandError, match=r"The file has 12 contacts; the most one import can take is 10\."):
        import_contacts("--user", connector.email, str(path))
    assert not ImportBatch.objects.exists()


def test_bad_file_is_a_clear_error(connector, tmp_path):
    path = tmp_path / "Connections.csv"
    path.write_bytes(linkedin_csv(["Ann,Lee,,,,,", "Bo,Chen,,,,"]))

    with pytest.raises(CommandError, match=r"Connections.csv: Line 6: this row has 6 fields but the header has 7"):
        import_contacts("--user", connector.email, str(path))
    assert not ImportBatch.objects.exists()


def test_unknown_user_and_missing_file_are_clear_errors(connector, tmp_path):
    with pytest.raises(CommandError, match=r"No user with the email nobody@example\.com"):
        import_contacts("--user", "nobody@example.com", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.csv: No such file or directory"):
        import_contacts("--user", connector.email, str(tmp_path / "missing.csv"))
