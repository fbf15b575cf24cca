"""Moving a request along its states in tests, through the real services."""

import re

from django.core import signing

from intros import services
from intros.models import IntroRequest, TargetLink
from intros.states import Mode
from lib.outbox.models import OutboxMessage
from tests.factories import IntroRequestFactory
from workflows import intros as actions

LINK_RE = re.compile(r"/r/(\d+)/([^/\s\"]+)/")


def submitted(**kwargs) -> IntroRequest:
    intro = IntroRequestFactory(**kwargs)
    actions.do_submit(intro=intro, seeker=intro.seeker)
    intro.refresh_from_db()
    return intro


def awaiting_target(**kwargs) -> IntroRequest:
    intro = submitted(**kwargs)
    actions.do_approve(
        intro=intro,
        connector=intro.connector,
        vouch_strength="acquainted",
        vouch_note="I worked with Janet for two years on the library budget.",
        mode=Mode.DOUBLE_OPT_IN,
    )
    intro.refresh_from_db()
    return intro


def last_link_token(intro: IntroRequest, purpose: str = TargetLink.Purpose.ANSWER) -> tuple[TargetLink, str]:
    """The newest link of `purpose`, and the token from the email that carried it."""
    link = intro.target_links.filter(purpose=purpose).latest("pk")
    for message in OutboxMessage.objects.order_by("-pk"):
        for pk, token in LINK_RE.findall(message.body_text):
            try:
                payload = signing.loads(token, salt=services.LINK_SALT)
            except signing.BadSignature:
                continue
            if int(pk) == intro.pk and payload["l"] == link.pk:
                return link, token
    raise AssertionError(f"No email carries the {purpose} link of intro {intro.pk}")


def accepted(terms: services.TargetTerms | None = None, **kwargs) -> IntroRequest:
    intro = awaiting_target(**kwargs)
    link, _ = last_link_token(intro)
    actions.do_target_accept(link=link, terms=terms or services.TargetTerms())
    intro.refresh_from_db()
    return intro
