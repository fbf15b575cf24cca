"""Search finds people as they are written: "lopez" finds "López" and "López" finds "Lopez",
in the contact list, its organisation filter and suggestions, the warm-path search and the
coach's member table, on PostgreSQL and on the SQLite default (the Makefile runs this file
on both). The keys that searches compare are kept by every way a contact is written."""

from __future__ import annotations

from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import IntegrityError, connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts import services as contact_services
from contacts.fileformats import parse_upload
from contacts.models import Contact, ImportBatch, search_keys
from contacts.views import ORGANISATION_SUGGESTIONS
from followups import services as followup_services
from intros.states import Outcome
from lib.search import search_key
from tests.conftest import login
from tests.contacts.import_samples import linkedin_csv
from tests.factories import CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import accepted
from workflows import intros as actions

HTMX = {"HTTP_HX_REQUEST": "true"}

# (typed, as written): each must find the other, both ways.
SPELLINGS = [
    ("lopez", "López"),
    ("muller", "Müller"),
    ("sao paulo", "São Paulo"),
    ("ore", "Øre"),
    ("lodz", "Łódź"),
    ("strasse", "Straße"),
    ("aeron", "Æron"),
    ("istanbul", "İstanbul"),
    ("o'brien", "O’Brien"),
    ("jean-pierre", "Jean‐Pierre"),
    ("francois", "FRANÇOIS"),
    ("zoe", "Zoë"),
]
BOTH_WAYS = [*SPELLINGS, *[(written, typed) for typed, written in SPELLINGS]]


# --- The one normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "written"), BOTH_WAYS)
def test_a_spelling_and_its_plain_letters_have_one_search_key(typed, written):
    assert search_key(typed) == search_key(written)


def test_the_search_key_folds_case_width_and_spaces_and_drops_control_characters():
    assert search_key("  São\tPAULO  ") == "sao paulo"
    assert search_key("ﬁnn ＡＢＣ") == "finn abc"
    assert search_key("a\x00b") == "a b"  # PostgreSQL refuses a NUL in a query
    assert search_key("") == ""


def test_the_search_key_keeps_apart_what_is_spelt_differently():
    assert search_key("Mueller") != search_key("Müller")  # no language rules
    assert search_key("lopez") not in search_key("Lopes")


# --- The contact list ----------------------------------------------------------------------------


def names_in(response, *names: str) -> set[str]:
    page = unescape(response.content.decode())
    return {name for name in names if f">{name}</a>" in page}


@pytest.mark.parametrize(("typed", "written"), BOTH_WAYS)
def test_contact_search_finds_names_as_they_are_written(client, connector, typed, written):
    ContactFactory(owner=connector, name=f"Ana {written}", organisation="Plain", title="Analyst")
    ContactFactory(owner=connector, name="Bea Other", organisation="Plain", title="Analyst")

    response = login(client, connector).get(reverse("contacts:list"), {"q": typed.upper()})

    assert response.status_code == 200
    assert names_in(response, f"Ana {written}", "Bea Other") == {f"Ana {written}"}


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("SAO PAULO", "Ana Organisation"),  # the organisation
        ("directora", "Bea Role"),  # the role ("Directora Técnica")
        ("jose@", "Cy Email"),  # the email
        ("ana organisation", "Ana Organisation"),
    ],
)
def test_contact_search_looks_at_the_organisation_role_and_email(client, connector, query, found):
    ContactFactory(owner=connector, name="Ana Organisation", organisation="São Paulo Labs", title="Analyst", email="")
    ContactFactory(owner=connector, name="Bea Role", organisation="Plain", title="Directora Técnica", email="")
    # An address that can't receive email (é before the @) is kept beside `email`, and found too.
    ContactFactory(
        owner=connector,
        name="Cy Email",
        organisation="Plain",
        title="Analyst",
        email="",
        email_unusable="José@Example.org",
    )

    response = login(client, connector).get(reverse("contacts:list"), {"q": query})

    assert names_in(response, "Ana Organisation", "Bea Role", "Cy Email") == {found}


def test_a_search_never_matches_across_two_fields(client, connector):
    ContactFactory(owner=connector, name="Ana Lopez", organisation="Acme", title="Analyst")

    response = login(client, connector).get(reverse("contacts:list"), {"q": "lopez acme"})

    assert names_in(response, "Ana Lopez") == set()


def test_contact_search_shows_only_the_owners_contacts(client, connector, outsider):
    ContactFactory(owner=connector, name="Ana López")
    ContactFactory(owner=outsider, name="Other López")

    response = login(client, connector).get(reverse("contacts:list"), {"q": "lopez"})

    assert names_in(response, "Ana López", "Other López") == {"Ana López"}


