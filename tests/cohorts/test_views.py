import pytest
from django.urls import reverse

from cohorts.models import Cohort, Invitation
from lib.outbox.models import OutboxMessage
from tests.conftest import login
from tests.factories import CohortFactory, InvitationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def coach(cohort):
    return cohort.coach


def detail(cohort):
    return reverse("cohorts:detail", args=[cohort.pk])


def invite(cohort):
    return reverse("cohorts:invite", args=[cohort.pk])


# --- list -------------------------------------------------------------------------


def test_cohort_list_requires_login(client):
    response = client.get(reverse("cohorts:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_cohort_list_shows_coached_and_joined_cohorts(client, cohort, coach, seeker):
    other = CohortFactory(name="Other group", coach=seeker)
    CohortFactory(name="Not mine at all")
    response = login(client, seeker).get(reverse("cohorts:list"))
    assert response.status_code == 200
    assert list(response.context["coached"]) == [other]
    assert list(response.context["joined"]) == [cohort]
    assert response.context["joined"][0].member_count == 2
    assert b"Not mine at all" not in response.content
    assert b"Cohorts you coach" in response.content


def test_a_coach_finds_their_cohort_under_coached_not_joined(client, cohort, coach):
    response = login(client, coach).get(reverse("cohorts:list"))
    assert list(response.context["coached"]) == [cohort]
    assert list(response.context["joined"]) == []


def test_an_outsiders_cohort_list_says_they_are_not_in_a_cohort_yet(client, outsider, cohort):
    response = login(client, outsider).get(reverse("cohorts:list"))
    assert response.status_code == 200
    assert b"You are not in a cohort yet" in response.content
    assert cohort.name.encode() not in response.content


def test_cohort_list_queries_do_not_grow(client, seeker, django_assert_max_num_queries):
    for _ in range(5):
        MembershipFactory(user=seeker)
        CohortFactory(coach=seeker)
    login(client, seeker)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("cohorts:list"))
    assert len(response.context["joined"]) == 5
    assert len(response.context["coached"]) == 5


# --- detail ----------------------------------------------------------------------


def test_coach_sees_members_invitations_and_invite_form(client, cohort, coach, seeker, connector):
    InvitationFactory(cohort=cohort, email="new.person@example.com")
    response = login(client, coach).get(detail(cohort))
    assert response.status_code == 200
    assert b"Janet Seeker" in response.content
    assert b"Jill Connector" in response.content
    assert b"new.person@example.com" in response.content
    assert invite(cohort).encode() in response.content
    assert response.context["is_coach"] is True


def test_member_sees_member_names_but_no_invitations_or_invite_form(client, cohort, member, seeker):
    InvitationFactory(cohort=cohort, email="new.person@example.com")
    response = login(client, member).get(detail(cohort))
    assert response.status_code == 200
    assert b"Janet Seeker" in response.content
    assert b"Max Member" in response.content
    # names only: no addresses of other members, no pending invitations
    assert seeker.email.encode() not in response.content
    assert b"new.person@example.com" not in response.content
    assert invite(cohort).encode() not in response.content
    assert "invite_form" not in response.context


def test_outsider_gets_404_on_detail(client, cohort, outsider):
    assert login(client, outsider).get(detail(cohort)).status_code == 404


def test_detail_of_missing_cohort_is_404(client, seeker):
    assert login(client, seeker).get(reverse("cohorts:detail", args=[999_999])).status_code == 404


def test_detail_queries_do_not_grow(client, cohort, coach, django_assert_max_num_queries):
    login(client, coach)
    with django_assert_max_num_queries(6):
        client.get(detail(cohort))
    for _ in range(5):
        MembershipFactory(cohort=cohort)
        InvitationFactory(cohort=cohort)
    with django_assert_max_num_queries(6):
        response = client.get(detail(cohort))
    assert len(response.context["memberships"]) == 7
    assert len(response.context["invitations"]) == 5


# --- invite ------------------------------------------------------------------------


def test_coach_invites_several_emails_deduplicated(client, cohort, coach):
    login(client, coach)
    response = client.post(
        invite(cohort), {"emails": "Ann@Example.com, bob@example.com\nann@example.com;\n  carl@example.com  "}
    )
    assert response.status_code == 302
    assert response.url == detail(cohort)
    invitations = Invitation.objects.filter(cohort=cohort).order_by("email")
    assert [i.email for i in invitations] == ["ann@example.com", "bob@example.com", "carl@example.com"]
    assert all(i.invited_by == coach and i.accepted_at is None for i in invitations)
    assert OutboxMessage.objects.count() == 3
    message = OutboxMessage.objects.get(to=["ann@example.com"])
    assert cohort.name in message.subject
    assert "/cohorts/join/" in message.body_text
    assert message.reply_to == [coach.email]
    page = client.get(response.url)
    assert b"3 invitations sent." in page.content


def test_invite_reports_already_members_and_does_not_invite_them(client, cohort, coach, seeker):
    login(client, coach)
    response = client.post(invite(cohort), {"emails": f"{seeker.email.upper()}, new@example.com"}, headers=HTMX)
    assert response.status_code == 200
    assert [i.email for i in Invitation.objects.all()] == ["new@example.com"]
    assert OutboxMessage.objects.count() == 1
    assert f"not invited: {seeker.email}".encode() in response.content


def test_invite_by_htmx_answers_with_the_panel(client, cohort, coach):
    login(client, coach)
    response = client.post(invite(cohort), {"emails": "new@example.com"}, headers=HTMX)
    assert response.status_code == 200
    assert b'id="invite-panel"' in response.content
    assert b"<html" not in response.content
    assert b"new@example.com" in response.content
    assert b'hx-swap-oob="true"' in response.content


def test_invite_with_a_bad_address_sends_nothing_and_says_which(client, cohort, coach):
    login(client, coach)
    response = client.post(invite(cohort), {"emails": "good@example.com, not-an-email"}, headers=HTMX)
    assert response.status_code == 422
    assert b"not-an-email" in response.content
    assert b'id="invite-panel"' in response.content
    assert not Invitation.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_invite_without_htmx_error_renders_the_whole_page(client, cohort, coach):
    login(client, coach)
    response = client.post(invite(cohort), {"emails": " , "})
    assert response.status_code == 422
    assert b"<html" in response.content
    assert "emails" in response.context["invite_form"].errors


def test_member_cannot_invite(client, cohort, member):
    response = login(client, member).post(invite(cohort), {"emails": "x@example.com"})
    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_outsider_cannot_invite(client, cohort, outsider):
    response = login(client, outsider).post(invite(cohort), {"emails": "x@example.com"})
    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_invite_is_post_only(client, cohort, coach):
    assert login(client, coach).get(invite(cohort)).status_code == 405


def test_inviting_again_replaces_the_earlier_link(client, cohort, coach):
    login(client, coach)
    client.post(invite(cohort), {"emails": "ann@example.com"})
    first = Invitation.objects.get()
    response = client.post(invite(cohort), {"emails": "ann@example.com"}, follow=True)
    assert b"Sent again" in response.content
    first.refresh_from_db()
    assert first.is_expired()
    assert Invitation.objects.pending().count() == 1
    assert OutboxMessage.objects.count() == 2


# --- cancel ------------------------------------------------------------------------


def test_coach_cancels_an_invitation(client, cohort, coach):
    invitation = InvitationFactory(cohort=cohort)
    url = reverse("cohorts:invitation_cancel", args=[cohort.pk, invitation.pk])
    response = login(client, coach).post(url, headers=HTMX)
    assert response.status_code == 200
    assert list(response.context["invitations"]) == []
    assert b"No invitations waiting." in response.content
    assert f"The invitation to {invitation.email} is cancelled".encode() in response.content
    invitation.refresh_from_db()
    assert invitation.is_expired()


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_only_the_coach_cancels(client, cohort, request, who):
    invitation = InvitationFactory(cohort=cohort)
    url = reverse("cohorts:invitation_cancel", args=[cohort.pk, invitation.pk])
    assert login(client, request.getfixturevalue(who)).post(url).status_code == 404
    invitation.refresh_from_db()
    assert not invitation.is_expired()


def test_coach_cannot_cancel_another_cohorts_invitation(client, cohort, coach):
    elsewhere = InvitationFactory()
    url = reverse("cohorts:invitation_cancel", args=[cohort.pk, elsewhere.pk])
    assert login(client, coach).post(url).status_code == 404


# --- create ------------------------------------------------------------------------


def test_anyone_logged_in_can_start_a_cohort_and_coaches_it(client, outsider):
    login(client, outsider)
    assert client.get(reverse("cohorts:create")).status_code == 200
    response = client.post(reverse("cohorts:create"), {"name": "  Spring career changers "})
    cohort = Cohort.objects.get()
    assert response.url == detail(cohort)
    assert cohort.name == "Spring career changers"
    assert cohort.coach == outsider


def test_start_a_cohort_needs_a_name(client, outsider):
    response = login(client, outsider).post(reverse("cohorts:create"), {"name": ""})
    assert response.status_code == 422
    assert not Cohort.objects.exists()


def test_cohort_pages_need_login(client, cohort):
    for url in (detail(cohort), reverse("cohorts:create")):
        response = client.get(url)
        assert response.status_code == 302, url
    assert client.post(invite(cohort), {"emails": "x@example.com"}).status_code == 302
    assert not Invitation.objects.exists()


def test_a_coach_who_is_also_a_member_elsewhere_sees_both(client, cohort, coach):
    other = CohortFactory(name="Peer group", coach=UserFactory())
    MembershipFactory(cohort=other, user=coach)
    response = login(client, coach).get(reverse("cohorts:list"))
    assert list(response.context["coached"]) == [cohort]
    assert list(response.context["joined"]) == [other]
    assert login(client, coach).get(detail(other)).status_code == 200
