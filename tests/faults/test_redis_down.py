"""Redis stopped under a running site: pages and transitions still work, messages wait.

A private redis-server (its own port, nothing saved) is the Celery broker and the Django
cache of a real gunicorn. It is stopped; people keep using the site; it is started again
(empty, as after a crash) with a worker and beat, and every message goes out exactly once.

An expectation for everything that uses the cache (import progress today, rate limits
tomorrow): while Redis is down, pages answer as usual rather than with a 500 — a cache
that cannot be reached counts as a cache that does not know.
"""

import pytest

from cohorts.models import Invitation
from contacts.models import ImportBatch, ImportStatus
from intros.models import IntroRequest
from intros.states import Status
from lib.outbox.models import OutboxMessage
from loadtest import mailbox
from loadtest.stack import await_ready, wait_until
from tests.factories import CohortFactory, MembershipFactory, UserFactory
from tests.stories import submitted

from .conftest import open_hours_now, session_for

pytestmark = [pytest.mark.faults, pytest.mark.services(redis=True), pytest.mark.django_db(transaction=True)]

INVITED = [f"newcomer{i}@example.org" for i in range(15)]


def test_with_redis_stopped_every_page_and_transition_works_and_messages_wait(faults):
    redis_server = faults.redis_server()
    web = faults.web(redis_url=redis_server.url(0))

    intro = submitted()  # a seeker's request waiting on the connector to vet it
    seeker, connector = intro.seeker, intro.connector
    coach = UserFactory(**open_hours_now())
    cohort = CohortFactory(coach=coach)
    for member in (seeker, connector):
        MembershipFactory(cohort=cohort, user=member)
    running_import = ImportBatch.objects.create(
        owner=seeker, source="linkedin", filename="connections.csv", status=ImportStatus.RUNNING, total=40
    )
    as_seeker, as_connector, as_coach = (web.client(session_for(u)) for u in (seeker, connector, coach))
    assert as_seeker.get("/")[0] == 200  # up and answering before the fault
    before = set(OutboxMessage.objects.values_list("pk", flat=True))

    redis_server.stop()

    pages = {
        (as_seeker, "/"),
        (as_seeker, "/follow-ups/"),
        (as_seeker, "/contacts/"),
        (as_seeker, f"/contacts/import/{running_import.pk}/"),  # progress comes from the cache
        (as_seeker, "/intros/new/"),
        (as_seeker, f"/intros/{intro.pk}/"),
        (as_connector, "/inbox/"),
        (as_connector, f"/intros/{intro.pk}/"),
        (as_coach, f"/cohorts/{cohort.pk}/dashboard/"),
        (as_coach, f"/cohorts/{cohort.pk}/"),
    }
    answers = {path: browser.get(path)[0] for browser, path in pages}
    assert answers == dict.fromkeys(answers, 200)

    # Transitions: the connector approves (the target is asked, the seeker told) and the coach
    # invites fifteen people at once. Each answers as usual and its messages wait in the outbox.
    status, _, headers = as_connector.post(
        f"/intros/{intro.pk}/approve/",
        {
            "checked_preparation": "on",
            "checked_fit": "on",
            "checked_relationship": "on",
            "vouch_strength": "acquainted",
            "vouch_note": "I worked with them for two years on the library budget.",
            "mode": "double_opt_in",
        },
    )
    assert (status, headers.get("Location")) == (302, f"/intros/{intro.pk}/")
    intro.refresh_from_db()
    assert intro.status == Status.AWAITING_TARGET
    status, _, headers = as_coach.post(f"/cohorts/{cohort.pk}/invite/", {"emails": "\n".join(INVITED)})
    assert status == 302
    assert Invitation.objects.filter(cohort=cohort).count() == len(INVITED)
    assert as_connector.get(f"/intros/{intro.pk}/")[0] == 200

    waiting = OutboxMessage.objects.exclude(pk__in=before)
    assert waiting.count() == 2 + len(INVITED)
    assert not waiting.filter(sent_at__isnull=False).exists()

    # Redis comes back empty (nothing was saved): the beat's flush finds the rows and sends them.
    redis_server.start()
    await_ready(
        faults.worker(redis_url=redis_server.url(0), wait=False), faults.beat(redis_url=redis_server.url(0), wait=False)
    )
    wait_until(
        lambda: not waiting.filter(sent_at__isnull=True).exists(),
        timeout=30,
        what="every waiting message sent once Redis is back",
        diagnostics=faults.logs,
    )
    delivered = mailbox.delivered(faults.mail_dir)
    expected = {mailbox.content_key(m.to, m.subject, m.body_text) for m in waiting}
    assert set(delivered) == expected
    assert set(delivered.values()) == {1}, "each message is delivered once"
    assert sum(delivered.values()) == waiting.count()
    assert IntroRequest.objects.get(pk=intro.pk).status == Status.AWAITING_TARGET
