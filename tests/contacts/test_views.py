import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact, Strength, Tag
from contacts.views import CONTACTS_PER_PAGE, window_in_words
from tests.conftest import login
from tests.factories import ContactFactory, IntroRequestFactory, UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def contact_data(**overrides) -> dict:
    """A complete, valid contact form as a browser posts it."""
    data = {
        "name": "Carol Target",
        "email": "carol@example.org",
        "organisation": "Acme Agency",
        "title": "Head of Operations",
        "profile_url": "https://example.org/carol",
        "connected_on": "2024-03-01",
        "strength": Strength.ACQUAINTED,
        "how_we_know": "Worked together at the library.",
        "tags": "operations, Berlin",
        "shareable": "on",
        "notes": "Prefers short emails.",
        "time_zone": "Europe/London",
        "weekdays": ["0", "1", "2", "3", "4"],
        "hours_start": "09:00",
        "hours_end": "17:00",
        "unavailable_until": "",
        "min_days_between": "7",
    }
    data.update(overrides)
    return data


def tag(contact: Contact, *names: str) -> Contact:
    for name in names:
        contact.tags.add(Tag.objects.get_or_create(owner=contact.owner, name=name)[0])
    return contact


# --- Who may open each page -------------------------------------------------------

OBJECT_URLS = ["contacts:detail", "contacts:edit", "contacts:delete"]


@pytest.mark.parametrize("name", OBJECT_URLS)
def test_owner_opens_each_contact_page(client, connector, target, name):
    response = login(client, connector).get(reverse(name, args=[target.pk]))

    assert response.status_code == 200
    assert "Carol Target" in response.content.decode()


