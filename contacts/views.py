from __future__ import annotations

import csv
import datetime as dt
from pathlib import PurePath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRefresh

from lib import ratelimit
from lib.htmx import HtmxHttpRequest, redirect_after_write
from lib.pagination import MatchedIds
from lib.spreadsheet import neutralise

from . import services
from .fileformats import EXPORT_FIELDS, iter_csv, iter_vcard
from .forms import ContactFilterForm, ContactForm, ImportUploadForm
from .models import WEEKDAY_NAMES, WEEKDAYS_ALL, WEEKDAYS_WORK, Contact, ImportBatch, ImportStatus, RowKind

CONTACTS_PER_PAGE = 25
ORGANISATION_SUGGESTIONS = 10  # under the contact list's organisation filter
IMPORT_ROWS_PER_PAGE = 100
RECENT_IMPORTS = 5
ROW_KIND_TABS = {
    RowKind.NEW: "New contacts",
    RowKind.EXACT: "Exact duplicates",
    RowKind.LIKELY: "Likely duplicates",
    RowKind.INVALID: "Cannot be imported",
}
WEEKEND = 0b1100000


def window_in_words(contact: Contact, *, now: dt.datetime) -> str:
    """ "Weekdays 09:00–17:00 Europe/London; busy through 12 Dec; at least 7 days between contacts"."""
    days = {WEEKDAYS_WORK: "Weekdays", WEEKDAYS_ALL: "Every day", WEEKEND: "Weekends"}.get(contact.weekdays)
    if days is None:
        days = ", ".join(WEEKDAY_NAMES[day][:3] for day in sorted(contact.weekday_set))
    parts = [f"{days} {contact.hours_start:%H:%M}–{contact.hours_end:%H:%M} {contact.time_zone}"]
    today = now.astimezone(contact.zone).date()
    busy = contact.unavailable_until
    if busy is not None and busy >= today:
        parts.append(f"busy through {busy:%-d %b}" + ("" if busy.year == today.year else f" {busy:%Y}"))
    if contact.min_days_between:
        unit = "day" if contact.min_days_between == 1 else "days"
        parts.append(f"at least {contact.min_days_between} {unit} between contacts")
    if contact.do_not_contact:
        parts.append("do not contact")
    return "; ".join(parts)


