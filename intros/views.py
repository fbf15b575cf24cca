"""Pages of an introduction: the seeker's home, the connector's inbox, the request
itself (with the vetting for the connector) and the target's page behind a link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import ratelimit
from accounts.htmx import redirect_after_write
from accounts.pagination import MatchedIds
from contacts.models import Contact

from . import numbers, services
from .chains import chain_tree, credits
from .forms import (
    AcceptForm,
    ConnectorNoteForm,
    DeferForm,
    FeedbackForm,
    MeetingForm,
    OutcomeForm,
    PreparationForm,
    TargetNoteForm,
    VouchForm,
)
from .models import PREPARATION_FIELDS, IntroRequest, TargetLink, next_step
from .states import FINAL_STATES, Actor, Status
from .track_record import track_record


def _done(request: HttpRequest, intro: IntroRequest, result: services.Result, success: str) -> HttpResponse:
    if result.changed:
        messages.success(request, success)
    else:
        messages.info(request, result.message)
    return redirect_after_write(request, intro.get_absolute_url())


# --- seeker -----------------------------------------------------------------------------


# Lists on home and the inbox show their first LIST_ROWS (the queue oldest first); "show all" lists one whole.
LIST_ROWS = 20
ALL_ROWS = 300


def _rows(show_all: bool) -> int:
    return ALL_ROWS if show_all else LIST_ROWS


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    open_requests = IntroRequest.objects.of_seeker(user).open()
    limit = _rows(request.GET.get("all") == "open")
    intros = list(open_requests.listed(mine="seeker").order_by("-updated_at")[:limit])
    # Both counts in one query, always asked: the same queries however many there are.
    counts = IntroRequest.objects.visible_to(user).aggregate(
        open=Count("pk", filter=Q(pk__in=open_requests.values("pk"))),
        waiting_on_me=Count("pk", filter=Q(pk__in=IntroRequest.objects.awaiting_connector(user).values("pk"))),
    )
    for intro in intros:
        intro.seeker = user
        intro.next_step = next_step(intro, Actor.SEEKER)
    end_of_today = timezone.localtime().replace(hour=23, minute=59, second=59)
    due = list(user.followups.filter(status="open", due_at__lte=end_of_today).order_by("due_at")[:20])
    recent = list(
        IntroRequest.objects.of_seeker(user)
        .filter(status__in=[*FINAL_STATES, Status.OUTCOME])
        .listed(mine="seeker")
        .order_by("-updated_at")[:5]
    )
    return render(
        request,
        "intros/home.html",
        {
            "nav": "home",
            "intros": intros,
            "open_count": counts["open"],
            "due": due,
            "recent": recent,
            "waiting_on_me": counts["waiting_on_me"],
        },
    )


@login_required
def find(request: HttpRequest) -> HttpResponse:
    """Contacts my cohort shares, to ask for an introduction (names and roles only)."""
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]  # PostgreSQL refuses NUL
    shared = Contact.objects.shared_with(request.user)
    matches = shared
    if query:
        # Names, roles and organisations only: never match on details the seeker can't see.
        matches = shared.filter(Q(name__icontains=query) | Q(organisation__icontains=query) | Q(title__icontains=query))
    # What a row shows, and nothing else: a seeker never receives another member's contact's
    # email or notes, not even into memory.
    rows = Contact.objects.select_related("owner").only(
        "pk",
        "name",
        "title",
        "organisation",
        "strength",
        "owner__id",
        "owner__full_name",
        "owner__email",
        "owner__deleted_at",
    )
    # One scan of the cohort's shared contacts finds, orders and counts the matches.
    page = Paginator(MatchedIds(matches.order_by("organisation", "name", "pk"), rows), 30).get_page(
        request.GET.get("page")
    )
    context = {"nav": "home", "page": page, "query": query}
    template = "intros/find.html#results" if request.htmx else "intros/find.html"
    return render(request, template, context)


@login_required
def intro_create(request: HttpRequest, contact_pk: int) -> HttpResponse:
    target = get_object_or_404(Contact.objects.shared_with(request.user).select_related("owner"), pk=contact_pk)
    form = PreparationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        blocked = ratelimit.INTRO_REQUEST.hit(str(request.user.pk))
        if blocked:
            ratelimit.show_on_form(form, blocked)
            context = {"nav": "home", "form": form, "target": target}
            return ratelimit.too_many(render(request, "intros/intro_form.html", context), blocked)
        intro = services.intro_create_draft(
            seeker=request.user, target=target, **{f: form.cleaned_data[f] for f in PREPARATION_FIELDS}
        )
        if "submit" in request.POST:
            return _submit_or_explain(request, intro, counted=True)
        messages.success(request, "Draft saved. Submit it when your preparation is ready.")
        return redirect_after_write(request, intro.get_absolute_url())
    status = 422 if request.method == "POST" else 200
    return render(request, "intros/intro_form.html", {"nav": "home", "form": form, "target": target}, status=status)


def _submit_or_explain(request: HttpRequest, intro: IntroRequest, *, counted: bool = False) -> HttpResponse:
    """Submit, or show what stops it. `counted`: this post was counted against the limit already."""
    blocked = None if counted else ratelimit.INTRO_REQUEST.hit(str(request.user.pk))
    if blocked:
        form = PreparationForm(instance=intro, data={f: getattr(intro, f) for f in PREPARATION_FIELDS})
        ratelimit.show_on_form(form, blocked)
        context = {"nav": "home", "form": form, "intro": intro, "target": intro.target}
        return ratelimit.too_many(render(request, "intros/intro_form.html", context), blocked)
    try:
        result = services.intro_submit(intro=intro, seeker=request.user)
    except services.PreparationIncomplete as incomplete:
        form = PreparationForm(instance=intro, data={f: getattr(intro, f) for f in PREPARATION_FIELDS})
        form.is_valid()
        for field, problem in incomplete.problems.items():
            form.add_error(field, problem)
        messages.warning(
            request,
            f"Saved as a draft. Before it goes to {intro.connector.full_name}, "
            f"{len(incomplete.problems)} part(s) of the preparation need more.",
        )
        return render(
            request,
            "intros/intro_form.html",
            {"nav": "home", "form": form, "intro": intro, "target": intro.target},
            status=422,
        )
    except services.NotAllowed as problem:
        messages.error(request, str(problem))
        return redirect_after_write(request, intro.get_absolute_url())
    if result.warning:
        messages.warning(request, result.warning)
        return redirect_after_write(request, intro.get_absolute_url())
    return _done(request, intro, result, f"Sent to {intro.connector.full_name} to vet.")


@login_required
def intro_edit(request: HttpRequest, pk: int) -> HttpResponse:
    intro = get_object_or_404(IntroRequest.objects.of_seeker(request.user).with_people(), pk=pk)
    if intro.status not in {Status.DRAFT, Status.NEEDS_CHANGES}:
        messages.info(request, "This request can no longer be edited.")
        return redirect_after_write(request, intro.get_absolute_url())
    form = PreparationForm(request.POST or None, instance=intro)
    if request.method == "POST" and form.is_valid():
        intro = services.intro_update_preparation(intro=intro, seeker=request.user, preparation=form.cleaned_data)
        if "submit" in request.POST:
            return _submit_or_explain(request, intro)
        messages.success(request, "Draft saved.")
        return redirect_after_write(request, intro.get_absolute_url())
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "intros/intro_form.html",
        {"nav": "home", "form": form, "intro": intro, "target": intro.target},
        status=status,
    )


@require_POST
@login_required
def intro_submit(request: HttpRequest, pk: int) -> HttpResponse:
    intro = get_object_or_404(IntroRequest.objects.of_seeker(request.user).with_people(), pk=pk)
    return _submit_or_explain(request, intro)


@require_POST
@login_required
def intro_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    intro = get_object_or_404(IntroRequest.objects.of_seeker(request.user), pk=pk)
    try:
        result = services.intro_withdraw(intro=intro, seeker=request.user, note=request.POST.get("note", "")[:2000])
    except services.NotAllowed as problem:
        messages.error(request, str(problem))
        return redirect_after_write(request, intro.get_absolute_url())
    return _done(request, intro, result, "Request withdrawn.")


@require_POST
@login_required
def intro_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    intro = get_object_or_404(IntroRequest.objects.of_seeker(request.user).with_people(), pk=pk)
    form = MeetingForm(request.POST)
    if not form.is_valid():
        return _detail(request, intro, status=422, meeting_form=form)
    try:
        result = services.intro_record_meeting(intro=intro, seeker=request.user, met_on=form.cleaned_data["met_on"])
    except services.NotAllowed as problem:
        messages.error(request, str(problem))
        return redirect_after_write(request, intro.get_absolute_url())
    return _done(request, intro, result, "Meeting recorded. Your thank-you follow-ups are on your list.")


@require_POST
@login_required
def intro_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    intro = get_object_or_404(IntroRequest.objects.of_seeker(request.user).with_people(), pk=pk)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return _detail(request, intro, status=422, outcome_form=form)
    data = form.cleaned_data
    try:
        result = services.intro_record_outcome(
            intro=intro,
            seeker=request.user,
            outcome=data["outcome"],
            note=data["note"],
            referred_to={
                "name": data["referred_name"],
                "organisation": data["referred_organisation"],
                "title": data["referred_title"],
            },
        )
    except services.NotAllowed as problem:
        messages.error(request, str(problem))
        return redirect_after_write(request, intro.get_absolute_url())
    return _done(request, intro, result, f"Outcome reported to {intro.connector.full_name}.")


@require_POST
@login_required
def intro_close(request: HttpRequest, pk: int) -> HttpResponse:
    intro = get_object_or_404(IntroRequest.objects.visible_to(request.user), pk=pk)
    try:
        result = services.intro_close(intro=intro, user=request.user)
    except services.NotAllowed as problem:
        messages.error(request, str(problem))
        return redirect_after_write(request, intro.get_absolute_url())
    return _done(request, intro, result, "Introduction closed.")


# --- both: the request page ---------------------------------------------------------------


def _detail(request: HttpRequest, intro: IntroRequest, *, status: int = 200, **forms) -> HttpResponse:
    role = intro.role_of(request.user)
    context = {
        "nav": "home" if role is Actor.SEEKER else "inbox",
        "intro": intro,
        "role": role.value,
        "next_step": next_step(intro, role),
        "events": intro.events.select_related("actor"),
        "followups": intro.followups.select_related("owner").order_by("due_at"),
        # Related by name: the outreach log lives in `followups`, which sits above this app.
        "outreaches": intro.outreaches.order_by("at"),
        "outreach_states": [Status.INTRODUCED, Status.MET, Status.OUTCOME],
        "show_target_email": role is Actor.CONNECTOR or intro.target_details_visible_to_seeker,
        "preparation": [(intro._meta.get_field(f).verbose_name, getattr(intro, f)) for f in PREPARATION_FIELDS],
        "today": timezone.localdate(),
    }
    if role is Actor.CONNECTOR and intro.status == Status.SUBMITTED:
        context["track_record"] = track_record(intro.seeker)
        context["capacity_full"] = services.connector_at_capacity(request.user)
        context["vouch_form"] = forms.get("vouch_form") or VouchForm(connector=request.user)
        context["changes_form"] = forms.get("changes_form") or ConnectorNoteForm(prefix="changes")
        context["decline_form"] = forms.get("decline_form") or ConnectorNoteForm(prefix="decline")
    if role is Actor.SEEKER:
        if intro.status in {Status.DRAFT, Status.NEEDS_CHANGES}:
            context["missing"] = intro.missing_preparation()
        if intro.status == Status.INTRODUCED:
            context["meeting_form"] = forms.get("meeting_form") or MeetingForm(initial={"met_on": timezone.localdate()})
        if intro.status == Status.MET:
            context["outcome_form"] = forms.get("outcome_form") or OutcomeForm()
    template = "intros/intro_detail.html"
    if request.htmx and status == 422:
        template += "#actions"
    return render(request, template, context, status=status)


@login_required
def intro_detail(request: HttpRequest, pk: int) -> HttpResponse:
    intro = get_object_or_404(IntroRequest.objects.visible_to(request.user).with_people(), pk=pk)
    if intro.status == Status.DRAFT and intro.connector_id == request.user.pk:
        # A draft is the seeker's own until submitted.
        return render(request, "404.html", status=404)
    return _detail(request, intro)


# --- connector ------------------------------------------------------------------------------


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    show_all = request.GET.get("all", "")
    waiting_qs = IntroRequest.objects.awaiting_connector(user)
    progress_qs = IntroRequest.objects.of_connector(user).open().exclude(status=Status.SUBMITTED)
    waiting = list(waiting_qs.listed(mine="connector").order_by("updated_at")[: _rows(show_all == "waiting")])
    in_progress = list(progress_qs.listed(mine="connector").order_by("-updated_at")[: _rows(show_all == "progress")])
    for intro in in_progress:
        intro.connector = user
        intro.next_step = next_step(intro, Actor.CONNECTOR)
    past = list(
        IntroRequest.objects.of_connector(user)
        .filter(status__in=[*FINAL_STATES, Status.MET, Status.OUTCOME])
        .listed(mine="connector")
        .order_by("-updated_at")[:10]
    )
    counts = IntroRequest.objects.of_connector(user).aggregate(
        waiting=Count("pk", filter=Q(pk__in=waiting_qs.values("pk"))),
        in_progress=Count("pk", filter=Q(pk__in=progress_qs.values("pk"))),
        carried=Count("pk", filter=Q(pk__in=IntroRequest.objects.carried_by(user).values("pk"))),
    )
    return render(
        request,
        "intros/inbox.html",
        {
            "nav": "inbox",
            "waiting": waiting,
            "in_progress": in_progress,
            "past": past,
            "counts": counts,
            "carried": counts["carried"],
            "capacity": user.intro_capacity,
        },
    )


@login_required
def connector_record(request: HttpRequest) -> HttpResponse:
    """The introductions I made as a connector: what they led to, and the chains they started."""
    counts = numbers.connector_record(request.user)
    made = numbers.introductions_made(request.user)
    intros = list(made.with_people().annotate(next_in_chain=Count("children")).order_by("-updated_at")[:100])
    return render(request, "intros/connector_record.html", {"nav": "inbox", "counts": counts, "intros": intros})


@login_required
def chain(request: HttpRequest, pk: int) -> HttpResponse:
    intro = get_object_or_404(IntroRequest.objects.visible_to(request.user).with_people(), pk=pk)
    root, members = chain_tree(intro)
    return render(
        request,
        "intros/chain.html",
        {"nav": "inbox", "intro": intro, "root": root, "credits": credits(members), "size": len(members)},
    )


def _connector_intro(request: HttpRequest, pk: int) -> IntroRequest:
    return get_object_or_404(IntroRequest.objects.of_connector(request.user).with_people(), pk=pk)


@require_POST
@login_required
def intro_approve(request: HttpRequest, pk: int) -> HttpResponse:
    intro = _connector_intro(request, pk)
    form = VouchForm(request.POST, connector=request.user)
    if not form.is_valid():
        return _detail(request, intro, status=422, vouch_form=form)
    try:
        result = services.intro_approve(
            intro=intro,
            connector=request.user,
            vouch_strength=form.cleaned_data["vouch_strength"],
            vouch_note=form.cleaned_data["vouch_note"],
            mode=form.cleaned_data["mode"],
            parent=form.cleaned_data.get("parent"),
        )
    except services.NotAllowed as problem:
        form.add_error(None, str(problem))
        return _detail(request, intro, status=422, vouch_form=form)
    success = (
        f"Approved. {intro.target.name} has been asked; names and emails are shared only if they agree."
        if result.intro.status == Status.AWAITING_TARGET
        else f"Approved. {intro.seeker.full_name} may now write to {intro.target.name}, mentioning you."
    )
    return _done(request, intro, result, success)


def _connector_note(request: HttpRequest, pk: int, *, prefix: str, action, success: str) -> HttpResponse:
    intro = _connector_intro(request, pk)
    form = ConnectorNoteForm(request.POST, prefix=prefix)
    if not form.is_valid():
        return _detail(request, intro, status=422, **{f"{prefix}_form": form})
    try:
        result = action(intro=intro, connector=request.user, note=form.cleaned_data["note"])
    except services.NotAllowed as problem:
        messages.error(request, str(problem))
        return redirect_after_write(request, intro.get_absolute_url())
    return _done(request, intro, result, success)


@require_POST
@login_required
def intro_request_changes(request: HttpRequest, pk: int) -> HttpResponse:
    return _connector_note(
        request,
        pk,
        prefix="changes",
        action=services.intro_request_changes,
        success="Your note was sent; the request comes back to you when it is improved.",
    )


@require_POST
@login_required
def intro_decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _connector_note(
        request,
        pk,
        prefix="decline",
        action=services.intro_decline,
        success="Declined. Your note was sent to the seeker.",
    )


# --- the target, through a link (no login) --------------------------------------------------


def target_link(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    try:
        link = services.target_link_resolve(intro_id=pk, token=token)
    except services.LinkProblem as problem:
        status = {"expired": 410, "used": 410}.get(problem.kind, 400)
        return render(request, "intros/target_problem.html", {"problem": problem}, status=status)
    intro = link.intro
    if link.used_at is not None:
        return render(
            request,
            "intros/target_problem.html",
            {"problem": services.LinkProblem("used", "You have already answered.", link), "intro": intro},
            status=410,
        )
    still_open = {
        TargetLink.Purpose.ANSWER: intro.status == Status.AWAITING_TARGET,
        TargetLink.Purpose.STEP_BACK: intro.status in {Status.ACCEPTED, Status.INTRODUCED},
        TargetLink.Purpose.FEEDBACK: intro.status in {Status.MET, Status.OUTCOME, Status.CLOSED},
    }[link.purpose]
    if not still_open:
        problem = services.LinkProblem("closed", "This introduction is no longer waiting for an answer.", link)
        return render(request, "intros/target_problem.html", {"problem": problem, "intro": intro}, status=410)

    contact = intro.target
    forms = {
        "accept_form": AcceptForm(prefix="accept", contact=contact),
        "defer_form": DeferForm(prefix="defer", contact=contact),
        "decline_form": TargetNoteForm(prefix="decline"),
        "step_back_form": TargetNoteForm(prefix="step_back"),
        "feedback_form": FeedbackForm(prefix="feedback"),
    }
    status = 200
    open_panel = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        blocked = ratelimit.TARGET_ANSWER.hit(f"{pk}:{ratelimit.client_ip(request)}")
        if blocked:
            _keep_what_was_typed(request, link, action, forms, blocked)
            context = {"intro": intro, "link": link, "open_panel": action, **forms}
            return ratelimit.too_many(render(request, "intros/target.html", context), blocked)
        try:
            result = _target_answer(request, link, action, forms)
        except services.LinkProblem as problem:
            return render(request, "intros/target_problem.html", {"problem": problem, "intro": intro}, status=410)
        except services.NotAllowed as problem:
            messages.error(request, str(problem))
            result = None
        if result is not None:
            return render(request, "intros/target_thanks.html", {"intro": result.intro, "action": action})
        status, open_panel = 422, action
    return render(
        request,
        "intros/target.html",
        {"intro": intro, "link": link, "open_panel": open_panel, **forms},
        status=status,
    )


# Which form each answer posts, with its prefix.
TARGET_FORMS = {
    "accept": ("accept_form", AcceptForm),
    "defer": ("defer_form", DeferForm),
    "decline": ("decline_form", TargetNoteForm),
    "step_back": ("step_back_form", TargetNoteForm),
    "feedback": ("feedback_form", FeedbackForm),
}


def _keep_what_was_typed(request: HttpRequest, link: TargetLink, action: str, forms: dict, blocked) -> None:
    """A refused answer: the page says why at the top (several forms share it), and the
    answer's form shows what was typed, unchecked."""
    messages.error(request, blocked.message)
    if action not in TARGET_FORMS:
        return
    name, form_class = TARGET_FORMS[action]
    kwargs = {"contact": link.intro.target} if form_class in (AcceptForm, DeferForm) else {}
    forms[name] = ratelimit.unchecked(form_class(request.POST, prefix=action, **kwargs))


