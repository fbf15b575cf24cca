"""PostgreSQL drops the connection of a request in the middle of a transition.

A real gunicorn (DEBUG off) runs the connector's "approve"; PostgreSQL stops that
transaction at its IntroEvent INSERT (a trigger waiting on a lock the test holds), and the
test terminates exactly that backend with pg_terminate_backend, as a failover or an
administrator would.
"""

import threading

import pytest

from intros.models import IntroEvent, TargetLink
from intros.states import Status
from lib.outbox.models import OutboxMessage
from loadtest.stack import wait_until
from tests.stories import submitted

from .conftest import TITLE, admin_connection, session_for

pytestmark = [pytest.mark.faults, pytest.mark.services(redis=True), pytest.mark.django_db(transaction=True)]

APPROVAL = {
    "checked_preparation": "on",
    "checked_fit": "on",
    "checked_relationship": "on",
    "vouch_strength": "acquainted",
    "vouch_note": "I worked with them for two years on the library budget.",
    "mode": "double_opt_in",
}


def web_backends(admin, state: str | None = None) -> list[int]:
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'warm_faults_web' AND (%s::text IS NULL OR state = %s)",
        [state, state],
    ).fetchall()
    return [pid for (pid,) in rows]


def test_a_connection_dropped_mid_transition_shows_the_error_page_changes_nothing_and_the_next_request_works(
    faults, gate
):
    intro = submitted()
    web = faults.web()
    connector = web.client(session_for(intro.connector))
    detail, approve = f"/intros/{intro.pk}/", f"/intros/{intro.pk}/approve/"
    assert connector.get(detail)[0] == 200  # the web worker now holds a persistent connection
    before = (OutboxMessage.objects.count(), IntroEvent.objects.count(), TargetLink.objects.count())

    stopped = gate("intros_introevent")
    answer: dict = {}
    request = threading.Thread(target=lambda: answer.update(response=connector.post(approve, APPROVAL)))
    request.start()
    [backend] = wait_until(stopped.waiting, timeout=20, what="the approval stops inside its transaction")
    with admin_connection() as admin:
        name, in_transaction = admin.execute(
            "SELECT application_name, xact_start IS NOT NULL FROM pg_stat_activity WHERE pid = %s", [backend]
        ).fetchone()
        assert (name, in_transaction) == ("warm_faults_web", True)
        assert admin.execute("SELECT pg_terminate_backend(%s)", [backend]).fetchone() == (True,)
    request.join(40)
    assert not request.is_alive()
    stopped.remove()

    status, body, _ = answer["response"]
    assert status == 500
    assert TITLE.search(body)[1] == "Something went wrong · Warm Intros"
    assert "Nothing you saved was lost. Please try again in a moment." in body
    assert 'href="/"' in body and "Traceback" not in body and "OperationalError" not in body
    assert connector.get("/static/css/app.css")[0] == 200  # the error page is styled

    # All or nothing: the state, the event, the link and the emails rolled back together.
    intro.refresh_from_db()
    assert intro.status == Status.SUBMITTED and intro.vouch_note == ""
    assert (OutboxMessage.objects.count(), IntroEvent.objects.count(), TargetLink.objects.count()) == before

    # The same worker's next request gets a new connection, and the approval goes through.
    assert connector.get(detail)[0] == 200
    assert connector.post(approve, APPROVAL)[0] == 302
    intro.refresh_from_db()
    assert intro.status == Status.AWAITING_TARGET
    assert IntroEvent.objects.filter(intro=intro, transition="approve").count() == 1

    # A persistent connection dropped while idle between requests: the health check replaces it.
    with admin_connection() as admin:
        idle = web_backends(admin, "idle")
        assert idle
        for pid in idle:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        wait_until(lambda: not set(idle) & set(web_backends(admin)), timeout=10, what="the idle backend gone")
    assert connector.get(detail)[0] == 200
    assert connector.get("/inbox/")[0] == 200