@pytest.mark.parametrize(
    ("typed", "written"), [("sao paulo", "São Paulo"), ("São Paulo", "Sao Paulo"), ("BANK", "Bank")]
)
def test_organisation_filter_takes_words_as_they_are_written(client, connector, typed, written):
    ContactFactory(owner=connector, name="Ana Inside", organisation=f"{written} Bank")
    ContactFactory(owner=connector, name="Bea Outside", organisation="Rio Labs")

    response = login(client, connector).get(reverse("contacts:list"), {"organisation": typed})

    assert names_in(response, "Ana Inside", "Bea Outside") == {"Ana Inside"}
    assert f'value="{typed}"' in response.content.decode()  # what was typed stays in the field


def test_the_list_page_no_longer_lists_every_organisation(client, connector):
    for n in range(30):
        ContactFactory(owner=connector, organisation=f"Organisation number {n}")

    page = login(client, connector).get(reverse("contacts:list")).content.decode()

    assert '<option value="Organisation number' not in page
    assert '<input type="search" name="organisation"' in page
    assert f'hx-get="{reverse("contacts:organisations")}"' in page


# --- Organisation suggestions -----------------------------------------------------------------------


def suggestions(client, typed: str, **params) -> str:
    response = client.get(reverse("contacts:organisations"), {"organisation": typed, **params}, **HTMX)
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_suggestions_are_the_owners_organisations_holding_the_words_as_written(client, connector, outsider):
    ContactFactory(owner=connector, organisation="São Paulo Labs")
    ContactFactory(owner=connector, organisation="São Paulo Labs")  # once, however many work there
    ContactFactory(owner=connector, organisation="Banco de SAO PAULO")
    ContactFactory(owner=connector, organisation="Rio Labs")
    ContactFactory(owner=outsider, organisation="Sao Paulo Secret")

    found = suggestions(login(client, connector), "sao paulo")

    assert "<html" not in found
    assert found.count(">São Paulo Labs</a>") == 1
    assert ">Banco de SAO PAULO</a>" in found
    assert "Rio Labs" not in found
    assert "Secret" not in found


def test_a_suggestion_links_to_the_list_keeping_the_other_filters(client, connector):
    ContactFactory(owner=connector, organisation="Müller & Söhne")

    found = suggestions(login(client, connector), "muller", q="ana", strength="close", page="3")

    href = found.split('href="', 1)[1].split('"', 1)[0]
    assert urlsplit(href).path == reverse("contacts:list")
    assert parse_qs(urlsplit(href).query) == {"organisation": ["Müller & Söhne"], "q": ["ana"], "strength": ["close"]}
    assert 'data-value="Müller & Söhne"' in found


def test_suggestions_stop_at_ten_and_say_there_are_more(client, connector):
    for n in range(ORGANISATION_SUGGESTIONS + 2):
        ContactFactory(owner=connector, organisation=f"Nørd {n:02d}")

    found = suggestions(login(client, connector), "nord")

    assert found.count('class="suggestion"') == ORGANISATION_SUGGESTIONS
    assert "More match" in found


def test_suggestions_say_when_nothing_matches_and_nothing_for_no_words(client, connector):
    ContactFactory(owner=connector, organisation="Acme")
    login(client, connector)

    assert "None of your contacts’ organisations matches “zebra”" in suggestions(client, "zebra")
    assert 'class="suggestion' not in suggestions(client, "   ")


def test_suggestions_without_javascript_are_a_page_of_links(client, connector):
    ContactFactory(owner=connector, organisation="Øresund Bank")

    response = login(client, connector).get(reverse("contacts:organisations"), {"organisation": "oresund"})

    page = unescape(response.content.decode())
    assert "<html" in page
    assert "Organisations matching “oresund”" in page
    assert ">Øresund Bank</a>" in page


# --- The warm-path search ------------------------------------------------------------------------


@pytest.fixture
def shared(cohort, connector):
    return [
        ContactFactory(owner=connector, shareable=True, name="Zoë Müller", organisation="Øresund Bank", title="CFO"),
        ContactFactory(owner=connector, shareable=True, name="Bea Other", organisation="Rio Labs", title="Nurse"),
        ContactFactory(owner=connector, shareable=False, name="Kept López", organisation="Øresund Bank"),
    ]


@pytest.mark.parametrize("query", ["zoe", "MULLER", "Muller", "oresund bank", "ØRESUND", "cfo"])
def test_warm_path_search_finds_shared_contacts_as_they_are_written(client, seeker, shared, query):
    response = login(client, seeker).get(reverse("intros:find"), {"q": query})

    page = unescape(response.content.decode())
    assert "Zoë Müller" in page
    assert "Bea Other" not in page
    assert "Kept López" not in page  # not shared


