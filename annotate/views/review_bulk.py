"""The curator's bulk page: filter review items, see how many the filter selects, confirm that number,
and follow the Job that decides them (one audit row per item)."""
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from annotate.errors import form_add_error
from annotate.requests import AppRequest
from annotate.review_forms import BulkDecideForm, BulkFilterForm
from curation.errors import ApplicationError
from curation.models import Job
from curation.review.kinds import kind_get
from curation.services import job_kinds
from curation.services.review_bulk import ItemFilter, review_bulk_count, review_bulk_start

PREVIEW_ROWS = 20


def _item_filter(form: BulkFilterForm) -> ItemFilter:
    data = form.cleaned_data
    return ItemFilter(
        kind=data["kind"],
        queue_id=data["queue"].pk if data.get("queue") else None,
        subset_id=data["subset"].pk if data.get("subset") else None,
        states=tuple(data["states"]),
        verdict=data.get("verdict", "").strip(),
        score_min=data.get("score_min"),
        score_max=data.get("score_max"),
        attribute=data.get("attribute", ""),
        attribute_value=data.get("attribute_value", "").strip(),
        created_from=data.get("created_from"),
        created_to=data.get("created_to"),
    )


def _filter_pairs(data: QueryDict) -> list[tuple[str, str]]:
    """The filter's own fields as (name, value) pairs, to carry them in links and hidden inputs."""
    names = BulkFilterForm.base_fields
    return [(name, value) for name in data if name in names for value in data.getlist(name) if value != ""]


@login_required
@permission_required("curation.bulk_decide_item", raise_exception=True)
@require_http_methods(["GET", "POST"])
def review_bulk(request: AppRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    filter_form = BulkFilterForm(source if "kind" in source else None)
    decide_form = BulkDecideForm(request.POST if request.method == "POST" else None)
    context: dict = {"filter_form": filter_form, "decide_form": decide_form}
    job_id = request.GET.get("job", "")
    if job_id.isdigit():
        context["job"] = Job.objects.filter(pk=int(job_id), kind=job_kinds.BULK_DECIDE.key).first()
    if not (filter_form.is_bound and filter_form.is_valid()):
        return render(request, "annotate/review_bulk.html", context, status=400 if request.method == "POST" else 200)
    try:
        item_filter = _item_filter(filter_form)
    except ApplicationError as exc:
        form_add_error(filter_form, exc)
        return render(request, "annotate/review_bulk.html", context, status=400)
    if request.method == "POST":
        if decide_form.is_valid():
            try:
                job = review_bulk_start(
                    item_filter=item_filter,
                    verdict=decide_form.cleaned_data["decision"],
                    reason=decide_form.cleaned_data["decision_reason"],
                    note=decide_form.cleaned_data["decision_note"],
                    confirmed_count=decide_form.cleaned_data["confirmed_count"],
                    by=request.user,
                )
            except ApplicationError as exc:  # CountChanged included: the curator confirms the new count
                context["decide_error"] = exc.message
            else:
                return redirect(f"{request.path}?{urlencode([*_filter_pairs(source), ('job', job.pk)])}")
        else:
            context["decide_error"] = "; ".join(str(e) for errs in decide_form.errors.values() for e in errs)
    kind = kind_get(item_filter.kind)
    context.update(
        {
            "counted": True,
            "count": review_bulk_count(item_filter=item_filter),
            "preview": item_filter.queryset().select_related("decided_by", "assignee", "subset").order_by("pk")[:PREVIEW_ROWS],
            "kind": kind,
            "bulk_verdicts": kind.bulk_verdicts(),
            "filter_pairs": _filter_pairs(source),
        }
    )
    return render(request, "annotate/review_bulk.html", context, status=409 if "decide_error" in context else 200)


urlpatterns = [path("review/bulk/", review_bulk, name="review_bulk")]
