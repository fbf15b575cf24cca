"""Load the people and journeys of STORIES.md as demo data: a history, not a snapshot.

Each story is played through the real services at the moments it happened, over the six
weeks before now, on a clock that only moves forward (time-machine, a runtime dependency
for this reason: README, "Dependencies"). Between the stories' own moments the reminder
sweep runs whenever something comes due, as beat would have, so reminders, offer nudges,
re-asks and digests happen when they would have; each email is sent at its moment, to the
mail files only (the console stays for the logins and for today's email). So the events,
the stage stamps, the follow-ups and the outbox agree, and the dashboard, the timelines and
the track records read like the stories.

Idempotent: when the demo coach exists, nothing is written again; the logins are printed
either way.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import zoneinfo
from collections.abc import Generator, Iterator
from contextlib import contextmanager

import time_machine
from celery import current_app as celery_app  # the project's app (config.celery), without importing config
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from accounts.models import User
from cohorts.models import Cohort, Membership
from contacts.models import WEEKDAYS_WORK, Contact, Strength
from followups import services as followup_services
from followups.models import DigestSchedule, FollowUp, Offer, ReminderLog
from followups.sweep import sweep
from intros import services
from intros.models import IntroRequest, TargetLink
from intros.states import Mode, Outcome
from lib import mail
from lib.outbox.models import OutboxMessage
from lib.outbox.services import outbox_flush
from workflows import intros as actions
from workflows.followups import do_record_outreach

DOMAIN = "demo.warm-intros.test"
PASSWORD = "warm-intros-demo"
WEEKS = 6

NEW_YORK, CHICAGO, LOS_ANGELES = "America/New_York", "America/Chicago", "America/Los_Angeles"
STOCKHOLM, LONDON, TOKYO = "Europe/Stockholm", "Europe/London", "Asia/Tokyo"

PEOPLE = [
    # key, name, time zone, who they are in the stories
    ("dana", "Dana Whitfield", NEW_YORK, "coach of the Career Boot Camp (story 1)"),
    ("jill", "Jill Moreno", NEW_YORK, "member and connector; knows the CAO (story 1)"),
    ("janet", "Janet Okafor", NEW_YORK, "wrote inside the CAO's window; now waits for Marcus Lee (story 1)"),
    ("natalie", "Natalie Brooks", NEW_YORK, "waited for the CAO's window and got an offer (story 1)"),
    ("priya", "Priya Raman", CHICAGO, "connector who asks for better preparation (stories 2, 6)"),
    ("omar", "Omar Haddad", CHICAGO, "seeker with an ill-prepared request (story 2)"),
    ("lee", "Lee Chen", LOS_ANGELES, "seeker offered three introductions (story 3)"),
    ("sam", "Sam Ortiz", LOS_ANGELES, "made promises in a meeting (story 3)"),
    ("maya", "Maya Lindqvist", STOCKHOLM, "offered a senior contact, never acted (story 4)"),
    ("rosa", "Rosa Alvarez", "Europe/Madrid", "mentor who offered Maya a contact (story 4)"),
    ("nora", "Nora Fitzgerald", NEW_YORK, "seeker in New York introduced to Tokyo (story 6)"),
    ("grace", "Grace Kim", LONDON, "runs the Tuesday networking group (story 5)"),
    ("kevin", "Kevin Walsh", LONDON, "connector who introduced Michael to Laura (story 5)"),
    ("michael", "Michael Byrne", LONDON, "sold IT, hired by Laura, then referred Jacob (story 5)"),
    ("jacob", "Jacob Stein", LONDON, "out of work, hired through Michael (story 5)"),
]

BLURB = (
    "{name} is {what}. {first} would value twenty minutes of your time to learn how your team works and "
    "whether their experience could help."
)


def prep(name: str, what: str, org: str, person: str, goal: str) -> dict[str, str]:
    first = name.split()[0]
    return {
        "goal": goal,
        "research_company": (
            f"{org} has grown steadily over the last three years, publishes its quarterly results openly, "
            "and recently opened a second office with a new operations team."
        ),
        "research_person": (
            f"{person} has led the team at {org} for several years and spoke on a panel about hiring for "
            "operations roles last spring."
        ),
        "questions": "What does a strong first year look like on your team?\nWhich skills are hardest to hire for now?",
        "followup_plan": "I will thank them within a day, and report back to my connector within a week.",
        "fit": f"{first} brings {what}, which matches what the team at {org} is looking for.",
        "blurb": BLURB.format(name=name, what=what, first=first),
    }


# A story is a generator: it yields the next moment it acts at, and runs on from there when
# the clock gets there. `yield from` a helper that itself waits (writing when allowed).
Story = Generator[dt.datetime, None, None]


class Timeline:
    """The demo's clock: it only moves forward. Before each moment a story acts at, the sweep
    runs at every moment something came due in between, as beat would have; after each, the
    outbox sends what was written, at that moment."""

    MAX_SWEEPS = 20_000  # a history of six weeks needs a few hundred; more is a loop

    def __init__(self, end: dt.datetime):
        self.end = end
        self.now: dt.datetime | None = None
        self._swept_at: dt.datetime | None = None
        self.sweeps = 0
        self._queue: list[tuple[dt.datetime, int, Story]] = []
        self._order = itertools.count()

    @contextmanager
    def at(self, when: dt.datetime) -> Iterator[None]:
        """Do what the block does at `when`; then the outbox sends what it wrote, at that moment."""
        self.advance(when)
        with time_machine.travel(when, tick=False):
            yield
            outbox_flush()

    def advance(self, when: dt.datetime) -> None:
        if when > self.end:
            raise ValueError(f"The demo's history must end by now ({self.end:%Y-%m-%d %H:%M}), not at {when}.")
        if self.now is not None and when < self.now:
            raise ValueError(f"The demo's clock only moves forward: {when} is before {self.now}.")
        tick = dt.timedelta(seconds=settings.SWEEP_INTERVAL_SECONDS)
        while (due := self._next_due()) is not None and due <= when:
            moment = max(due, self.now or due)
            if self._swept_at is not None and moment < self._swept_at + tick:
                # Beat ticks once a minute: what a sweep left due waits for the next tick.
                moment = self._swept_at + tick
                if moment > when:
                    break
            self.sweeps += 1
            if self.sweeps > self.MAX_SWEEPS:
                raise RuntimeError(f"The sweep keeps finding work due at {moment}.")
            with time_machine.travel(moment, tick=False):
                sweep(now=moment)
                outbox_flush()
            self._swept_at = self.now = moment
        self.now = max(when, self.now or when)

    @staticmethod
    def _next_due() -> dt.datetime | None:
        moments = [
            FollowUp.objects.aggregate(m=Min("next_action_at"))["m"],
            Offer.objects.aggregate(m=Min("next_action_at"))["m"],
            IntroRequest.objects.aggregate(m=Min("next_action_at"))["m"],
            DigestSchedule.objects.aggregate(m=Min("next_at"))["m"],
        ]
        return min((m for m in moments if m is not None), default=None)

    def play(self, *stories: Story) -> None:
        """Run the stories together, each step at its moment, in the order of the moments."""
        for story in stories:
            self._schedule(story)
        while self._queue:
            when, _, story = heapq.heappop(self._queue)
            with self.at(when):
                self._schedule(story, resume=True)

    def _schedule(self, story: Story, *, resume: bool = False) -> None:
        try:
            when = story.send(None) if resume else next(story)
        except StopIteration:
            return
        if self.now is not None and when < self.now:
            raise ValueError(f"A story asked to go back in time, to {when}.")
        heapq.heappush(self._queue, (when, next(self._order), story))

    def finish(self) -> None:
        """Everything due up to now is handled, as beat would have."""
        self.advance(self.end)


class Command(BaseCommand):
    help = "Load the STORIES.md demo data as a six-week history (idempotent) and print the demo logins."

    def handle(self, *args, **options) -> None:
        if User.objects.filter(email=f"dana@{DOMAIN}").exists():
            self.stdout.write("Demo data is already loaded; nothing changed.")
        else:
            before = OutboxMessage.objects.count()
            eager = celery_app.conf.task_always_eager
            # Every email of the history is sent at its moment, below; the tasks queued after
            # commit find them sent already, so they run here, quietly, rather than crowd the
            # worker's log when `make run` starts it. (Even an eager task takes a producer, and
            # kombu warns that the filesystem broker's URL names no host: not worth a line.)
            celery_app.conf.task_always_eager = True
            quiet = {"celery.app.trace": logging.WARNING, "kombu.connection": logging.ERROR}
            levels = {name: logging.getLogger(name).level for name in quiet}
            for name, level in quiet.items():
                logging.getLogger(name).setLevel(level)
            try:
                with mail.files_only(), transaction.atomic():
                    timeline = Timeline(end=timezone.now().replace(microsecond=0))
                    Demo(timeline).load()
            finally:
                celery_app.conf.task_always_eager = eager
                for name, level in levels.items():
                    logging.getLogger(name).setLevel(level)
            emails = OutboxMessage.objects.count() - before
            where = f"are in {folder}/" if (folder := mail.mail_folder()) else "were sent"
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data loaded: six stories over the last {WEEKS} weeks ({emails} emails of their history {where})."
                )
            )
        self._print_logins()

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {PASSWORD}):")
        for key, name, _, role in PEOPLE:
            email = f"{key}@{DOMAIN}"
            self.stdout.write(f"  {email:<32} {name:<16} {role}")
        self.stdout.write("")


class Demo:
    """The people and the six stories, played on a timeline that ends now."""

    def __init__(self, timeline: Timeline):
        self.t = timeline
        self.u: dict[str, User] = {}
        self.c: dict[str, Contact] = {}

    # --- time -----------------------------------------------------------------------------------

    def day(self, days: int, hour: int, minute: int = 0, *, tz: str) -> dt.datetime:
        """`hour:minute` local time in `tz`, `days` days from today there (negative: ago)."""
        zone = zoneinfo.ZoneInfo(tz)
        date = self.t.end.astimezone(zone).date() + dt.timedelta(days=days)
        return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=zone)

    @staticmethod
    def later(moment: dt.datetime, *, days: int = 0, hour: int, minute: int = 0, tz: str) -> dt.datetime:
        """`hour:minute` in `tz`, `days` days after `moment`'s date there (not before `moment`)."""
        zone = zoneinfo.ZoneInfo(tz)
        date = moment.astimezone(zone).date() + dt.timedelta(days=days)
        return max(moment, dt.datetime.combine(date, dt.time(hour, minute), tzinfo=zone))

    # --- the services, as the people use them ------------------------------------------------------

    def ask(self, seeker: str, target: Contact, what: str, goal: str, **extra) -> IntroRequest:
        p = prep(self.u[seeker].full_name, what, target.organisation, target.name, goal)
        return services.intro_create_draft(seeker=self.u[seeker], target=target, **p, **extra)

    @staticmethod
    def approve(intro: IntroRequest, strength: str, note: str, mode: str = Mode.DOUBLE_OPT_IN, **kw) -> IntroRequest:
        return actions.do_approve(
            intro=intro, connector=intro.connector, vouch_strength=strength, vouch_note=note, mode=mode, **kw
        ).intro

    @staticmethod
    def link(intro: IntroRequest, purpose: str = TargetLink.Purpose.ANSWER) -> TargetLink:
        return intro.target_links.filter(purpose=purpose, used_at__isnull=True).latest("pk")

    def accept(self, intro: IntroRequest, **terms) -> IntroRequest:
        return actions.do_target_accept(link=self.link(intro), terms=services.TargetTerms(**terms)).intro

    @staticmethod
    def tick_off(intro: IntroRequest, kind: str) -> None:
        """Tick off one of the introduction's follow-ups (a thank-you, a check-in), as on the page."""
        FollowUp.objects.get(intro=intro, kind=kind).mark_done()

    @staticmethod
    def meet(intro: IntroRequest, note: str = "") -> None:
        actions.do_record_meeting(intro=intro, seeker=intro.seeker, met_on=timezone.localdate(), note=note)

    def write(self, intro: IntroRequest, wanted: dt.datetime, note: str) -> Generator[dt.datetime, None, dt.datetime]:
        """The seeker writes at `wanted`, or, when the app warns that the target's window is
        closed, at the moment it says the window opens: never a breach. Returns when."""
        moment = wanted
        while True:
            yield moment
            fresh = IntroRequest.objects.with_people().get(pk=intro.pk)
            try:
                do_record_outreach(intro=fresh, seeker=fresh.seeker, at=moment, channel="email", note=note)
            except followup_services.BoundaryWarning as warned:
                if warned.allowed_from is None or warned.allowed_from <= moment:
                    raise
                moment = warned.allowed_from
            else:
                return moment

    def write_anyway(self, intro: IntroRequest, note: str) -> None:
        """The seeker is warned that the target asked not to be written to yet, and logs it anyway."""
        fresh = IntroRequest.objects.with_people().get(pk=intro.pk)
        now = timezone.now()
        try:
            do_record_outreach(intro=fresh, seeker=fresh.seeker, at=now, channel="email", note=note)
        except followup_services.BoundaryWarning:
            do_record_outreach(intro=fresh, seeker=fresh.seeker, at=now, channel="email", note=note, confirmed=True)
        else:  # pragma: no cover - the story needs the warning
            raise AssertionError("The app should have warned before this outreach.")

    # --- the people ------------------------------------------------------------------------------

    def load(self) -> None:
        with self.t.at(self.day(-7 * WEEKS, 9, tz=NEW_YORK)):
            self._people()
        self.t.play(
            self.story_1_janet(),
            self.story_1_natalie(),
            self.story_2_omar(),
            self.story_3_lee(),
            self.story_4_maya(),
            self.story_5_the_chain(),
            self.story_6_across_the_world(),
        )
        self.t.finish()

    def _people(self) -> None:
        u = self.u
        password = make_password(PASSWORD)  # hashed once: fifteen deliberate hashings take seconds
        for key, name, tz, _ in PEOPLE:
            u[key] = User.objects.create_user(f"{key}@{DOMAIN}", None, full_name=name, time_zone=tz)
            u[key].password = password
            u[key].save(update_fields=["password"])
        boot_camp = Cohort.objects.create(name="Career Boot Camp — Autumn", coach=u["dana"])
        for key in ("jill", "janet", "natalie", "priya", "omar", "lee", "sam", "maya", "rosa", "nora"):
            Membership.objects.create(cohort=boot_camp, user=u[key])
        group = Cohort.objects.create(name="Tuesday Networking Group", coach=u["grace"])
        for key in ("kevin", "michael", "jacob"):
            Membership.objects.create(cohort=group, user=u[key])

        def contact(key: str, owner: str, name: str, org: str, title: str, **extra) -> None:
            email = extra.pop("email", name.lower().replace(" ", ".") + "@" + org.lower().split()[0] + ".example")
            self.c[key] = Contact.objects.create(
                owner=u[owner],
                name=name,
                organisation=org,
                title=title,
                email=email,
                shareable=extra.pop("shareable", True),
                **extra,
            )

        contact(
            "cao",
            "jill",
            "Catherine Alvarez",
            "Northwind Health",
            "Chief Administrative Officer",
            strength=Strength.CLOSE,
            how_we_know="Served on the hospital foundation board together.",
            time_zone=NEW_YORK,
        )
        contact(
            "marcus",
            "jill",
            "Marcus Lee",
            "City Library Network",
            "Director of Operations",
            strength=Strength.ACQUAINTED,
            time_zone=NEW_YORK,
        )
        contact(
            "henry",
            "priya",
            "Henry Brooks",
            "Lumen Analytics",
            "Hiring Manager, Data Platform",
            strength=Strength.CLOSE,
            time_zone=CHICAGO,
        )
        contact(
            "yuki",
            "priya",
            "Yuki Tanaka",
            "Sakura Robotics",
            "VP Engineering",
            strength=Strength.ACQUAINTED,
            time_zone=TOKYO,
            weekdays=WEEKDAYS_WORK,
            hours_start=dt.time(9),
            hours_end=dt.time(17),
            min_days_between=7,
            how_we_know="Met at a robotics conference in Osaka.",
        )
        contact("laura", "kevin", "Laura Perez", "Brightline Agency", "Head of Sales", time_zone=LONDON)
        contact(
            "diane",
            "michael",
            "Diane Foster",
            "Coretech Systems",
            "Hiring Manager, IT Sales",
            strength=Strength.CLOSE,
            time_zone=LONDON,
            how_we_know="My manager for four years at Coretech.",
        )
        contact(
            "elena",
            "priya",
            "Elena Petrova",
            "Lumen Analytics",
            "Recruiter",
            strength=Strength.ONLINE_ONLY,
            shareable=False,
        )
        contact("theo", "sam", "Theo Grant", "Harbor Logistics", "COO", strength=Strength.ACQUAINTED)
        contact(
            "ingrid",
            "rosa",
            "Ingrid Solberg",
            "Nordlys Energy",
            "Chief People Officer",
            strength=Strength.CLOSE,
            time_zone="Europe/Oslo",
        )

    # --- story 1: the boundary ---------------------------------------------------------------------

    def story_1_janet(self) -> Story:
        """Janet asks, Jill approves, the CAO accepts: busy four days, she will write first.
        Janet writes on days 1, 2 and 3, warned each time; the CAO steps back. Later Janet
        asks again, for Marcus Lee, who is busy two more days: she waits."""
        u, c = self.u, self.c
        yield self.day(-29, 10, tz=NEW_YORK)
        janet = self.ask(
            "janet",
            c["cao"],
            "an operations manager with eight years of public-sector budgeting",
            "Learn how Northwind's administration plans its year, and whether my budgeting fits.",
        )
        actions.do_submit(intro=janet, seeker=u["janet"])
        yield self.day(-28, 9, 30, tz=NEW_YORK)
        self.approve(janet, Strength.ACQUAINTED, "Janet and I are in the same boot camp; she is diligent.")
        accepted = self.day(-27, 8, 30, tz=NEW_YORK)
        yield accepted
        self.accept(janet, busy_until=accepted.date() + dt.timedelta(days=4), target_writes_first=True)
        for days in (1, 2, 3):  # warned each time, and logged anyway: boundary breaches
            yield self.later(accepted, days=days, hour=10, tz=NEW_YORK)
            self.write_anyway(janet, "Following up on the introduction.")
        yield self.later(accepted, days=3, hour=17, tz=NEW_YORK)
        actions.do_target_step_back(
            link=self.link(janet, TargetLink.Purpose.STEP_BACK),
            note="I asked for four days and was written to every day.",
        )

        # She has learnt: Marcus Lee accepts, busy two more days, in Chicago hours. She waits.
        yield self.day(-6, 11, tz=NEW_YORK)
        marcus = self.ask(
            "janet",
            c["marcus"],
            "an operations manager with eight years of public-sector budgeting",
            "Learn how the City Library Network runs operations across its branches.",
        )
        actions.do_submit(intro=marcus, seeker=u["janet"])
        yield self.day(-5, 9, tz=NEW_YORK)
        self.approve(marcus, Strength.ACQUAINTED, "Janet ran budgets for a library network.")
        yield self.day(-1, 9, 30, tz=CHICAGO)
        self.accept(
            marcus,
            busy_until=self.day(2, 9, tz=CHICAGO).date(),
            weekdays=[0, 1, 2, 3, 4],
            hours_start=dt.time(9),
            hours_end=dt.time(17),
            time_zone=CHICAGO,
        )

    def story_1_natalie(self) -> Story:
        """Weeks later Jill vouches for Natalie after reading her preparation. Natalie waits for
        the CAO's window, writes, meets her, thanks both, and reports a job offer."""
        u, c = self.u, self.c
        yield self.day(-10, 9, tz=NEW_YORK)
        natalie = self.ask(
            "natalie",
            c["cao"],
            "a healthcare administrator with a decade of shared-services experience",
            "Understand the shared-services roles at Northwind and how to prepare for them.",
        )
        actions.do_submit(intro=natalie, seeker=u["natalie"])
        yield self.day(-9, 10, tz=NEW_YORK)
        self.approve(natalie, Strength.CLOSE, "I read Natalie's preparation closely; she is ready and careful.")
        accepted = self.day(-8, 8, 45, tz=NEW_YORK)
        yield accepted
        self.accept(natalie, busy_until=self.day(-6, 9, tz=NEW_YORK).date())
        yield self.later(accepted, hour=15, tz=NEW_YORK)
        self.tick_off(natalie, FollowUp.Kind.THANK_CONNECTOR)
        # She waits for the window: the app says when it opens.
        wrote = yield from self.write(
            natalie, self.day(-5, 10, tz=NEW_YORK), "Thank you for agreeing to talk — would Thursday suit?"
        )
        met = self.later(wrote, days=1, hour=16, tz=NEW_YORK)
        yield met
        self.meet(natalie, "Forty minutes in her office; she walked me through the shared-services team.")
        yield self.later(met, hour=19, tz=NEW_YORK)
        self.tick_off(natalie, FollowUp.Kind.THANK_TARGET)
        yield self.later(met, days=1, hour=9, tz=NEW_YORK)
        self.tick_off(natalie, FollowUp.Kind.CONNECTOR_CHECK_IN)  # Jill checks in with both
        yield self.later(met, days=1, hour=11, tz=NEW_YORK)
        actions.do_record_outcome(
            intro=natalie,
            seeker=u["natalie"],
            outcome=Outcome.OFFER,
            note="Catherine's team made me an offer for the shared-services lead role.",
        )

    # --- story 2: the ill-prepared request ---------------------------------------------------------

    def story_2_omar(self) -> Story:
        u, c = self.u, self.c
        yield self.day(-20, 13, tz=CHICAGO)
        omar = services.intro_create_draft(seeker=u["omar"], target=c["henry"], goal="Connect", blurb="Hi, I'm Omar.")
        try:
            actions.do_submit(intro=omar, seeker=u["omar"])
        except services.PreparationIncomplete:
            pass  # it cannot be submitted until the preparation is there
        else:  # pragma: no cover
            raise AssertionError("A thin preparation was accepted.")
        yield self.day(-19, 20, tz=CHICAGO)
        good = prep(
            "Omar Haddad",
            "a data engineer with five years of pipeline work",
            c["henry"].organisation,
            c["henry"].name,
            "Learn what Lumen's data platform team needs next year and if I fit it.",
        )
        omar = services.intro_update_preparation(intro=omar, seeker=u["omar"], preparation=good)
        actions.do_submit(intro=omar, seeker=u["omar"])
        yield self.day(-18, 9, tz=CHICAGO)
        actions.do_request_changes(
            intro=omar,
            connector=u["priya"],
            note="Say which of Lumen's products you have used, and what you'd ask Henry.",
        )
        yield self.day(-17, 19, tz=CHICAGO)
        omar = services.intro_update_preparation(
            intro=omar,
            seeker=u["omar"],
            preparation={
                "research_company": good["research_company"] + " I have used Lumen Pulse for dashboards since 2024."
            },
        )
        actions.do_submit(intro=omar, seeker=u["omar"])
        yield self.day(-16, 9, 30, tz=CHICAGO)
        self.approve(omar, Strength.ACQUAINTED, "We met twice at meetups; his preparation is now thorough.")
        accepted = self.day(-15, 10, tz=CHICAGO)
        yield accepted  # Henry reads the vouch and the blurb, then accepts
        self.accept(omar)
        yield self.later(accepted, hour=12, tz=CHICAGO)
        self.tick_off(omar, FollowUp.Kind.THANK_CONNECTOR)
        yield from self.write(omar, self.later(accepted, days=1, hour=10, tz=CHICAGO), "Thanks for accepting.")

    # --- story 3: the empty promises ---------------------------------------------------------------

    def story_3_lee(self) -> Story:
        """Sam offers Lee three introductions in a meeting and makes none. Lee takes one off
        Sam's list himself; the other two are nudged at day 3 and 10, then go stale."""
        u = self.u
        yield self.day(-18, 14, tz=LOS_ANGELES)
        offers = {
            name: followup_services.offer_create(
                seeker=u["lee"],
                offered_by=u["sam"],
                offered_by_name=u["sam"].full_name,
                contact_name=name,
                contact_organisation=org,
                note="Sam, over coffee: 'I'll introduce you, leave it with me.'",
            )
            for name, org in [
                ("Theo Grant", "Harbor Logistics"),
                ("Ana Silva", "Portside Freight"),
                ("Ben Osei", "Cargo Cloud"),
            ]
        }
        yield self.day(-17, 9, tz=LOS_ANGELES)
        followup_services.offer_self_contact(offer=offers["Ben Osei"], seeker=u["lee"])
        yield self.day(-14, 16, tz=LOS_ANGELES)  # after the follow-up reminded him
        followup_services.offer_contacted(offer=offers["Ben Osei"], seeker=u["lee"])
        # Lee also waits on Priya's vetting, for Yuki in Tokyo.
        yield self.day(-2, 10, tz=LOS_ANGELES)
        lee = self.ask(
            "lee",
            self.c["yuki"],
            "a product manager moving into robotics",
            "Hear how Sakura sets its product roadmap and where product managers fit in it.",
        )
        actions.do_submit(intro=lee, seeker=u["lee"])

    # --- story 4: the unused contact ---------------------------------------------------------------

    def story_4_maya(self) -> Story:
        u = self.u
        yield self.day(-17, 14, tz=STOCKHOLM)
        followup_services.offer_create(
            seeker=u["maya"],
            offered_by=u["rosa"],
            offered_by_name=u["rosa"].full_name,
            contact_name="Ingrid Solberg",
            contact_organisation="Nordlys Energy",
            contact_title="Chief People Officer",
            note="Rosa: 'Ingrid is exactly who you should talk to.'",
        )
        # Maya never acts: the sweep nudges her at day 3 and day 10, and at day 14 it is stale.

    # --- story 5: the referral chain ---------------------------------------------------------------

    def story_5_the_chain(self) -> Story:
        u, c = self.u, self.c
        yield self.day(-40, 10, tz=LONDON)
        michael = self.ask(
            "michael",
            c["laura"],
            "an IT sales lead with a strong agency network",
            "Learn how Brightline's sales team works with technology clients.",
        )
        actions.do_submit(intro=michael, seeker=u["michael"])
        yield self.day(-39, 9, tz=LONDON)
        self.approve(michael, Strength.CLOSE, "Michael and I sold together for three years.")
        accepted = self.day(-38, 11, tz=LONDON)
        yield accepted
        self.accept(michael)
        yield self.later(accepted, hour=14, tz=LONDON)
        self.tick_off(michael, FollowUp.Kind.THANK_CONNECTOR)
        wrote = yield from self.write(michael, self.later(accepted, days=1, hour=9, tz=LONDON), "Coffee next week?")
        met = self.later(wrote, days=5, hour=11, tz=LONDON)
        yield met
        self.meet(michael)
        yield self.later(met, hour=17, tz=LONDON)
        self.tick_off(michael, FollowUp.Kind.THANK_TARGET)
        hired = self.later(met, days=9, hour=10, tz=LONDON)
        yield hired
        actions.do_record_outcome(
            intro=michael, seeker=u["michael"], outcome=Outcome.HIRED, note="Laura hired me as account director."
        )
        actions.do_close(intro=michael, user=u["michael"])

        # Michael's old job is open: he refers Jacob to the hiring manager he worked for.
        yield self.day(-14, 10, tz=LONDON)
        jacob = self.ask(
            "jacob",
            c["diane"],
            "an IT salesperson looking for his next role",
            "Talk to Diane about the IT sales opening at Coretech.",
        )
        actions.do_submit(intro=jacob, seeker=u["jacob"])
        yield self.day(-13, 9, tz=LONDON)
        self.approve(jacob, Strength.CLOSE, "Jacob is the person I'd want in my old seat.", parent=michael)
        accepted = self.day(-12, 10, tz=LONDON)
        yield accepted
        self.accept(jacob)
        yield self.later(accepted, hour=13, tz=LONDON)
        self.tick_off(jacob, FollowUp.Kind.THANK_CONNECTOR)
        wrote = yield from self.write(jacob, self.later(accepted, days=1, hour=9, tz=LONDON), "About the opening.")
        met = self.later(wrote, days=3, hour=15, tz=LONDON)
        yield met
        self.meet(jacob)
        yield self.later(met, hour=18, tz=LONDON)
        self.tick_off(jacob, FollowUp.Kind.THANK_TARGET)
        yield self.later(met, days=1, hour=9, tz=LONDON)
        self.tick_off(jacob, FollowUp.Kind.CONNECTOR_CHECK_IN)  # Michael checks in with both
        yield self.later(met, days=3, hour=10, tz=LONDON)
        actions.do_record_outcome(
            intro=jacob, seeker=u["jacob"], outcome=Outcome.HIRED, note="Diane hired me into Michael's old role."
        )

    # --- story 6: the window across the world ------------------------------------------------------

    def story_6_across_the_world(self) -> Story:
        """Yuki defers to a Saturday in Tokyo: the re-ask, due on Friday evening in New York, is
        held to Monday 09:00 in Tokyo. She accepts; Nora is reminded when both are awake, and
        writes then."""
        u, c = self.u, self.c
        tokyo_today = self.t.end.astimezone(zoneinfo.ZoneInfo(TOKYO)).date()
        saturday = tokyo_today - dt.timedelta(days=(tokyo_today.weekday() - 5) % 7 + 14)
        yield self.on(saturday - dt.timedelta(days=12), 10, tz=NEW_YORK)
        nora = self.ask(
            "nora", c["yuki"], "a controls engineer in New York", "Learn what Sakura looks for in US engineers."
        )
        actions.do_submit(intro=nora, seeker=u["nora"])
        yield self.on(saturday - dt.timedelta(days=11), 9, tz=CHICAGO)
        self.approve(nora, Strength.CLOSE, "Nora was my intern; I would hire her again.")
        yield self.on(saturday - dt.timedelta(days=9), 11, tz=TOKYO)  # a Thursday in Tokyo
        actions.do_target_defer(link=self.link(nora), until=saturday, note="Board week. Please ask me after.")
        # The re-ask is due on Saturday 09:00 in Tokyo, Friday evening in New York; the sweep
        # holds it to Monday 09:00 in Tokyo. She accepts that morning.
        monday = self.on(saturday + dt.timedelta(days=2), 11, tz=TOKYO)
        yield monday
        self.accept(nora)
        yield self.later(monday, days=1, hour=9, tz=NEW_YORK)
        self.tick_off(nora, FollowUp.Kind.THANK_CONNECTOR)
        reach_out = FollowUp.objects.get(intro=nora, kind=FollowUp.Kind.REACH_OUT)
        moment = max(reach_out.due_at, timezone.now())
        while not (reminded := ReminderLog.objects.filter(kind=ReminderLog.Kind.FOLLOWUP, object_id=reach_out.pk)):
            yield moment  # the sweep runs up to here: has the reminder gone?
            moment += dt.timedelta(hours=1)
        yield from self.write(
            nora, max(moment, reminded[0].sent_at + dt.timedelta(minutes=20)), "Thank you for agreeing to talk."
        )

    @staticmethod
    def on(date: dt.date, hour: int, minute: int = 0, *, tz: str) -> dt.datetime:
        return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(tz))