def test_warm_path_search_never_matches_on_an_email(client, seeker, cohort, connector):
    ContactFactory(owner=connector, shareable=True, name="Ana Hidden", email="secret-handle@example.org")

    response = login(client, seeker).get(reverse("intros:find"), {"q": "secret-handle"})

    assert "Ana Hidden" not in response.content.decode()


# --- The coach's member table ------------------------------------------------------------------------


@pytest.fixture
def coached(db):
    cohort = CohortFactory()
    for name in ("José López", "Ann Muller", "Zed Young", "Álvaro Brandt"):
        MembershipFactory(cohort=cohort, user=UserFactory(full_name=name))
    return cohort


def member_names(response) -> list[str]:
    page = unescape(response.content.decode())
    table = page[page.index('id="member-table"') :]
    names = ("José López", "Ann Muller", "Zed Young", "Álvaro Brandt")
    return sorted((n for n in names if f">{n}</a></th>" in table), key=table.index)


@pytest.mark.parametrize(("query", "found"), [("lopez", ["José López"]), ("MÜLLER", ["Ann Muller"]), ("", None)])
def test_coach_finds_members_as_they_are_written(client, coached, query, found):
    url = reverse("cohorts:dashboard", args=[coached.pk])

    response = login(client, coached.coach).get(url, {"q": query, "sort": "name", "dir": "asc"})

    assert response.status_code == 200
    assert member_names(response) == (found or ["Álvaro Brandt", "Ann Muller", "José López", "Zed Young"])


def test_the_member_filter_is_kept_by_the_tables_sorting_and_the_htmx_answer(client, coached):
    url = reverse("cohorts:dashboard", args=[coached.pk])

    response = login(client, coached.coach).get(url, {"q": "lopez"}, **HTMX, HTTP_HX_TARGET="member-table")

    page = unescape(response.content.decode())
    assert page.lstrip().startswith('<section class="card member-table-card" id="member-table"')
    assert "1 of 4 matching “lopez”" in page
    assert "sort=name&dir=asc&q=lopez" in page  # a column's sort link keeps the filter


def test_no_member_matching_says_so(client, coached):
    url = reverse("cohorts:dashboard", args=[coached.pk])

    page = unescape(login(client, coached.coach).get(url, {"q": "nobody"}).content.decode())

    assert "No member’s name matches “nobody”" in page


# --- Query counts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "who"),
    [
        ("contacts:list", {"q": "lopez"}, "connector"),
        ("contacts:list", {"q": "lopez", "organisation": "sao"}, "connector"),
        ("contacts:organisations", {"organisation": "sao"}, "connector"),
        ("intros:find", {"q": "lopez"}, "seeker"),
    ],
)
def test_search_pages_ask_the_same_queries_however_many_match(client, request, cohort, connector, name, params, who):
    login(client, request.getfixturevalue(who))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name), params).status_code == 200
        return len(queries)

    ContactFactory(owner=connector, shareable=True, name="Ana López", organisation="São Paulo")
    few = count()
    for n in range(40):
        ContactFactory(owner=connector, shareable=True, name=f"Ana López {n}", organisation=f"São Paulo {n}")
    assert count() == few


# --- Every write keeps the keys -------------------------------------------------------------------------


def stale_keys() -> list[tuple[str, dict, dict]]:
    """Every contact whose stored keys are not those of its fields."""
    stale = []
    for contact in Contact.objects.all():
        wanted = search_keys(
            name=contact.name,
            organisation=contact.organisation,
            title=contact.title,
            email=contact.email or contact.email_unusable,
        )
        stored = {column: getattr(contact, column) for column in wanted}
        if stored != wanted:
            stale.append((contact.name, stored, wanted))
    return stale


