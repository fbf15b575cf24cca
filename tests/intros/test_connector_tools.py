import pytest
from django.urls import reverse
from django.utils import timezone

from followups.models import Outreach
from intros import services
from intros.models import IntroRequest
from intros.states import Mode, Outcome, Status
from lib.outbox.models import OutboxMessage
from tests.factories import ContactFactory, IntroRequestFactory, UserFactory
from tests.stories import accepted, awaiting_target, last_link_token, submitted
from workflows import intros as actions

pytestmark = pytest.mark.django_db


def approve(intro):
    return actions.do_approve(
        intro=intro,
        connector=intro.connector,
        vouch_strength="close",
        vouch_note="Known them for years, a safe pair of hands.",
        mode=Mode.DOUBLE_OPT_IN,
    )


def test_a_request_beyond_capacity_waits_in_the_queue_and_the_seeker_is_told(client):
    connector = UserFactory(intro_capacity=1)
    carried = awaiting_target(target=ContactFactory(owner=connector))
    assert carried.status == Status.AWAITING_TARGET
    first, second = (IntroRequestFactory(target=ContactFactory(owner=connector)) for _ in range(2))
    r1 = actions.do_submit(intro=first, seeker=first.seeker)
    r2 = actions.do_submit(intro=second, seeker=second.seeker)
    assert "number 1 in their queue" in r1.warning and "number 2 in their queue" in r2.warning
    told = OutboxMessage.objects.get(to=[second.seeker.email], subject__contains="at capacity")
    assert "number 2" in told.body_text
    with pytest.raises(services.NotAllowed, match="capacity"):
        approve(first)
    first.refresh_from_db()
    assert first.status == Status.SUBMITTED
    # The carried introduction ends: there is room again, and the queue's head can be approved.
    actions.do_withdraw(intro=carried, seeker=carried.seeker)
    assert approve(first).intro.status == Status.AWAITING_TARGET


def test_the_seeker_sees_the_queue_message_on_the_page(client):
    connector = UserFactory(intro_capacity=0)
    intro = IntroRequestFactory(target=ContactFactory(owner=connector))
    client.force_login(intro.seeker)
    response = client.post(reverse("intros:submit", args=[intro.pk]), follow=True)
    assert "number 1 in their queue" in response.content.decode()


def test_no_capacity_means_no_queue():
    intro = submitted()
    assert services.queue_position(intro) is None
    assert not OutboxMessage.objects.filter(subject__contains="at capacity").exists()


def test_vetting_page_shows_follow_through_thanks_breaches_and_feedback(client):
    seeker = UserFactory()
    earlier = accepted(seeker=seeker)
    Outreach.objects.create(intro=earlier, seeker=seeker, contact=earlier.target, at=timezone.now(), is_breach=True)
    actions.do_record_meeting(intro=earlier, seeker=seeker, met_on=timezone.localdate())
    actions.do_ask_feedback(intro=earlier)
    link, _ = last_link_token(earlier, "feedback")
    actions.do_target_feedback(link=link, rating=2, note="Came unprepared.")
    pending = submitted(seeker=seeker)
    client.force_login(pending.connector)
    page = client.get(reverse("intros:detail", args=[pending.pk])).content.decode()
    assert "Boundary breaches (wrote outside a target&#x27;s window)" in page
    assert "⚠ 1" in page
    assert "2.0 of 5 over 1 meeting" in page
    assert "Thank-yous sent" in page and "First outreach within the time asked" in page
    assert "Came unprepared." not in page  # a target's words stay with the connector they were given to


def test_the_connector_sees_the_targets_feedback_on_the_introduction(client):
    intro = accepted()
    actions.do_record_meeting(intro=intro, seeker=intro.seeker, met_on=timezone.localdate())
    actions.do_ask_feedback(intro=intro)
    _link, token = last_link_token(intro, "feedback")
    url = reverse("intros:target", args=[intro.pk, token])
    assert "How good was the match?" in client.get(url).content.decode()
    assert (
        client.post(url, {"action": "feedback", "feedback-rating": "5", "feedback-note": "Lovely."}).status_code == 200
    )
    assert client.post(url, {"action": "feedback", "feedback-rating": "1"}).status_code == 410
    client.force_login(intro.connector)
    page = client.get(reverse("intros:detail", args=[intro.pk])).content.decode()
    assert "5/5" in page and "Lovely." in page
    client.force_login(intro.seeker)
    assert "Lovely." not in client.get(reverse("intros:detail", args=[intro.pk])).content.decode()
    assert OutboxMessage.objects.filter(to=[intro.connector.email], subject__contains="feedback").count() == 1


