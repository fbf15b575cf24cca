"""The connector decides after reading: the vetting page reads who asks for whom, the
preparation, the track record, then the decision; after a re-submission it shows what changed
since the version the connector sent back, word by word; approving with nothing filled in says
what is missing in words."""

from __future__ import annotations

import pytest
from django.urls import reverse

from intros import services
from intros.diffs import Piece, field_change, word_diff
from intros.models import IntroEvent
from intros.states import Status
from lib.outbox.models import OutboxMessage
from tests.factories import GOOD_PREPARATION
from tests.stories import submitted
from workflows import intros as actions
from workflows.personal_data import do_account_delete

pytestmark = pytest.mark.django_db

NEW_GOAL = "Learn how the operations team plans its year, and whether my vendor contracts work fits a role there."


def _sent_back_and_improved(seeker, target, **changes):
    intro = submitted(seeker=seeker, target=target)
    actions.do_request_changes(intro=intro, connector=intro.connector, note="Make the goal about the role.")
    services.intro_update_preparation(intro=intro, seeker=seeker, preparation=changes)
    actions.do_submit(intro=intro, seeker=seeker)
    intro.refresh_from_db()
    return intro


def test_the_vetting_page_reads_who_then_preparation_then_track_record_then_decision(client, seeker, target):
    intro = submitted(seeker=seeker, target=target)
    client.force_login(intro.connector)
    html = client.get(intro.get_absolute_url()).content.decode()
    order = [html.index(f'id="{anchor}"') for anchor in ("people-heading", "preparation-heading", "record-heading")]
    order.append(html.index('id="vet-heading"'))
    order.append(html.index('id="changes-heading"'))
    assert order == sorted(order), order
    assert "Read the preparation below first" not in html


def test_the_seeker_s_page_keeps_what_to_do_first(client, seeker, target):
    intro = submitted(seeker=seeker, target=target)
    actions.do_request_changes(intro=intro, connector=intro.connector, note="Say more.")
    client.force_login(seeker)
    html = client.get(intro.get_absolute_url()).content.decode()
    assert html.index('id="prep-heading"') < html.index('id="people-heading"') < html.index('id="preparation-heading"')


def test_after_a_resubmission_the_connector_sees_what_changed_word_by_word(client, seeker, target):
    intro = _sent_back_and_improved(seeker, target, goal=NEW_GOAL)
    client.force_login(intro.connector)
    html = client.get(intro.get_absolute_url()).content.decode()
    assert "Janet changed it since your note of" in html
    assert "Make the goal about the role." in html  # their own note, beside it
    goal = html[html.index("What you hope to get from this conversation") :]
    goal = goal[: goal.index("</div>")]
    assert "Changed" in goal
    assert '<del class="diff-removed"><span class="visually-hidden">[removed: </span>budgeting experience ' in goal
    assert '<ins class="diff-added"><span class="visually-hidden">[added: </span>vendor contracts work ' in goal
    assert "3 words removed, 4 added" in goal  # "year" became "year," too
    assert html.count("badge-unchanged") == 6  # the other six parts, folded
    assert html.count('<details class="diff-field unchanged">') == 6


def test_the_resubmission_email_says_changed_since_your_note_and_what(seeker, target):
    intro = _sent_back_and_improved(seeker, target, goal=NEW_GOAL, questions=GOOD_PREPARATION["questions"] + "\nWho?")
    message = OutboxMessage.objects.filter(to=[intro.connector.email]).latest("pk")
    assert message.subject == "Janet Seeker's request to meet Carol Target: changed since your note"
    assert "What changed: the goal, the questions." in message.body_text
    assert intro.get_absolute_url() in message.body_text


def test_a_resubmission_with_nothing_changed_says_so(client, seeker, target):
    intro = _sent_back_and_improved(seeker, target)
    message = OutboxMessage.objects.filter(to=[intro.connector.email]).latest("pk")
    assert "changed since your note" in message.subject
    assert "The preparation reads as it did when you sent it back." in message.body_text
    client.force_login(intro.connector)
    html = client.get(intro.get_absolute_url()).content.decode()
    assert html.count("badge-unchanged") == 7 and "diff-added" not in html
    assert "Janet sent it back without changing the preparation since your note of" in html


def test_the_first_submission_email_is_unchanged(seeker, target):
    intro = submitted(seeker=seeker, target=target)
    message = OutboxMessage.objects.get(to=[intro.connector.email])
    assert message.subject == "Janet Seeker asks you for an introduction to Carol Target"


def test_the_sent_back_version_is_the_latest_one(seeker, target):
    intro = _sent_back_and_improved(seeker, target, goal=NEW_GOAL)
    actions.do_request_changes(intro=intro, connector=intro.connector, note="Closer, one more pass.")
    services.intro_update_preparation(
        intro=intro, seeker=seeker, preparation={"fit": GOOD_PREPARATION["fit"] + " Also."}
    )
    actions.do_submit(intro=intro, seeker=seeker)
    intro.refresh_from_db()
    changed = [c.name for c in services.preparation_changes(intro, services.sent_back_version(intro)) if c.changed]
    assert changed == ["fit"]  # the goal changed before the last note, not since


def test_word_diff_marks_removed_then_added_words_and_keeps_the_rest():
    pieces = word_diff("I want to learn about ops planning.", "I want to learn how ops plans its year.")
    assert pieces == (
        Piece("same", "I want to learn "),
        Piece("removed", "about "),
        Piece("added", "how "),
        Piece("same", "ops "),
        Piece("removed", "planning."),
        Piece("added", "plans its year."),
    )
    assert word_diff("same  words", "same words") == (Piece("same", "same words"),)  # spacing is not a change
    assert word_diff("", "new") == (Piece("added", "new"),)


def test_the_size_of_a_change_is_said_in_words():
    def summary(before, after):
        return field_change(name="goal", label="goal", before=before, after=after).summary

    assert summary("a b c", "a b c d e") == "2 words added"
    assert summary("a b c", "a") == "2 words removed"
    assert summary("a b c", "a x c") == "1 word removed, 1 added"
    assert summary("a b", "a b") == ""


def test_approving_with_nothing_filled_in_says_what_is_missing_in_words(client, seeker, target):
    intro = submitted(seeker=seeker, target=target)
    client.force_login(intro.connector)
    response = client.post(reverse("intros:approve", args=[intro.pk]), {})
    assert response.status_code == 422
    html = response.content.decode()
    assert "This field is required." not in html
    assert (
        "Before approving, confirm you read the preparation, confirm the fit is real, confirm you know them "
        "well enough, say how well you know them, write your vouch note and choose how the introduction is made."
    ) in html
    assert "Tick this once you have read the preparation and found it specific." in html
    intro.refresh_from_db()
    assert intro.status == Status.SUBMITTED


def test_the_vetting_page_s_queries_do_not_grow_with_history(client, seeker, target, django_assert_max_num_queries):
    intro = _sent_back_and_improved(seeker, target, goal=NEW_GOAL)
    client.force_login(intro.connector)
    with django_assert_max_num_queries(16) as few:
        client.get(intro.get_absolute_url())
    for _ in range(3):
        actions.do_request_changes(intro=intro, connector=intro.connector, note="Once more.")
        actions.do_submit(intro=intro, seeker=seeker)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(intro.get_absolute_url())


def test_deleting_the_account_erases_the_versions_sent_back(seeker, target):
    _sent_back_and_improved(seeker, target, goal=NEW_GOAL)
    assert IntroEvent.objects.filter(preparation__isnull=False).exists()
    do_account_delete(user=seeker)
    assert not IntroEvent.objects.filter(preparation__isnull=False).exists()