def test_every_way_a_contact_is_written_keeps_its_search_keys(client, connector, seeker, cohort):
    # The contact form: a new contact, then an edit.
    login(client, connector)
    form = {
        "name": "Émile Zoë Form",
        "email": "Emile@Example.org",
        "organisation": "Straße AG",
        "title": "Directora",
        "strength": "acquainted",
        "time_zone": "Europe/Paris",
        "weekdays": ["0", "1", "2", "3", "4"],
        "hours_start": "09:00",
        "hours_end": "17:00",
        "min_days_between": "0",
    }
    assert client.post(reverse("contacts:create"), form).status_code == 302
    edited = Contact.objects.get(name="Émile Zoë Form")
    assert (
        client.post(reverse("contacts:edit", args=[edited.pk]), {**form, "organisation": "Øre AS"}).status_code == 302
    )

    # The import: new contacts, then merges that fill an organisation and a role.
    raw = linkedin_csv(["Åsa,Lindqvist,https://www.linkedin.com/in/asa,,,,21 Nov 2023"])
    contact_services.import_confirm(
        batch=contact_services.import_preview(owner=connector, parsed=parse_upload("c.csv", raw), filename="c.csv"),
        enqueue=False,
    )
    contact_services.import_run(batch_id=ImportBatch.objects.latest("pk").pk)
    raw = linkedin_csv(["Åsa,Lindqvist,https://www.linkedin.com/in/asa,,Łódź Labs,Główna,21 Nov 2023"])
    batch = contact_services.import_preview(owner=connector, parsed=parse_upload("c.csv", raw), filename="c.csv")
    contact_services.import_confirm(batch=batch, enqueue=False)
    contact_services.import_run(batch_id=batch.pk)
    assert Contact.objects.get(name="Åsa Lindqvist").organisation == "Łódź Labs"

    # A target's acceptance (it writes the window), the referral chain's next person, and an
    # offer the seeker asks to be introduced through.
    intro = accepted(seeker=seeker, target=ContactFactory(owner=connector, name="Carol Target"))
    actions.do_record_meeting(intro=intro, seeker=seeker, met_on=timezone.localdate())
    actions.do_record_outcome(
        intro=intro,
        seeker=seeker,
        outcome=Outcome.REFERRED_ON,
        referred_to={"name": "Laura Pérez", "organisation": "Agência", "title": "Head of sales"},
    )
    offer = followup_services.offer_create(
        seeker=seeker, offered_by=connector, offered_by_name="Jill", contact_name="Ségolène Offer", contact_title="Dir"
    )
    followup_services.offer_request_intro(offer=offer, seeker=seeker)

    # A contact stripped for a departed owner, and the queryset's own writes.
    stripped = ContactFactory(owner=connector, name="Strip Me", email="strip@example.org")
    stripped.strip_private(keep_email=False)
    Contact.objects.filter(name="Carol Target").update(organisation="Ça Va Corp")
    Contact.objects.filter(name="Strip Me").update(name=models.functions.Upper("name"))
    made = Contact.objects.bulk_create([Contact(owner=connector, name="Bulk Ñandú", organisation="Über")])
    made[0].title = "Jefe de Área"
    Contact.objects.bulk_update(made, ["title"])
    one = Contact.objects.get(name="Bulk Ñandú")
    one.name = "Bulk Renamed"
    one.save(update_fields=["name"])

    assert {"Laura Pérez", "Ségolène Offer", "STRIP ME", "Bulk Renamed", "Åsa Lindqvist"} <= set(
        Contact.objects.values_list("name", flat=True)
    )
    assert stale_keys() == []
    # And the searches see those writes.
    assert Contact.objects.search("ca va").get().name == "Carol Target"
    assert Contact.objects.search("jefe de area").get().name == "Bulk Renamed"
    assert Contact.objects.in_organisation("lodz").get().name == "Åsa Lindqvist"
    assert not Contact.objects.search("strip@")


def test_a_write_that_skips_the_search_keys_is_refused_by_the_database(connector):
    with pytest.raises(IntegrityError):
        # A plain QuerySet, as a write that went around Contact's own would.
        models.QuerySet(Contact).bulk_create([Contact(owner=connector, name="No Keys")])


def test_an_offer_finds_the_offerers_contact_whatever_the_accents(seeker, connector):
    existing = ContactFactory(owner=connector, name="Jose Lopez")
    offer = followup_services.offer_create(
        seeker=seeker, offered_by=connector, offered_by_name="Jill", contact_name="José López"
    )

    intro = followup_services.offer_request_intro(offer=offer, seeker=seeker)

    assert intro.target_id == existing.pk


# --- the index a search needs (PostgreSQL) ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("search", "index"),
    [
        (lambda: Contact.objects.search_shared("northwind"), "contact_search_text_trgm"),
        (lambda: Contact.objects.search("northwind"), "contact_search_email_trgm"),
    ],
    ids=["shared search: name, organisation, role", "own search: and the email"],
)
def test_a_search_inside_the_words_can_use_a_trigram_index(search, index):
    """`LIKE '%key%'` cannot use a b-tree: without a trigram index every search reads every
    contact it may see (7 ms at 20,000 contacts in `make bench`, growing with the account).
    On PostgreSQL, with sequential scans priced out, the plan must reach for the index: it
    exists and fits. SQLite (the Makefile runs this file there too) has no such index: the
    migration must have made none there, and the same search still answers, by scanning."""
    ContactFactory(name="Ada Lovelace", organisation="Northwind Traders")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = search().explain()
        assert index in plan, plan
    else:
        indexes = connection.introspection.get_constraints(connection.cursor(), Contact._meta.db_table)
        assert not any("trgm" in name for name in indexes), sorted(indexes)
    assert [c.name for c in search()] == ["Ada Lovelace"]