def _target_answer(request: HttpRequest, link: TargetLink, action: str, forms: dict):
    contact = link.intro.target
    if link.purpose == TargetLink.Purpose.ANSWER and action == "accept":
        form = forms["accept_form"] = AcceptForm(request.POST, prefix="accept", contact=contact)
        if not form.is_valid():
            return None
        d = form.cleaned_data
        terms = services.TargetTerms(
            busy_until=d["busy_until"],
            weekdays=d["weekdays"] or None,
            hours_start=d["hours_start"],
            hours_end=d["hours_end"],
            time_zone=d["time_zone"] or None,
            target_writes_first=d["writes_first"] == "target",
        )
        return services.target_accept(link=link, terms=terms)
    if link.purpose == TargetLink.Purpose.ANSWER and action == "defer":
        form = forms["defer_form"] = DeferForm(request.POST, prefix="defer", contact=contact)
        if not form.is_valid():
            return None
        return services.target_defer(link=link, until=form.cleaned_data["until"], note=form.cleaned_data["note"])
    if link.purpose == TargetLink.Purpose.ANSWER and action == "decline":
        form = forms["decline_form"] = TargetNoteForm(request.POST, prefix="decline")
        if not form.is_valid():
            return None
        return services.target_decline(link=link, note=form.cleaned_data["note"])
    if link.purpose == TargetLink.Purpose.STEP_BACK and action == "step_back":
        form = forms["step_back_form"] = TargetNoteForm(request.POST, prefix="step_back")
        if not form.is_valid():
            return None
        return services.target_step_back(link=link, note=form.cleaned_data["note"])
    if link.purpose == TargetLink.Purpose.FEEDBACK and action == "feedback":
        form = forms["feedback_form"] = FeedbackForm(request.POST, prefix="feedback")
        if not form.is_valid():
            return None
        intro = services.target_feedback(link=link, rating=form.cleaned_data["rating"], note=form.cleaned_data["note"])
        return services.Result(intro, True, "feedback")
    raise services.NotAllowed("Choose one of the answers below.")
