"""The audit trail: every decision anyone made, filtered, paged by cursor, and exported as CSV (streamed)."""
import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from annotate.audit_display import target_labels, value_diff
from annotate.review_forms import AuditFilterForm
from annotate.views.review_access import ReviewRequest
from curation.models import Decision
from curation.review.selectors import decisions_filtered

PAGE_SIZE = 100
EXPORT_CHUNK = 2_000
CSV_COLUMNS = ["id", "created_at", "actor", "verdict", "reason", "note", "target_type", "target_id", "item", "kind", "job", "before", "after"]
# Spreadsheets run cells starting with these as formulas; a quote keeps them text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _filtered(request: ReviewRequest) -> tuple[AuditFilterForm, Any]:
    form = AuditFilterForm(request.GET)
    if form.is_valid():
        return form, decisions_filtered(**form.selector_kwargs())
    return form, Decision.objects.none()


def _filter_query(request: ReviewRequest) -> str:
    return urlencode([(k, v) for k in request.GET if k != "before" for v in request.GET.getlist(k) if v])


@login_required
@permission_required("curation.view_decision", raise_exception=True)
@require_GET
def audit_list(request: ReviewRequest) -> HttpResponse:
    form, rows = _filtered(request)
    before = request.GET.get("before", "")
    if before.isdigit():
        rows = rows.filter(pk__lt=int(before))
    page = list(rows[: PAGE_SIZE + 1])
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    labels = target_labels(page)
    context = {
        "form": form,
        "rows": [(d, labels[d.pk], value_diff(d.before, d.after)) for d in page],
        "next_before": page[-1].pk if has_more else None,
        "query": _filter_query(request),
    }
    return render(request, "annotate/audit.html", context)


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


class _Echo:
    """A file-like object whose write returns the line, so csv.writer feeds a streaming response."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_rows(rows: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for d in rows.iterator(chunk_size=EXPORT_CHUNK):
        yield writer.writerow(
            [
                d.pk,
                d.created_at.isoformat(),
                _cell(d.actor.get_username() if d.actor else ""),
                _cell(d.verdict),
                _cell(d.reason),
                _cell(d.note),
                f"{d.target_type.app_label}.{d.target_type.model}",
                _cell(d.target_id),
                d.item_id or "",
                d.item.kind if d.item else "",
                d.job_id or "",
                _cell(_json(d.before)),
                _cell(_json(d.after)),
            ]
        )


@login_required
@permission_required("curation.view_decision", raise_exception=True)
@require_GET
def audit_export(request: ReviewRequest) -> HttpResponseBase:
    form, rows = _filtered(request)
    if not form.is_valid():
        return HttpResponse("; ".join(str(e) for errs in form.errors.values() for e in errs), status=400, content_type="text/plain")
    response = StreamingHttpResponse(_csv_rows(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="finecurate-audit-{stamp}.csv"'
    return response


urlpatterns = [
    path("audit/", audit_list, name="audit"),
    path("audit/export.csv", audit_export, name="audit_export"),
]
