"""Pages of an introduction: the seeker's home, the connector's inbox, the request
itself (with the vetting for the connector) and the target's page behind a link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from contacts.models import Contact
from lib import ratelimit
from lib.dates import end_of_today
from lib.htmx import redirect_after_write
from lib.pagination import MatchedIds
from workflows import intros as actions
from workflows.track_record import track_record

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
from .guidance import guidance_for, guidance_for_many, terms_in_words
from .models import (
    AWAITING_CONNECTOR,
    CARRIED,
    OPEN,
    PREPARATION_FIELDS,
    REVIEWED_FIELDS,
    IntroRequest,
    TargetLink,
    list_fields_via,
    next_step,
    seen_as_connector,
    seen_as_seeker,
)
from .states import OPEN_STATES, PAST_FOR_CONNECTOR, PAST_FOR_SEEKER, SAID_NO_STATES, Actor, Status, allows, link_open


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
    # Both counts in one query, always asked: the same queries however many there are. Each
    # is its list's condition: the seeker's side and open, the connector's side and waiting.
    counts = IntroRequest.objects.visible_to(user).aggregate(
        open=Count("pk", filter=seen_as_seeker(user) & OPEN),
        waiting_on_me=Count("pk", filter=seen_as_connector(user) & AWAITING_CONNECTOR),
    )
    now = timezone.now()
    for intro in intros:
        intro.seeker = user
    tomorrow = end_of_today(now)
    # Related by name: follow-ups live in `followups`, which sits above this app. Those about the
    # first contact come with their introduction, to say what its guidance says.
    due = list(
        user.followups.open()
        .filter(due_at__lt=tomorrow)
        .select_related("intro__target", "intro__connector")
        .only(*(field.name for field in user.followups.model._meta.concrete_fields), *list_fields_via("intro"))
        .order_by("due_at")[:20]
    )
    first_contact = {f.intro_id: f for f in due if f.about_first_contact}
    for intro in intros:
        first_contact.pop(intro.pk, None)  # listed already
    # Whether to write to each target now (their outreach logs in one query).
    guidance = guidance_for_many(
        [*intros, *(f.intro for f in first_contact.values())], reader_zone=user.time_zone, now=now
    )
    for intro in intros:
        intro.guidance = guidance.get(intro.pk)
        intro.next_step = next_step(intro, Actor.SEEKER, intro.guidance)
    for followup in due:
        followup.guidance = guidance.get(followup.intro_id) if followup.about_first_contact else None
    recent = list(
        IntroRequest.objects.of_seeker(user)
        .filter(status__in=PAST_FOR_SEEKER)
        .listed(mine="seeker")
        .order_by("-updated_at")[:5]
    )
    # A coach's home starts with their cohorts' dashboards. Related by name: cohorts sits above
    # this app. Bounded: a coach runs a handful of cohorts.
    coached = list(user.cohorts_coached.with_member_count().order_by("name")[:20])
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
            "coached": coached,
            # A coach who asks for no introductions sees their cohorts, not an empty seeker's page.
            "seeking": bool(counts["open"] or due or recent or not coached),
        },
    )


@login_required
def find(request: HttpRequest) -> HttpResponse:
    """Contacts my cohort shares, to ask for an introduction (names and roles only)."""
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]  # PostgreSQL refuses NUL
    # Names, roles and organisations only, whatever their case and accents: never match on
    # details the seeker can't see.
    matches = Contact.objects.shared_with(request.user).search_shared(query)
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
    _mark_asked_before(request.user, page.object_list)
    context = {"nav": "home", "page": page, "query": query}
    template = "intros/find.html#results" if request.htmx else "intros/find.html"
    return render(request, template, context)


def _mark_asked_before(seeker, contacts) -> None:
    """On each contact of a result page: the seeker's open request to them (`open_request`), or
    their latest request that ended in a no (`said_no`). One query for the page."""
    by_target: dict[int, IntroRequest] = {}
    mine = (
        IntroRequest.objects.of_seeker(seeker)
        .filter(target_id__in=[c.pk for c in contacts], status__in=OPEN_STATES | SAID_NO_STATES)
        .with_ending()
        .only("pk", "target_id", "status")
        .order_by("ended_at", "pk")  # the latest ending last, so it is the one kept
    )
    for intro in mine:
        kept = by_target.get(intro.target_id)
        if kept is None or not kept.is_open:
            by_target[intro.target_id] = intro
    for contact in contacts:
        intro = by_target.get(contact.pk)
        contact.open_request = intro if intro is not None and intro.is_open else None
        contact.said_no = intro if intro is not None and not intro.is_open else None


def _form_context(form: PreparationForm, target: Contact, history, intro: IntroRequest | None = None) -> dict:
    return {"nav": "home", "form": form, "target": target, "intro": intro, "history": history}


def _already_open(request: HttpRequest, target: Contact, intro: IntroRequest) -> HttpResponse:
    """Point to the open request instead of opening a blank one (409 to a post: nothing made)."""
    context = {"nav": "home", "target": target, "open_request": intro}
    return render(request, "intros/intro_form.html", context, status=409 if request.method == "POST" else 200)


@login_required
def intro_create(request: HttpRequest, contact_pk: int) -> HttpResponse:
    target = get_object_or_404(Contact.objects.shared_with(request.user).select_related("owner"), pk=contact_pk)
    already = services.open_request_to(seeker=request.user, target=target)
    if already is not None:
        return _already_open(request, target, already)
    history = services.asked_before(seeker=request.user, target=target)
    form = PreparationForm(request.POST or None, asked_before=bool(history))
    if request.method == "POST" and form.is_valid():
        blocked = ratelimit.INTRO_REQUEST.hit(str(request.user.pk))
        if blocked:
            ratelimit.show_on_form(form, blocked)
            context = _form_context(form, target, history)
            return ratelimit.too_many(render(request, "intros/intro_form.html", context), blocked)
        try:
            intro = services.intro_create_draft(
                seeker=request.user, target=target, **{f: form.cleaned_data[f] for f in form.fields}
            )
        except services.AlreadyOpen as open_one:  # another tab was quicker
            return _already_open(request, target, open_one.intro)
        if "submit" in request.POST:
            return _submit_or_explain(request, intro, counted=True)
        messages.success(request, "Draft saved. Submit it when your preparation is ready.")
        return redirect_after_write(request, intro.get_absolute_url())
    status = 422 if request.method == "POST" else 200
    return render(request, "intros/intro_form.html", _form_context(form, target, history), status=status)


def _saved_form(intro: IntroRequest, history) -> PreparationForm:
    """The form as the request now stands (to show what stops it being submitted)."""
    return PreparationForm(
        instance=intro, data={f: getattr(intro, f) for f in REVIEWED_FIELDS}, asked_before=bool(history)
    )


def _submit_or_explain(request: HttpRequest, intro: IntroRequest, *, counted: bool = False) -> HttpResponse:
    """Submit, or show what stops it. `counted`: this post was counted against the limit already."""
    blocked = None if counted else ratelimit.INTRO_REQUEST.hit(str(request.user.pk))
    if blocked:
        history = services.asked_before(seeker=intro.seeker, target=intro.target)
        form = _saved_form(intro, history)
        ratelimit.show_on_form(form, blocked)
        context = _form_context(form, intro.target, history, intro)
        return ratelimit.too_many(render(request, "intros/intro_form.html", context), blocked)
    try:
        result = actions.do_submit(intro=intro, seeker=request.user)
    except services.PreparationIncomplete as incomplete:
        history = services.asked_before(seeker=intro.seeker, target=intro.target)
        form = _saved_form(intro, history)
        form.is_valid()
        for field, problem in incomplete.problems.items():
            form.add_error(field if field in form.fields else None, problem)
        messages.warning(
            request,
            f"Saved as a draft. Before it goes to {intro.connector.full_name}, "
            f"{len(incomplete.problems)} part(s) of the preparation need more.",
        )
        return render(request, "intros/intro_form.html", _form_context(form, intro.target, history, intro), status=422)
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
    if not intro.is_editable:
        messages.info(request, "This request can no longer be edited.")
        return redirect_after_write(request, intro.get_absolute_url())
    history = services.asked_before(seeker=intro.seeker, target=intro.target)
    form = PreparationForm(request.POST or None, instance=intro, asked_before=bool(history))
    if request.method == "POST" and form.is_valid():
        intro = services.intro_update_preparation(intro=intro, seeker=request.user, preparation=form.cleaned_data)
        if "submit" in request.POST:
            return _submit_or_explain(request, intro)
        messages.success(request, "Draft saved.")
        return redirect_after_write(request, intro.get_absolute_url())
    status = 422 if request.method == "POST" else 200
    return render(request, "intros/intro_form.html", _form_context(form, intro.target, history, intro), status=status)


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
        result = actions.do_withdraw(intro=intro, seeker=request.user, note=request.POST.get("note", "")[:2000])
    except services.NotAllowed as problem:
        messages.error(request, str(problem))
        return redirect_after_write(request, intro.get_absolute_url())
    return _done(request, intro, result, "Request withdrawn.")


@require_POST
@login_required
def intro_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    intro = get_object_or_404(IntroRequest.objects.of_seeker(request.user).with_people(), pk=pk)
    form = MeetingForm(request.POST, intro=intro)
    if not form.is_valid():
        return _detail(request, intro, status=422, meeting_form=form)
    try:
        result = actions.do_record_meeting(intro=intro, seeker=request.user, met_on=form.cleaned_data["met_on"])
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
        result = actions.do_record_outcome(
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
        result = actions.do_close(intro=intro, user=request.user)
    except services.NotAllowed as problem:
        messages.error(request, str(problem))
        return redirect_after_write(request, intro.get_absolute_url())
    return _done(request, intro, result, "Introduction closed.")


# --- both: the request page ---------------------------------------------------------------


def _detail(request: HttpRequest, intro: IntroRequest, *, status: int = 200, **forms) -> HttpResponse:
    role = intro.role_of(request.user)
    now = timezone.now()
    guidance = guidance_for(intro, reader_zone=request.user.time_zone, now=now)
    context = {
        "nav": "home" if role is Actor.SEEKER else "inbox",
        "intro": intro,
        "role": role.value,
        "guidance": guidance,
        "next_step": next_step(intro, role, guidance),
        "events": intro.events.select_related("actor"),
        "followups": intro.followups.select_related("owner").order_by("due_at"),
        # Related by name: the outreach log lives in `followups`, which sits above this app.
        "outreaches": intro.outreaches.order_by("at"),
        "show_target_email": role is Actor.CONNECTOR or intro.target_details_visible_to_seeker,
        # What the target asked for: the seeker learns it with their email, once they accept.
        "target_terms": terms_in_words(
            intro.target,
            target_writes_first=intro.target_writes_first,
            writer_name=intro.target.name,
            seeker_name=intro.seeker.full_name,
            now=now,
        )
        if intro.target_details_visible_to_seeker
        else [],
        "preparation": [(intro._meta.get_field(f).verbose_name, getattr(intro, f)) for f in PREPARATION_FIELDS],
        "today": timezone.localdate(),
        # Earlier requests to the same person that ended in a no: both sides see them, with why now.
        "history": [
            h
            for h in services.asked_before(seeker=intro.seeker, target=intro.target, viewer=request.user)
            if h.pk != intro.pk
        ],
    }
    context["undelivered_ask"] = intro.undelivered_ask()
    context["undelivered_introduction"] = intro.undelivered_introduction()
    if role is Actor.CONNECTOR and intro.status == Status.SUBMITTED:
        # The vetting page, in the order a connector reads: who asks for whom, the preparation
        # (what changed since they sent it back), the track record, then the decision.
        context["vetting"] = True
        sent_back = services.sent_back_version(intro)
        if sent_back is not None:
            context["sent_back"] = sent_back
            context["changes"] = services.preparation_changes(intro, sent_back)
            context["changed_any"] = any(change.changed for change in context["changes"])
        context["track_record"] = track_record(intro.seeker)
        context["capacity_full"] = services.connector_at_capacity(request.user)
        context["vouch_form"] = forms.get("vouch_form") or VouchForm(connector=request.user)
        context["changes_form"] = forms.get("changes_form") or ConnectorNoteForm(prefix="changes")
        context["decline_form"] = forms.get("decline_form") or ConnectorNoteForm(prefix="decline")
    if role is Actor.SEEKER:
        if intro.is_editable:
            context["missing"] = intro.missing_preparation()
        if allows("record_meeting", intro.status):
            context["meeting_form"] = forms.get("meeting_form") or MeetingForm(
                intro=intro, initial={"met_on": timezone.localdate()}
            )
        if allows("record_outcome", intro.status):
            context["outcome_form"] = forms.get("outcome_form") or OutcomeForm()
    template = "intros/intro_detail.html"
    if request.htmx and status == 422:
        template += "#actions"
    return render(request, template, context, status=status)


@login_required
def intro_detail(request: HttpRequest, pk: int) -> HttpResponse:
    intro = get_object_or_404(IntroRequest.objects.visible_to(request.user).with_people(), pk=pk)
    return _detail(request, intro)


# --- connector ------------------------------------------------------------------------------


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    show_all = request.GET.get("all", "")
    waiting_qs = IntroRequest.objects.awaiting_connector(user)
    progress_qs = IntroRequest.objects.of_connector(user).open().exclude(AWAITING_CONNECTOR)
    waiting = list(waiting_qs.listed(mine="connector").order_by("updated_at")[: _rows(show_all == "waiting")])
    in_progress = list(progress_qs.listed(mine="connector").order_by("-updated_at")[: _rows(show_all == "progress")])
    for intro in in_progress:
        intro.connector = user
        intro.next_step = next_step(intro, Actor.CONNECTOR)
    past = list(
        IntroRequest.objects.of_connector(user)
        .filter(status__in=PAST_FOR_CONNECTOR)
        .listed(mine="connector")
        .order_by("-updated_at")[:10]
    )
    # The three lists' sizes from the connector's side in one pass (the lists' own conditions).
    counts = IntroRequest.objects.of_connector(user).aggregate(
        waiting=Count("pk", filter=AWAITING_CONNECTOR),
        in_progress=Count("pk", filter=OPEN & ~AWAITING_CONNECTOR),
        carried=Count("pk", filter=CARRIED),
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
    root, members = chain_tree(intro, request.user)
    # The seeker's chain belongs under Home, like the introduction itself; the connector's under Inbox.
    nav = "home" if intro.role_of(request.user) is Actor.SEEKER else "inbox"
    return render(
        request,
        "intros/chain.html",
        {"nav": nav, "intro": intro, "root": root, "credits": credits(members), "size": len(members)},
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
        result = actions.do_approve(
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
        action=actions.do_request_changes,
        success="Your note was sent; the request comes back to you when it is improved.",
    )


@require_POST
@login_required
def intro_decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _connector_note(
        request,
        pk,
        prefix="decline",
        action=actions.do_decline,
        success="Declined. Your note was sent to the seeker.",
    )


@require_POST
@login_required
def intro_ask_again(request: HttpRequest, pk: int) -> HttpResponse:
    """Our email asking the target was not delivered; the connector has checked the address."""
    intro = get_object_or_404(IntroRequest.objects.of_connector(request.user), pk=pk)
    try:
        result = actions.do_ask_target_again(intro=intro, connector=request.user)
    except services.NotAllowed as problem:
        messages.error(request, str(problem))
        return redirect_after_write(request, intro.get_absolute_url())
    return _done(request, intro, result, result.message)


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
    if not link_open(link.purpose, intro.status):
        closed = {
            TargetLink.Purpose.ANSWER: "This introduction is no longer waiting for an answer.",
            TargetLink.Purpose.STEP_BACK: "Stepping back is possible until you meet; this introduction has moved on.",
            TargetLink.Purpose.FEEDBACK: "Feedback on the match opens once you have met.",
        }[link.purpose]
        problem = services.LinkProblem("closed", closed, link)
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
            context = {"intro": result.intro, "action": action}
            if action == "accept":
                # The terms they gave, back in their own words, as everyone will be held to them.
                context["target_terms"] = terms_in_words(
                    result.intro.target,
                    target_writes_first=result.intro.target_writes_first,
                    writer_name="You",
                    seeker_name=result.intro.seeker.full_name,
                    now=timezone.now(),
                )
            return render(request, "intros/target_thanks.html", context)
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
        return actions.do_target_accept(link=link, terms=terms)
    if link.purpose == TargetLink.Purpose.ANSWER and action == "defer":
        form = forms["defer_form"] = DeferForm(request.POST, prefix="defer", contact=contact)
        if not form.is_valid():
            return None
        return actions.do_target_defer(link=link, until=form.cleaned_data["until"], note=form.cleaned_data["note"])
    if link.purpose == TargetLink.Purpose.ANSWER and action == "decline":
        form = forms["decline_form"] = TargetNoteForm(request.POST, prefix="decline")
        if not form.is_valid():
            return None
        return actions.do_target_decline(link=link, note=form.cleaned_data["note"])
    if link.purpose == TargetLink.Purpose.STEP_BACK and action == "step_back":
        form = forms["step_back_form"] = TargetNoteForm(request.POST, prefix="step_back")
        if not form.is_valid():
            return None
        return actions.do_target_step_back(link=link, note=form.cleaned_data["note"])
    if link.purpose == TargetLink.Purpose.FEEDBACK and action == "feedback":
        form = forms["feedback_form"] = FeedbackForm(request.POST, prefix="feedback")
        if not form.is_valid():
            return None
        intro = actions.do_target_feedback(
            link=link, rating=form.cleaned_data["rating"], note=form.cleaned_data["note"]
        )
        return services.Result(intro, True, "feedback")
    raise services.NotAllowed("Choose one of the answers below.")
