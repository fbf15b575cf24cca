"""Load the people and journeys of STORIES.md as demo data, through the real services.

Idempotent: when the demo coach exists, nothing is written again; the logins are
printed either way.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cohorts.models import Cohort, Membership
from contacts.models import WEEKDAYS_WORK, Contact, Strength
from followups import services as followup_services
from intros import services
from intros.models import IntroRequest, TargetLink
from intros.states import Mode, Outcome

DOMAIN = "demo.warm-intros.test"
PASSWORD = "warm-intros-demo"

PEOPLE = [
    # key, name, time zone, who they are in the stories
    ("dana", "Dana Whitfield", "America/New_York", "coach of the Career Boot Camp (story 1)"),
    ("jill", "Jill Moreno", "America/New_York", "member and connector; knows the CAO (story 1)"),
    ("janet", "Janet Okafor", "America/New_York", "wrote inside the CAO's window; now waits for Marcus Lee (story 1)"),
    ("natalie", "Natalie Brooks", "America/New_York", "seeker who waited and got an offer (story 1)"),
    ("priya", "Priya Raman", "America/Chicago", "connector who asks for better preparation (stories 2, 6)"),
    ("omar", "Omar Haddad", "America/Chicago", "seeker with an ill-prepared request (story 2)"),
    ("lee", "Lee Chen", "America/Los_Angeles", "seeker offered three introductions (story 3)"),
    ("sam", "Sam Ortiz", "America/Los_Angeles", "made promises in a meeting (story 3)"),
    ("maya", "Maya Lindqvist", "Europe/Stockholm", "offered a senior contact, never acted (story 4)"),
    ("rosa", "Rosa Alvarez", "Europe/Madrid", "mentor who offered Maya a contact (story 4)"),
    ("nora", "Nora Fitzgerald", "America/New_York", "seeker in New York asking for Tokyo (story 6)"),
    ("grace", "Grace Kim", "Europe/London", "runs the Tuesday networking group (story 5)"),
    ("kevin", "Kevin Walsh", "Europe/London", "connector who introduced Michael to Laura (story 5)"),
    ("michael", "Michael Byrne", "Europe/London", "sold IT, hired by Laura, then referred Jacob (story 5)"),
    ("jacob", "Jacob Stein", "Europe/London", "out of work, hired through Michael (story 5)"),
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


class Command(BaseCommand):
    help = "Load the STORIES.md demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options) -> None:
        if User.objects.filter(email=f"dana@{DOMAIN}").exists():
            self.stdout.write("Demo data is already loaded; nothing changed.")
        else:
            with transaction.atomic():
                self._load()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self._print_logins()

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {PASSWORD}):")
        for key, name, _, role in PEOPLE:
            email = f"{key}@{DOMAIN}"
            self.stdout.write(f"  {email:<32} {name:<16} {role}")
        self.stdout.write("")

    def _load(self) -> None:
        today = timezone.localdate()
        u = {
            key: User.objects.create_user(f"{key}@{DOMAIN}", PASSWORD, full_name=name, time_zone=tz)
            for key, name, tz, _ in PEOPLE
        }
        boot_camp = Cohort.objects.create(name="Career Boot Camp — Autumn", coach=u["dana"])
        for key in ("jill", "janet", "natalie", "priya", "omar", "lee", "sam", "maya", "rosa", "nora"):
            Membership.objects.create(cohort=boot_camp, user=u[key])
        group = Cohort.objects.create(name="Tuesday Networking Group", coach=u["grace"])
        for key in ("kevin", "michael", "jacob"):
            Membership.objects.create(cohort=group, user=u[key])

        def contact(owner: str, name: str, org: str, title: str, **extra) -> Contact:
            email = extra.pop("email", name.lower().replace(" ", ".") + "@" + org.lower().split()[0] + ".example")
            return Contact.objects.create(
                owner=u[owner],
                name=name,
                organisation=org,
                title=title,
                email=email,
                shareable=extra.pop("shareable", True),
                **extra,
            )

        cao = contact(
            "jill",
            "Catherine Alvarez",
            "Northwind Health",
            "Chief Administrative Officer",
            strength=Strength.CLOSE,
            how_we_know="Served on the hospital foundation board together.",
            time_zone="America/New_York",
        )
        henry = contact(
            "priya",
            "Henry Brooks",
            "Lumen Analytics",
            "Hiring Manager, Data Platform",
            strength=Strength.CLOSE,
            time_zone="America/Chicago",
        )
        yuki = contact(
            "priya",
            "Yuki Tanaka",
            "Sakura Robotics",
            "VP Engineering",
            strength=Strength.ACQUAINTED,
            time_zone="Asia/Tokyo",
            weekdays=WEEKDAYS_WORK,
            hours_start=dt.time(9),
            hours_end=dt.time(17),
            min_days_between=7,
            how_we_know="Met at a robotics conference in Osaka.",
        )
        laura = contact(
            "kevin",
            "Laura Perez",
            "Brightline Agency",
            "Head of Sales",
            strength=Strength.CLOSE,
            time_zone="Europe/London",
        )
        diane = contact(
            "michael",
            "Diane Foster",
            "Coretech Systems",
            "Hiring Manager, IT Sales",
            strength=Strength.CLOSE,
            time_zone="Europe/London",
            how_we_know="My manager for four years at Coretech.",
        )
        marcus = contact(
            "jill", "Marcus Lee", "City Library Network", "Director of Operations", strength=Strength.ACQUAINTED
        )
        contact(
            "priya", "Elena Petrova", "Lumen Analytics", "Recruiter", strength=Strength.ONLINE_ONLY, shareable=False
        )
        contact("sam", "Theo Grant", "Harbor Logistics", "COO", strength=Strength.ACQUAINTED)
        contact(
            "rosa",
            "Ingrid Solberg",
            "Nordlys Energy",
            "Chief People Officer",
            strength=Strength.CLOSE,
            time_zone="Europe/Oslo",
        )

        def ask(seeker: str, target: Contact, what: str, goal: str) -> IntroRequest:
            p = prep(u[seeker].full_name, what, target.organisation, target.name, goal)
            return services.intro_create_draft(seeker=u[seeker], target=target, **p)

        def approve(intro: IntroRequest, strength: str, note: str, mode: str = Mode.DOUBLE_OPT_IN, **kw):
            services.intro_submit(intro=intro, seeker=intro.seeker)
            return services.intro_approve(
                intro=intro, connector=intro.connector, vouch_strength=strength, vouch_note=note, mode=mode, **kw
            ).intro

        def answer_link(intro: IntroRequest, purpose: str = TargetLink.Purpose.ANSWER) -> TargetLink:
            return intro.target_links.filter(purpose=purpose, used_at__isnull=True).latest("pk")

        # Story 1: Janet writes inside the CAO's four days; the CAO steps back. Natalie waits and gets an offer.
        janet = ask(
            "janet",
            cao,
            "an operations manager with eight years of public-sector budgeting",
            "Learn how Northwind's administration plans its year, and whether my budgeting fits.",
        )
        janet = approve(janet, Strength.ACQUAINTED, "Janet and I are in the same boot camp; she is diligent.")
        services.target_accept(
            link=answer_link(janet),
            terms=services.TargetTerms(busy_until=today + dt.timedelta(days=4), target_writes_first=True),
        )
        now = timezone.now()
        for hours_ago in (48, 24, 1):  # Janet writes on days 1, 2 and 3 anyway: warned, then logged as breaches
            followup_services.outreach_record(
                intro=janet,
                seeker=u["janet"],
                at=now - dt.timedelta(hours=hours_ago),
                channel="email",
                note="Following up on the introduction.",
                confirmed=True,
            )
        services.target_step_back(
            link=answer_link(janet, TargetLink.Purpose.STEP_BACK),
            note="I asked for four days and was written to every day.",
        )
        # …and Janet has learnt: Marcus Lee accepted her next request, busy for two more days and
        # taking messages 09:00–17:00 Chicago time. Her home and the introduction say wait, and until when.
        marcus_request = ask(
            "janet",
            marcus,
            "an operations manager with eight years of public-sector budgeting",
            "Learn how the City Library Network runs operations across its branches.",
        )
        marcus_request = approve(marcus_request, Strength.ACQUAINTED, "Janet ran budgets for a library network.")
        services.target_accept(
            link=answer_link(marcus_request),
            terms=services.TargetTerms(
                busy_until=today + dt.timedelta(days=2),
                weekdays=[0, 1, 2, 3, 4],
                hours_start=dt.time(9),
                hours_end=dt.time(17),
                time_zone="America/Chicago",
            ),
        )
        natalie = ask(
            "natalie",
            cao,
            "a healthcare administrator with a decade of shared-services experience",
            "Understand the shared-services roles at Northwind and how to prepare for them.",
        )
        natalie = approve(natalie, Strength.CLOSE, "I read Natalie's preparation closely; she is ready and careful.")
        services.target_accept(link=answer_link(natalie), terms=services.TargetTerms(target_writes_first=False))
        services.intro_record_meeting(intro=natalie, seeker=u["natalie"], met_on=today)
        services.intro_record_outcome(
            intro=natalie,
            seeker=u["natalie"],
            outcome=Outcome.OFFER,
            note="Catherine's team made me an offer for the shared-services lead role.",
        )

        # Story 2: Omar's thin request is sent back, improved, and approved as "acquainted".
        omar = services.intro_create_draft(seeker=u["omar"], target=henry, goal="Connect", blurb="Hi, I'm Omar.")
        good = prep(
            "Omar Haddad",
            "a data engineer with five years of pipeline work",
            henry.organisation,
            henry.name,
            "Learn what Lumen's data platform team needs next year and if I fit it.",
        )
        omar = services.intro_update_preparation(intro=omar, seeker=u["omar"], preparation=good)
        services.intro_submit(intro=omar, seeker=u["omar"])
        services.intro_request_changes(
            intro=omar,
            connector=u["priya"],
            note="Say which of Lumen's products you have used, and what you'd ask Henry.",
        )
        omar = services.intro_update_preparation(
            intro=omar,
            seeker=u["omar"],
            preparation={
                "research_company": good["research_company"] + " I have used Lumen Pulse for dashboards since 2024."
            },
        )
        approve(omar, Strength.ACQUAINTED, "We met twice at meetups; his preparation is now thorough.")

        # Story 3: Sam promised Lee three introductions in a meeting; Lee takes one off Sam's list.
        # Story 4: Rosa offered Maya an ideal senior contact; Maya never acts. The beat sweep nudges
        # (day 3, day 10) and then marks them stale, within minutes of `make run` starting.
        for name, org, days_ago in [
            ("Theo Grant", "Harbor Logistics", 15),
            ("Ana Silva", "Portside Freight", 15),
            ("Ben Osei", "Cargo Cloud", 2),
        ]:
            offer = followup_services.offer_create(
                seeker=u["lee"],
                offered_by=u["sam"],
                offered_by_name=u["sam"].full_name,
                contact_name=name,
                contact_organisation=org,
                now=now - dt.timedelta(days=days_ago),
            )
            if name == "Ben Osei":
                followup_services.offer_self_contact(offer=offer, seeker=u["lee"])
        followup_services.offer_create(
            seeker=u["maya"],
            offered_by=u["rosa"],
            offered_by_name=u["rosa"].full_name,
            contact_name="Ingrid Solberg",
            contact_organisation="Nordlys Energy",
            contact_title="Chief People Officer",
            note="Rosa: 'Ingrid is exactly who you should talk to.'",
            now=now - dt.timedelta(days=16),
        )

        # Lee also waits on Priya's vetting.
        lee = ask(
            "lee",
            yuki,
            "a product manager moving into robotics",
            "Hear how Sakura sets its product roadmap and where product managers fit in it.",
        )
        services.intro_submit(intro=lee, seeker=u["lee"])

        # Story 6: Nora in New York asks for Yuki in Tokyo, who defers.
        nora = ask("nora", yuki, "a controls engineer in New York", "Learn what Sakura looks for in US engineers.")
        nora = approve(nora, Strength.CLOSE, "Nora was my intern; I would hire her again.")
        services.target_defer(
            link=answer_link(nora), until=today + dt.timedelta(days=5), note="Board week. Please ask me after."
        )

        # Story 5: Michael is hired through Laura; then he refers Jacob to his old job.
        michael = ask(
            "michael",
            laura,
            "an IT sales lead with a strong agency network",
            "Learn how Brightline's sales team works with technology clients.",
        )
        michael = approve(michael, Strength.CLOSE, "Michael and I sold together for three years.")
        services.target_accept(link=answer_link(michael), terms=services.TargetTerms())
        services.intro_record_meeting(intro=michael, seeker=u["michael"], met_on=today)
        services.intro_record_outcome(
            intro=michael, seeker=u["michael"], outcome=Outcome.HIRED, note="Laura hired me as account director."
        )
        services.intro_close(intro=michael, user=u["michael"])
        jacob = ask(
            "jacob",
            diane,
            "an IT salesperson looking for his next role",
            "Talk to Diane about the IT sales opening at Coretech.",
        )
        jacob = approve(jacob, Strength.CLOSE, "Jacob is the person I'd want in my old seat.", parent=michael)
        services.target_accept(link=answer_link(jacob), terms=services.TargetTerms())
        services.intro_record_meeting(intro=jacob, seeker=u["jacob"], met_on=today)
        services.intro_record_outcome(
            intro=jacob, seeker=u["jacob"], outcome=Outcome.HIRED, note="Diane hired me into Michael's old role."
        )