@require_safe
@login_required
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    filters = ContactFilterForm(request.GET, owner=request.user)
    mine = Contact.objects.owned_by(request.user)
    contacts = filters.apply(mine)
    # A text search looks at every contact: find, order and count the matches in one scan.
    contacts = MatchedIds(contacts, mine.for_list()) if filters.searching else contacts.for_list()
    page = Paginator(contacts, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"nav": "contacts", "filters": filters, "page": page}
    # A history restore after Back asks with HX-Request too, and needs the whole page.
    fragment = request.htmx and not request.htmx.history_restore_request
    response = render(
        request, "contacts/contact_list.html#results" if fragment else "contacts/contact_list.html", context
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@login_required
def organisation_suggestions(request: HtmxHttpRequest) -> HttpResponse:
    """The organisations of the person's own contacts that hold the words typed in the contact
    list's organisation filter: suggestions under the field as they type (htmx), a page of
    links to the filtered list without it. Each link keeps the list's other filters."""
    typed = request.GET.get("organisation", "")[:150]
    names = Contact.objects.owned_by(request.user).organisations_matching(typed, limit=ORGANISATION_SUGGESTIONS + 1)
    context = {
        "nav": "contacts",
        "typed": typed.strip(),
        "names": names[:ORGANISATION_SUGGESTIONS],
        "more": len(names) > ORGANISATION_SUGGESTIONS,
    }
    fragment = request.htmx and not request.htmx.history_restore_request
    template = "contacts/organisation_suggestions.html"
    response = render(request, template + "#suggestions" if fragment else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@login_required
def contact_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.owned_by(request.user).for_list(), pk=pk)
    context = {"nav": "contacts", "contact": contact, "window": window_in_words(contact, now=timezone.now())}
    return render(request, "contacts/contact_detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def contact_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ContactForm(request.POST if request.method == "POST" else None, owner=request.user)
    return _contact_form(
        request, form, heading="Add a contact", action=reverse("contacts:create"), cancel=reverse("contacts:list")
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def contact_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.owned_by(request.user).for_list(), pk=pk)
    form = ContactForm(request.POST if request.method == "POST" else None, instance=contact, owner=request.user)
    # Named before the form is checked: a failed edit leaves what was typed on the instance.
    return _contact_form(
        request,
        form,
        heading=f"Edit {contact.name}",
        action=reverse("contacts:edit", args=[contact.pk]),
        cancel=contact.get_absolute_url(),
    )


def _contact_form(
    request: HtmxHttpRequest, form: ContactForm, *, heading: str, action: str, cancel: str
) -> HttpResponse:
    if form.is_bound and form.is_valid():
        contact = form.save()
        if contact.email_unusable:
            messages.warning(
                request,
                f"Saved {contact.name}. Their address “{contact.email_unusable}” can't receive email: "
                f"{contact.email_problem}. It is kept on the contact; nothing will be sent to it until it is fixed.",
            )
        else:
            messages.success(request, f"Saved {contact.name}.")
        return redirect_after_write(request, contact.get_absolute_url())
    # What was typed stays in the form; 422 tells htmx (and tests) that nothing was saved.
    status = 422 if form.is_bound else 200
    template = "contacts/contact_form.html"
    if request.htmx and form.is_bound:
        template += "#contact-form"
    context = {"nav": "contacts", "form": form, "heading": heading, "action": action, "cancel": cancel}
    return render(request, template, context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def contact_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.owned_by(request.user), pk=pk)
    if request.method != "POST":
        return render(request, "contacts/contact_confirm_delete.html", {"nav": "contacts", "contact": contact})
    try:
        contact.delete()
    except ProtectedError:
        messages.error(
            request,
            f"{contact.name} is part of an introduction, so they stay in your contacts. "
            "Tick “do not contact” on their page if nobody should write to them.",
        )
        return redirect_after_write(request, contact.get_absolute_url())
    messages.success(request, f"Deleted {contact.name}.")
    return redirect_after_write(request, reverse("contacts:list"))


# --- Import and export ------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def contact_import(request: HtmxHttpRequest) -> HttpResponse:
    """Upload a file: checked at the door, then read by a worker while the page shows how far
    it has got, then the preview. Nothing is imported yet."""
    form = ImportUploadForm(request.POST, request.FILES) if request.method == "POST" else ImportUploadForm()
    context = {
        "nav": "contacts",
        "form": form,
        "recent": ImportBatch.objects.owned_by(request.user)[:RECENT_IMPORTS],
        "max_rows": settings.IMPORT_MAX_ROWS,
    }
    if request.method == "POST":
        blocked = ratelimit.IMPORT_UPLOAD.hit(str(request.user.pk))
        if blocked:
            ratelimit.show_on_form(form, blocked)
            return ratelimit.too_many(render(request, "contacts/import_upload.html", context), blocked)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            batch = services.import_upload(owner=request.user, filename=upload.name, raw=form.raw, source=form.source)
            return redirect_after_write(request, batch.get_absolute_url())
    return render(request, "contacts/import_upload.html", context, status=422 if form.is_bound else 200)


@require_safe
@login_required
def import_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One import from start to end: the file being read (polled), or why it could not be;
    the preview with a choice per row while the owner decides; then the progress (polled)
    and the result, with what was skipped or changed."""
    batch = get_object_or_404(ImportBatch.objects.owned_by(request.user), pk=pk)
    polling = request.htmx and not request.htmx.history_restore_request
    if polling and batch.status != ImportStatus.PARSING and request.GET.get("reading"):
        # The file is read (or refused): the whole page changes, not a fragment of it.
        return HttpResponseClientRefresh()
    context = {
        "nav": "contacts",
        "batch": batch,
        "progress": services.import_progress(batch),
        "reading": services.import_parse_progress(batch),
        "max_rows": settings.IMPORT_MAX_ROWS,
    }
    if batch.status == ImportStatus.DONE:
        context["report"] = Paginator(services.import_report(batch), IMPORT_ROWS_PER_PAGE).get_page(
            request.GET.get("page")
        )
    elif batch.status == ImportStatus.REFUSED:
        context["form"] = ImportUploadForm()
    if polling:
        response = render(request, "contacts/import_detail.html#progress", context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    if batch.choosing:
        summary = _summary(batch)
        kind = request.GET.get("kind", "")
        rows = batch.rows.select_related("match").order_by("line")
        if kind == "warnings":
            rows = rows.exclude(warnings=[])
        elif kind in RowKind.values:
            rows = rows.filter(kind=kind)
        else:
            kind = ""
        context |= {
            "kind": kind,
            "summary": summary,
            "tabs": [(value, label, summary["kinds"][value]) for value, label in ROW_KIND_TABS.items()],
            "page": Paginator(rows, IMPORT_ROWS_PER_PAGE).get_page(request.GET.get("page")),
        }
    response = render(request, "contacts/import_detail.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


REPORT_COLUMNS = ["Line", "Name", "Email", "Organisation", "Profile URL", "What happened", "Why"]


@require_safe
@login_required
def import_report_csv(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The result page's list of what was skipped or changed, as a spreadsheet."""
    batch = get_object_or_404(ImportBatch.objects.owned_by(request.user).filter(status=ImportStatus.DONE), pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stem = PurePath(batch.filename).stem or "contacts"
    response["Content-Disposition"] = content_disposition_header(True, f"{stem} - skipped or changed.csv")
    response.write("\ufeff")  # so spreadsheets read the accents right
    writer = csv.writer(response, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for row in services.import_report(batch).iterator(chunk_size=1000):
        happened, why = row.outcome
        data = row.data
        cells = [
            str(row.line),
            row.name,
            data.get("email") or data.get("email_unusable", ""),
            data.get("organisation", ""),
            data.get("profile_url", ""),
            happened,
            why,
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    return response


def _summary(batch: ImportBatch) -> dict:
    by_kind = services.import_summary(batch)
    actions: dict[str, int] = {}
    for counts in by_kind.values():
        for action, n in counts.items():
            actions[action] = actions.get(action, 0) + n
    return {
        "kinds": {kind: sum(counts.values()) for kind, counts in by_kind.items()},
        "warnings": batch.rows.exclude(warnings=[]).count(),
        "add": actions.get("add", 0),
        "merge": actions.get("merge", 0),
        "skip": actions.get("skip", 0),
    }


def _posted_choices(request: HttpRequest) -> dict[int, str]:
    choices = {}
    for key, value in request.POST.items():
        if key.startswith("row-") and key[4:].isdecimal():
            choices[int(key[4:])] = value
    return choices


def _back_to_preview(batch: ImportBatch, request: HttpRequest) -> str:
    """The preview as it was: the same kind of rows, the same page."""
    query = {k: request.POST[k] for k in ("kind", "page") if request.POST.get(k)}
    return f"{batch.get_absolute_url()}?{urlencode(query)}" if query else batch.get_absolute_url()


@require_POST
@login_required
def import_choices(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save what happens to rows: one row (htmx, on change), the rows shown, or every row of a kind."""
    batch = get_object_or_404(ImportBatch.objects.owned_by(request.user), pk=pk)
    try:
        services.import_choose(batch=batch, choices=_posted_choices(request))
        if request.POST.get("all_kind"):
            services.import_choose_kind(
                batch=batch, kind=request.POST["all_kind"], action=request.POST.get("all_action", "")
            )
    except services.ImportStateError as exc:
        messages.error(request, str(exc))
        return redirect_after_write(request, batch.get_absolute_url())
    if request.htmx:
        return render(request, "contacts/import_detail.html#summary", {"batch": batch, "summary": _summary(batch)})
    messages.success(request, "Choices saved.")
    return redirect(_back_to_preview(batch, request))


@require_POST
@login_required
def import_confirm(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save the choices shown and start the import in the background."""
    batch = get_object_or_404(ImportBatch.objects.owned_by(request.user), pk=pk)
    try:
        services.import_choose(batch=batch, choices=_posted_choices(request))
        services.import_confirm(batch=batch)
    except services.ImportStateError as exc:
        messages.error(request, str(exc))
    return redirect_after_write(request, batch.get_absolute_url())


@require_POST
@login_required
def import_discard(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(ImportBatch.objects.owned_by(request.user), pk=pk)
    try:
        services.import_discard(batch=batch)
    except services.ImportStateError as exc:
        messages.error(request, str(exc))
        return redirect_after_write(request, batch.get_absolute_url())
    messages.success(request, f"Removed the import of “{batch.filename}”; your contacts were not changed.")
    return redirect_after_write(request, reverse("contacts:import"))


# Rows fetched per round trip while an export streams (tags come with each chunk, in one query).
EXPORT_CHUNK = 2000


def _export(request: HttpRequest, *, pieces, content_type: str, extension: str) -> StreamingHttpResponse:
    """The file is written while it is sent, a chunk of contacts at a time: memory stays flat
    and the first bytes leave at once, however large the address book."""
    contacts = Contact.objects.owned_by(request.user).order_by("name", "pk")
    response = StreamingHttpResponse(
        pieces(contacts.for_export(*EXPORT_FIELDS, chunk_size=EXPORT_CHUNK)),
        content_type=f"{content_type}; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="warm-intros-contacts-{timezone.localdate():%Y-%m-%d}.{extension}"'
    )
    return response


@require_safe
@login_required
def contact_export_csv(request: HtmxHttpRequest) -> StreamingHttpResponse:
    return _export(request, pieces=iter_csv, content_type="text/csv", extension="csv")


@require_safe
@login_required
def contact_export_vcard(request: HtmxHttpRequest) -> StreamingHttpResponse:
    return _export(request, pieces=iter_vcard, content_type="text/vcard", extension="vcf")
