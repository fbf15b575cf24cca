"""Each role's home starts with what that role does most: a coach's with their cohorts'
dashboards, a connector's with what waits on them, a seeker's with the next step on each
introduction. Follow-ups name the introduction they belong to."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from followups.models import FollowUp
from tests.factories import CohortFactory, MembershipFactory, UserFactory
from tests.stories import accepted, submitted


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1]


def test_a_coach_s_home_starts_with_their_cohorts_dashboards(client, db):
    dana = UserFactory(full_name="Dana Coach")
    autumn = CohortFactory(name="Autumn boot camp", coach=dana)
    spring = CohortFactory(name="Spring boot camp", coach=dana)
    MembershipFactory(cohort=autumn, user=UserFactory())
    CohortFactory(name="Someone else's", coach=UserFactory())
    client.force_login(dana)
    main = _main(client.get(reverse("intros:home")).content.decode())
    first_link = main.index('href="')
    dashboards = [reverse("cohorts:dashboard", args=[c.pk]) for c in (autumn, spring)]
    assert main.index(f'href="{dashboards[0]}"') == first_link
    assert all(url in main for url in dashboards)
    assert "Someone else" not in main
    # A coach who asks for no introductions is not shown an empty seeker's page.
    assert "<h1>Your cohorts</h1>" in main and "No introductions in progress" not in main


def test_a_coach_who_also_seeks_sees_both_cohorts_first(client, seeker, connector, cohort, target):
    CohortFactory(name="Evening group", coach=seeker)
    submitted(seeker=seeker, connector=connector, target=target)
    client.force_login(seeker)
    main = _main(client.get(reverse("intros:home")).content.decode())
    assert main.index("Cohorts you coach") < main.index("What to do next")
    assert "Carol Target" in main


def test_a_connector_s_home_starts_with_what_waits_on_them(client, seeker, connector, cohort, target):
    submitted(seeker=seeker, connector=connector, target=target)
    client.force_login(connector)
    main = _main(client.get(reverse("intros:home")).content.decode())
    assert main.index(reverse("intros:inbox")) < main.index("What to do next")
    assert "1 request waits for you to vet" in main


def test_a_seeker_s_home_has_no_coach_section_and_links_offers_and_follow_ups(client, seeker, cohort):
    client.force_login(seeker)
    main = _main(client.get(reverse("intros:home")).content.decode())
    assert "Cohorts you coach" not in main
    assert reverse("followups:offers") in main and reverse("followups:list") in main


def test_follow_ups_name_the_introduction_they_belong_to(client, seeker, connector, cohort, target):
    intro = accepted(seeker=seeker, connector=connector, target=target)
    FollowUp.objects.filter(intro=intro).delete()
    FollowUp.objects.create(
        owner=seeker,
        intro=intro,
        kind=FollowUp.Kind.THANK_CONNECTOR,
        counterpart="Jill Connector",
        due_at=timezone.now(),
    )
    client.force_login(seeker)
    url = reverse("intros:detail", args=[intro.pk])
    for page in (reverse("intros:home"), reverse("followups:list")):
        html = client.get(page).content.decode()
        assert f'<a href="{url}">the introduction to Carol Target</a>' in html, page