@pytest.mark.parametrize("name", OBJECT_URLS)
@pytest.mark.parametrize("who", ["member", "seeker", "outsider"])
def test_anyone_but_the_owner_gets_404_on_each_contact_page(client, request, target, name, who):
    user = request.getfixturevalue(who)  # `seeker` and `member` share the owner's cohort

    response = login(client, user).get(reverse(name, args=[target.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize("name", ["contacts:edit", "contacts:delete"])
@pytest.mark.parametrize("who", ["member", "outsider"])
def test_anyone_but_the_owner_cannot_change_a_contact(client, request, target, name, who):
    response = login(client, request.getfixturevalue(who)).post(
        reverse(name, args=[target.pk]), contact_data(name="Hijacked")
    )

    assert response.status_code == 404
    target.refresh_from_db()
    assert target.name == "Carol Target"


@pytest.mark.parametrize("name", OBJECT_URLS)
def test_anonymous_is_sent_to_log_in_from_each_contact_page(client, target, name):
    url = reverse(name, args=[target.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", ["contacts:list", "contacts:create"])
def test_anonymous_is_sent_to_log_in_from_the_list_and_the_new_contact_page(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_anonymous_post_creates_nothing(client, db):
    response = client.post(reverse("contacts:create"), contact_data())

    assert response.status_code == 302
    assert not Contact.objects.exists()


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_the_list_shows_only_the_viewers_own_contacts(client, request, target, who):
    user = request.getfixturevalue(who)
    ContactFactory(owner=user, name="Own Person")

    response = login(client, user).get(reverse("contacts:list"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Own Person" in page
    assert "Carol Target" not in page


def test_owner_sees_their_contact_in_the_list(client, connector, target):
    response = login(client, connector).get(reverse("contacts:list"))

    assert response.status_code == 200
    assert target.get_absolute_url() in response.content.decode()


@pytest.mark.parametrize("who", ["connector", "member", "outsider"])
def test_every_signed_in_user_may_open_the_new_contact_page(client, request, target, who):
    response = login(client, request.getfixturevalue(who)).get(reverse("contacts:create"))

    assert response.status_code == 200
    assert 'name="weekdays"' in response.content.decode()


# --- The list: search, filters, fragment, queries ---------------------------------


@pytest.fixture
def people(connector):
    """The connector's contacts, varied enough for each filter to pick one out.

    Titles are fixed: a random job title ("Software developer", "Engineering
    manager") would match the searches below by chance.
    """
    carol = tag(
        ContactFactory(
            owner=connector, name="Carol Target", organisation="Acme Agency", title="Recruiter", strength=Strength.CLOSE
        ),
        "recruiter",
    )
    dev = tag(
        ContactFactory(
            owner=connector, name="Dev Patel", organisation="Beta Bank", title="Analyst", strength=Strength.ONLINE_ONLY
        ),
        "fintech",
    )
    erin = ContactFactory(
        owner=connector, name="Erin Ortiz", organisation="Beta Bank", title="Treasurer", strength=Strength.NEVER_MET
    )
    return carol, dev, erin


def names_in(response) -> set[str]:
    page = response.content.decode()
    return {name for name in ("Carol Target", "Dev Patel", "Erin Ortiz") if f">{name}</a>" in page}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"Carol Target", "Dev Patel", "Erin Ortiz"}),
        ({"q": "carol"}, {"Carol Target"}),
        ({"q": "beta"}, {"Dev Patel", "Erin Ortiz"}),
        ({"organisation": "Beta Bank"}, {"Dev Patel", "Erin Ortiz"}),
        ({"strength": Strength.ONLINE_ONLY}, {"Dev Patel"}),
        ({"tag": "recruiter"}, {"Carol Target"}),
        ({"q": "erin", "organisation": "Beta Bank"}, {"Erin Ortiz"}),
        ({"organisation": "Beta Bank", "tag": "recruiter"}, set()),
    ],
)
def test_list_search_and_filters_show_exactly_the_matching_contacts(client, connector, people, params, expected):
    response = login(client, connector).get(reverse("contacts:list"), params)

    assert response.status_code == 200
    assert names_in(response) == expected


def test_filters_offer_only_the_owners_organisations_and_tags(client, connector, outsider, people):
    tag(ContactFactory(owner=outsider, organisation="Secret Corp"), "secret-tag")

    login(client, connector)
    page = client.get(reverse("contacts:list")).content.decode()
    # The organisations are suggested as they are typed, from the owner's contacts only.
    suggested = client.get(reverse("contacts:organisations"), {"organisation": "c"}, **HTMX).content.decode()

    assert '<option value="recruiter">' in page
    assert "secret-tag" not in page
    assert "Secret Corp" not in page
    assert ">Acme Agency</a>" in suggested
    assert "Secret Corp" not in suggested


def test_a_tag_that_is_not_the_owners_filters_nothing(client, connector, outsider, people):
    tag(ContactFactory(owner=outsider, name="Hidden Person"), "secret-tag")

    response = login(client, connector).get(reverse("contacts:list"), {"tag": "secret-tag"})

    assert names_in(response) == {"Carol Target", "Dev Patel", "Erin Ortiz"}
    assert "Hidden Person" not in response.content.decode()


def test_strength_is_shown_in_words(client, connector, people):
    page = login(client, connector).get(reverse("contacts:list")).content.decode()

    assert "Close — we know each other well" in page
    assert "Online only — connected, never really talked" in page


def test_htmx_search_returns_only_the_results_fragment(client, connector, people):
    response = login(client, connector).get(reverse("contacts:list"), {"q": "dev"}, **HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="contact-results"')
    assert "<html" not in page
    assert 'name="q"' not in page  # the search form stays as it is on the page
    assert names_in(response) == {"Dev Patel"}
    assert "HX-Request" in response["Vary"]


def test_the_full_page_wires_live_search_to_the_results(client, connector, people):
    page = login(client, connector).get(reverse("contacts:list")).content.decode()

    assert "<html" in page
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    assert 'hx-target="#contact-results"' in page
    assert 'hx-push-url="true"' in page
    assert 'id="contact-search-indicator"' in page
    assert '<section id="contact-results"' in page


def test_back_button_history_restore_gets_the_whole_page(client, connector, people):
    response = login(client, connector).get(
        reverse("contacts:list"), {"q": "dev"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
    )

    page = response.content.decode()
    assert "<html" in page
    assert 'value="dev"' in page
    assert names_in(response) == {"Dev Patel"}


def test_empty_list_says_what_to_do_next(client, connector):
    page = login(client, connector).get(reverse("contacts:list")).content.decode()

    assert "No contacts yet — add one" in page
    assert f'href="{reverse("contacts:create")}"' in page


def test_no_match_offers_to_clear_the_filters(client, connector, people):
    page = login(client, connector).get(reverse("contacts:list"), {"q": "nobody-by-this-name"}).content.decode()

    assert "No contacts match" in page
    assert "Clear filters" in page
    assert "No contacts yet" not in page


def test_list_is_paginated_and_keeps_the_filters(client, connector):
    for n in range(30):
        ContactFactory(owner=connector, name=f"Person {n:02}", organisation="Acme")
    login(client, connector)

    first = client.get(reverse("contacts:list"), {"organisation": "Acme"}).content.decode()
    second = client.get(reverse("contacts:list"), {"organisation": "Acme", "page": 2}, **HTMX).content.decode()

    assert "1–25 of 30 contacts" in first
    assert "?organisation=Acme&amp;page=2" in first
    assert ">Person 24</a>" in first and ">Person 25</a>" not in first
    assert "26–30 of 30 contacts" in second
    assert ">Person 29</a>" in second and ">Person 24</a>" not in second


def test_a_search_is_paged_in_name_order_with_its_tags_and_count(client, connector):
    for n in range(30):
        tag(ContactFactory(owner=connector, name=f"Person {29 - n:02}", organisation="Northwind"), f"tag-{n % 2}")
    ContactFactory(owner=connector, name="Person 99", organisation="Contoso")
    ContactFactory(owner=UserFactory(), name="Not Mine", organisation="Northwind")
    login(client, connector)

    first = client.get(reverse("contacts:list"), {"q": "northwind"}).content.decode()
    second = client.get(reverse("contacts:list"), {"q": "northwind", "page": 2}, **HTMX).content.decode()

    assert "1–25 of 30 contacts matching" in first and "26–30 of 30 contacts" in second
    assert ">Person 00</a>" in first and ">Person 24</a>" in first and ">Person 25</a>" not in first
    assert ">Person 29</a>" in second and "Person 99" not in first + second and "Not Mine" not in first + second
    assert first.index(">Person 03</a>") < first.index(">Person 10</a>")
    assert "?tag=tag-0" in first and "?tag=tag-1" in second


def list_queries(client, owner, count: int) -> int:
    for n in range(count):
        tag(ContactFactory(owner=owner, organisation=f"Org {n % 4}"), f"tag-{n % 3}", "shared")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("contacts:list"))
    assert response.status_code == 200
    assert response.content.decode().count('class="contact-row"') == min(count, CONTACTS_PER_PAGE)
    return len(queries)


def test_list_query_count_does_not_grow_with_contacts(client, db, django_assert_max_num_queries):
    few_owner, many_owner = UserFactory(), UserFactory()

    few = list_queries(login(client, few_owner), few_owner, 3)
    many = list_queries(login(client, many_owner), many_owner, 60)

    assert few == many
    with django_assert_max_num_queries(few):
        client.get(reverse("contacts:list"), {"q": "a", "tag": "shared"}, **HTMX)


def test_detail_query_count_does_not_grow_with_tags(client, connector, django_assert_max_num_queries):
    one = tag(ContactFactory(owner=connector), "tag-0")
    contact = tag(ContactFactory(owner=connector), *[f"tag-{n}" for n in range(15)])
    login(client, connector)
    client.get(one.get_absolute_url())  # session and user are warm

    with django_assert_max_num_queries(5) as one_tag:
        client.get(one.get_absolute_url())
    with django_assert_max_num_queries(len(one_tag.captured_queries)):
        response = client.get(contact.get_absolute_url())

    assert "tag-14" in response.content.decode()


# --- Detail -----------------------------------------------------------------------


def test_detail_shows_everything_with_the_window_in_plain_words(client, connector):
    contact = tag(
        ContactFactory(
            owner=connector,
            name="Carol Target",
            email="carol@example.org",
            organisation="Acme Agency",
            title="Head of Operations",
            notes="Prefers short emails.",
            how_we_know="Worked together at the library.",
            time_zone="Europe/London",
            hours_start=dt.time(9),
            hours_end=dt.time(17),
            min_days_between=7,
            do_not_contact=True,
        ),
        "recruiter",
    )

    page = login(client, connector).get(contact.get_absolute_url()).content.decode()

    assert "Weekdays 09:00–17:00 Europe/London; at least 7 days between contacts; do not contact" in page
    for text in ("carol@example.org", "Acme Agency", "Head of Operations", "Prefers short emails.", "recruiter"):
        assert text in page
    assert "Close — we know each other well" in page
    assert reverse("contacts:edit", args=[contact.pk]) in page
    assert reverse("contacts:delete", args=[contact.pk]) in page


@pytest.mark.parametrize(
    ("window", "words"),
    [
        ({}, "Weekdays 09:00–17:00 Europe/London"),
        ({"weekdays": 0b1111111}, "Every day 09:00–17:00 Europe/London"),
        ({"weekdays": 0b1100000}, "Weekends 09:00–17:00 Europe/London"),
        ({"weekdays": 0b0010101}, "Mon, Wed, Fri 09:00–17:00 Europe/London"),
        ({"unavailable_until": dt.date(2025, 12, 12)}, "Weekdays 09:00–17:00 Europe/London; busy through 12 Dec"),
        ({"unavailable_until": dt.date(2026, 1, 5)}, "Weekdays 09:00–17:00 Europe/London; busy through 5 Jan 2026"),
        ({"unavailable_until": dt.date(2025, 12, 1)}, "Weekdays 09:00–17:00 Europe/London"),  # already over
        ({"min_days_between": 1}, "Weekdays 09:00–17:00 Europe/London; at least 1 day between contacts"),
        (
            {"unavailable_until": dt.date(2025, 12, 12), "min_days_between": 7, "do_not_contact": True},
            "Weekdays 09:00–17:00 Europe/London; busy through 12 Dec; at least 7 days between contacts; do not contact",
        ),
    ],
)
def test_window_in_words(window, words):
    contact = Contact(time_zone="Europe/London", hours_start=dt.time(9), hours_end=dt.time(17), **window)

    assert window_in_words(contact, now=dt.datetime(2025, 12, 3, 12, tzinfo=dt.UTC)) == words


def test_window_in_words_reads_today_in_the_contacts_time_zone():
    # 23:30 UTC on the 12th is already the 13th in Tokyo: "busy through the 12th" is over there.
    contact = Contact(time_zone="Asia/Tokyo", unavailable_until=dt.date(2025, 12, 12))

    assert "busy" not in window_in_words(contact, now=dt.datetime(2025, 12, 12, 23, 30, tzinfo=dt.UTC))


# --- Create and edit -----------------------------------------------------------------


def test_create_saves_the_contact_with_tags_and_window(client, seeker):
    response = login(client, seeker).post(reverse("contacts:create"), contact_data(weekdays=["0", "2", "4"]))

    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == contact.get_absolute_url()
    assert contact.owner == seeker
    assert contact.weekdays == 0b0010101
    assert contact.hours_start == dt.time(9) and contact.hours_end == dt.time(17)
    assert contact.time_zone == "Europe/London"
    assert contact.shareable is True
    assert sorted(t.name for t in contact.tags.all()) == ["Berlin", "operations"]
    assert set(Tag.objects.values_list("owner", flat=True)) == {seeker.pk}
    assert "Saved Carol Target." in client.get(response["Location"]).content.decode()


def test_create_over_htmx_answers_with_a_client_redirect(client, seeker):
    response = login(client, seeker).post(reverse("contacts:create"), contact_data(), **HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == Contact.objects.get().get_absolute_url()


IMPOSSIBLE_WINDOWS = [
    ({"weekdays": []}, "weekdays", "Choose at least one weekday"),
    ({"hours_start": "17:00", "hours_end": "09:00"}, "hours_end", "must end after they start"),
    ({"hours_start": "09:00", "hours_end": "09:00"}, "hours_end", "must end after they start"),
    ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "not a time zone we know"),
]


@pytest.mark.parametrize(("change", "field", "message"), IMPOSSIBLE_WINDOWS)
def test_create_refuses_a_window_that_can_never_open(client, seeker, change, field, message):
    response = login(client, seeker).post(reverse("contacts:create"), contact_data(name="Typed Name", **change))

    assert response.status_code == 422
    assert not Contact.objects.exists()
    assert not Tag.objects.exists()
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert message in form.errors[field][0]
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page and message in page
    assert 'value="Typed Name"' in page  # what was typed is kept


@pytest.mark.parametrize(("change", "field", "message"), IMPOSSIBLE_WINDOWS)
def test_edit_refuses_a_window_that_can_never_open_and_changes_nothing(
    client, connector, target, change, field, message
):
    before = Contact.objects.filter(pk=target.pk).values().get()

    response = login(client, connector).post(
        reverse("contacts:edit", args=[target.pk]), contact_data(name="New Name", **change), **HTMX
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert page.lstrip().startswith('<form id="contact-form"')  # only the form, for htmx to swap
    assert message in page
    assert list(response.context["form"].errors) == [field]
    assert Contact.objects.filter(pk=target.pk).values().get() == before
    assert not target.tags.exists()


def test_edit_page_shows_the_saved_values(client, connector, target):
    tag(target, "recruiter", "Berlin")
    target.weekdays = 0b0000011
    target.save()

    page = login(client, connector).get(reverse("contacts:edit", args=[target.pk])).content.decode()

    assert 'value="Berlin, recruiter"' in page
    assert 'value="0" id="id_weekdays_0" checked' in page
    assert 'value="1" id="id_weekdays_1" checked' in page
    assert 'value="2" id="id_weekdays_2" checked' not in page
    assert 'type="time" name="hours_start" value="09:00"' in page


def test_edit_saves_changes_and_replaces_the_tags(client, connector, target):
    tag(target, "old-tag")
    Tag.objects.create(owner=connector, name="Operations")

    response = login(client, connector).post(
        reverse("contacts:edit", args=[target.pk]),
        contact_data(name="Carol T. Target", tags="operations, new-tag", hours_end="18:30"),
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.name == "Carol T. Target"
    assert target.hours_end == dt.time(18, 30)
    assert sorted(t.name for t in target.tags.all()) == ["Operations", "new-tag"]  # reused, not duplicated
    assert Tag.objects.filter(owner=connector, name__iexact="operations").count() == 1
    assert "Saved Carol T. Target." in client.get(response["Location"]).content.decode()


# --- Delete -------------------------------------------------------------------------


def test_delete_get_asks_first_and_deletes_nothing(client, connector, target):
    response = login(client, connector).get(reverse("contacts:delete", args=[target.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Delete Carol Target?" in page
    assert 'method="post"' in page
    assert Contact.objects.filter(pk=target.pk).exists()


def test_delete_post_deletes_and_returns_to_the_list(client, connector, target):
    response = login(client, connector).post(reverse("contacts:delete", args=[target.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:list")
    assert not Contact.objects.filter(pk=target.pk).exists()
    assert "Deleted Carol Target." in client.get(response["Location"]).content.decode()


def test_delete_over_htmx_answers_with_a_client_redirect(client, connector, target):
    response = login(client, connector).post(reverse("contacts:delete", args=[target.pk]), **HTMX)

    assert response["HX-Redirect"] == reverse("contacts:list")
    assert not Contact.objects.filter(pk=target.pk).exists()


def test_a_contact_in_an_introduction_is_kept_with_a_message(client, connector, seeker, target):
    IntroRequestFactory(seeker=seeker, target=target)

    response = login(client, connector).post(reverse("contacts:delete", args=[target.pk]))

    assert response["Location"] == target.get_absolute_url()
    assert Contact.objects.filter(pk=target.pk).exists()
    assert "is part of an introduction" in client.get(response["Location"]).content.decode()