def test_connector_record_counts_outcomes_and_chains(client):
    kevin = UserFactory()
    first = accepted(target=ContactFactory(owner=kevin))
    actions.do_record_meeting(intro=first, seeker=first.seeker, met_on=timezone.localdate())
    actions.do_record_outcome(
        intro=first, seeker=first.seeker, outcome=Outcome.REFERRED_ON, referred_to={"name": "Next Person"}
    )
    awaiting_target(target=ContactFactory(owner=kevin))
    client.force_login(kevin)
    page = client.get(reverse("intros:connector_record")).content.decode()
    assert "<dt>Approved and vouched</dt><dd>2</dd>" in page
    assert "<dt>Met</dt><dd>1</dd>" in page
    assert "<dt>Chains started (one introduction led to the next)</dt><dd>1</dd>" in page
    # The outcome is on the introduction's row; a referral on is not counted as an offer or a hire.
    assert f"{Outcome.REFERRED_ON.label} · updated" in page
    assert "<dt>Led to a job offer or a hire</dt><dd>0</dd>" in page


def test_chain_view_credits_each_connector_and_hides_from_outsiders(client, outsider):
    kevin, michael = UserFactory(full_name="Kevin Walsh"), UserFactory(full_name="Michael Byrne")
    first = accepted(seeker=michael, target=ContactFactory(owner=kevin))
    actions.do_record_meeting(intro=first, seeker=michael, met_on=timezone.localdate())
    actions.do_record_outcome(intro=first, seeker=michael, outcome=Outcome.HIRED)
    second = submitted(target=ContactFactory(owner=michael))
    actions.do_approve(
        intro=second,
        connector=michael,
        vouch_strength="close",
        vouch_note="He would do my old job well.",
        mode=Mode.DOUBLE_OPT_IN,
        parent=first,
    )
    link, _ = last_link_token(second)
    actions.do_target_accept(link=link, terms=services.TargetTerms())
    actions.do_record_meeting(intro=second, seeker=second.seeker, met_on=timezone.localdate())
    actions.do_record_outcome(intro=second, seeker=second.seeker, outcome=Outcome.HIRED)
    client.force_login(second.seeker)
    page = client.get(reverse("intros:chain", args=[second.pk])).content.decode()
    assert page.index(first.target.name) < page.index(second.target.name)
    assert '<th scope="row">Kevin Walsh</th><td class="num">1</td><td class="num">1</td>' in page
    assert '<th scope="row">Michael Byrne</th><td class="num">1</td><td class="num">1</td>' in page
    assert second.target.email not in page and first.target.email not in page
    client.force_login(outsider)
    assert client.get(reverse("intros:chain", args=[second.pk])).status_code == 404


def test_chain_view_query_count_follows_generations_not_size(client, django_assert_max_num_queries):
    root = accepted()
    actions.do_record_meeting(intro=root, seeker=root.seeker, met_on=timezone.localdate())
    actions.do_record_outcome(intro=root, seeker=root.seeker, outcome=Outcome.HIRED)
    IntroRequestFactory(parent=root)
    client.force_login(root.seeker)
    with django_assert_max_num_queries(12) as one_child:
        assert client.get(reverse("intros:chain", args=[root.pk])).status_code == 200
    for _ in range(5):
        IntroRequestFactory(parent=root)
    # Six requests in the same generation cost what one did.
    with django_assert_max_num_queries(len(one_child.captured_queries)):
        assert client.get(reverse("intros:chain", args=[root.pk])).status_code == 200
    assert IntroRequest.objects.filter(parent=root).count() == 6
