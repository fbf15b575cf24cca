import datetime as dt

import pytest
from django.http import QueryDict

from contacts.forms import ContactFilterForm, ContactForm, split_tags, tags_named
from contacts.models import WEEKDAYS_WORK, Contact, Strength, Tag
from tests.factories import ContactFactory, UserFactory


def form_data(**overrides) -> dict:
    data = {
        "name": "Carol Target",
        "strength": Strength.CLOSE,
        "time_zone": "Europe/Berlin",
        "weekdays": ["0", "1", "2", "3", "4"],
        "hours_start": "09:00",
        "hours_end": "17:00",
        "min_days_between": "0",
    }
    data.update(overrides)
    return data


def test_split_tags_trims_collapses_spaces_and_drops_repeats_in_any_case():
    assert split_tags(" fintech, Fintech ,,  New   York , recruiter,") == ["fintech", "New York", "recruiter"]


def test_tags_named_reuses_the_owners_tag_in_any_case_and_creates_the_rest(db):
    owner, other = UserFactory(), UserFactory()
    mine = Tag.objects.create(owner=owner, name="Fintech")
    Tag.objects.create(owner=other, name="berlin")

    tags = tags_named(owner=owner, names=["fintech", "Berlin"])

    assert tags[0] == mine
    assert tags[1].owner == owner and tags[1].name == "Berlin"  # never another person's tag
    assert Tag.objects.filter(owner=owner).count() == 2


def test_a_valid_form_saves_the_weekdays_as_a_mask_and_the_tags(db):
    owner = UserFactory()

    form = ContactForm(form_data(weekdays=["5", "6"], tags="weekend, Sailing"), owner=owner)

    assert form.is_valid(), form.errors
    contact = form.save()
    assert contact.owner == owner
    assert contact.weekdays == 0b1100000
    assert sorted(t.name for t in contact.tags.all()) == ["Sailing", "weekend"]


def test_a_new_contact_starts_in_the_owners_time_zone_on_working_days(db):
    form = ContactForm(owner=UserFactory(time_zone="America/Chicago"))

    assert form["time_zone"].value() == "America/Chicago"
    assert form["weekdays"].value() == [0, 1, 2, 3, 4]
    assert 'value="America/Chicago" selected' in str(form["time_zone"])


def test_editing_starts_from_the_saved_weekdays_and_tags(db):
    contact = ContactFactory(weekdays=0b1000001)
    contact.tags.add(
        Tag.objects.create(owner=contact.owner, name="b"), Tag.objects.create(owner=contact.owner, name="a")
    )

    form = ContactForm(instance=contact, owner=contact.owner)

    assert form["weekdays"].value() == [0, 6]
    assert form["tags"].value() == "a, b"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"weekdays": []}, "weekdays", "Choose at least one weekday, or the window could never open."),
        ({"hours_end": "08:59"}, "hours_end", "The hours must end after they start"),
        ({"hours_end": "09:00"}, "hours_end", "The hours must end after they start"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "“Europe/Atlantis” is not a time zone we know"),
        ({"time_zone": ""}, "time_zone", "This field is required."),
    ],
)
def test_a_window_that_can_never_open_is_refused_on_its_field(db, change, field, message):
    form = ContactForm(form_data(**change), owner=UserFactory())

    assert not form.is_valid()
    assert list(form.errors) == [field]
    assert form.errors[field][0].startswith(message)
    assert not form.non_field_errors()  # the database constraints do not add a second, vaguer message


def test_a_tag_longer_than_the_column_is_refused(db):
    form = ContactForm(form_data(tags="ok, " + "x" * 41), owner=UserFactory())

    assert not form.is_valid()
    assert "too long for a tag" in form.errors["tags"][0]


def test_too_many_tags_are_refused(db):
    form = ContactForm(form_data(tags=", ".join(f"t{n}" for n in range(21))), owner=UserFactory())

    assert not form.is_valid()
    assert "21 tags" in form.errors["tags"][0]


def test_a_failed_form_saves_nothing(db):
    form = ContactForm(form_data(weekdays=[], tags="new-tag"), owner=UserFactory())

    assert not form.is_valid()
    assert not Contact.objects.exists()
    assert not Tag.objects.exists()


def test_filter_form_ignores_a_value_that_is_not_a_choice(db):
    owner = UserFactory()
    ContactFactory(owner=owner, organisation="Acme")

    filters = ContactFilterForm(QueryDict("tag=Gone+tag&strength=close&q=+ann+"), owner=owner)
    contacts = filters.apply(Contact.objects.owned_by(owner))

    assert filters.cleaned_data == {"q": "ann", "organisation": "", "strength": "close"}
    assert not filters.errors
    assert "strength" in str(contacts.query) and "Gone tag" not in str(contacts.query)
    assert filters.active


def test_filter_form_with_nothing_chosen_is_not_active(db):
    owner = UserFactory()

    filters = ContactFilterForm(QueryDict(""), owner=owner)

    assert list(filters.apply(Contact.objects.owned_by(owner))) == []
    assert not filters.active


def test_window_defaults_survive_the_form(db):
    form = ContactForm(form_data(), owner=UserFactory())

    assert form.is_valid(), form.errors
    contact = form.save()
    assert contact.weekdays == WEEKDAYS_WORK
    assert (contact.hours_start, contact.hours_end) == (dt.time(9), dt.time(17))


def test_filter_selects_keep_the_chosen_option_and_ask_for_results_as_they_change(db):
    owner = UserFactory()
    contact = ContactFactory(owner=owner)
    contact.tags.add(Tag.objects.create(owner=owner, name="R&D <team>"))

    html = str(ContactFilterForm(QueryDict("strength=close&tag=R%26D+%3Cteam%3E"), owner=owner))

    assert '<option value="close" selected>' in html
    assert '<option value="R&amp;D &lt;team&gt;" selected>R&amp;D &lt;team&gt;</option>' in html
    assert html.count(" selected>") == 2
    assert html.count('hx-get="/contacts/"') == 4  # search, organisation, strength, tag
