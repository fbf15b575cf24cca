import datetime as dt

import factory
from django.utils import timezone

from accounts.models import User
from cohorts.models import Cohort, Invitation, Membership
from contacts.models import Contact, Strength
from intros.models import IntroRequest

PASSWORD = "correct-horse-battery-staple"

GOOD_PREPARATION = {
    "goal": "Learn how the operations team plans its year and whether my budgeting experience fits a role there.",
    "research_company": (
        "The agency grew from forty to ninety people in two years, opened a Berlin office in spring, "
        "and publishes its client retention numbers every quarter."
    ),
    "research_person": "She has run administration there for six years and spoke at the AdminCon panel about shared services.",
    "questions": "What does a strong first year look like in your team?\nWhich skills are hardest to hire for right now?",
    "followup_plan": "I will send a thank-you note within a day and report back to my connector within a week.",
    "fit": "Eight years running budgets and vendor contracts for a public library network of twelve branches.",
    "blurb": (
        "Janet is an operations manager with eight years of budgeting and vendor management in the public sector, "
        "moving into agency operations. She would value twenty minutes to learn how your team plans its year."
    ),
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    time_zone = "UTC"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort

    name = factory.Sequence(lambda n: f"Cohort {n}")
    coach = factory.SubFactory(UserFactory, full_name="Dana Coach")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    cohort = factory.SubFactory(CohortFactory)
    user = factory.SubFactory(UserFactory)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    cohort = factory.SubFactory(CohortFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    invited_by = factory.SelfAttribute("cohort.coach")
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=14))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    owner = factory.SubFactory(UserFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.org")
    organisation = factory.Faker("company")
    title = factory.Faker("job")
    strength = Strength.CLOSE
    time_zone = "UTC"


class IntroRequestFactory(factory.django.DjangoModelFactory):
    """A draft with a complete preparation. Move it on with `intros.services`."""

    class Meta:
        model = IntroRequest

    seeker = factory.SubFactory(UserFactory)
    target = factory.SubFactory(ContactFactory)
    connector = factory.SelfAttribute("target.owner")
    goal = GOOD_PREPARATION["goal"]
    research_company = GOOD_PREPARATION["research_company"]
    research_person = GOOD_PREPARATION["research_person"]
    questions = GOOD_PREPARATION["questions"]
    followup_plan = GOOD_PREPARATION["followup_plan"]
    fit = GOOD_PREPARATION["fit"]
    blurb = GOOD_PREPARATION["blurb"]
