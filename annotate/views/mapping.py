"""Pages: a source's mapping. The suggestion with its reasons, the live side-by-side preview, the form and JSON
editors, accept / reject, version history and apply progress. Curators decide; reviewers may look."""
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from annotate.errors import error_messages, message_error
from annotate.flash import UNFINISHED, flash_job
from annotate.mapping_forms import MappingSpecForm, SpecInputError
from annotate.requests import AppRequest
from curation.errors import ApplicationError
from curation.mapping.spec import (
    MappingSpec,
    Pair,
    SpecError,
    TemplateTurns,
    spec_check,
    spec_from_dict,
    spec_to_dict,
)
from curation.mapping.suggesters import ENGINES
from curation.mapping.suggesters.build import subset_slug
from curation.models import Job, Mapping, Sample, Source
from curation.selectors import (
    job_latest_for,
    mapping_accepted,
    mapping_versions,
    source_has_rows,
    source_rows_first,
)
from curation.services import job_kinds
from curation.services.mapping import (
    mapping_accept,
    mapping_apply_start,
    mapping_create_version,
    mapping_preview,
    mapping_preview_pick,
    mapping_reject,
    mapping_suggest_start,
)

# Samples shown once the apply job has built them.
APPLIED_SAMPLES_SHOWN = 3


def _get_source(source_id: int) -> Source:
    return get_object_or_404(Source, pk=source_id)


def _get_mapping(source: Source, version: int) -> Mapping:
    return get_object_or_404(Mapping, source=source, version=version)


def _blank_spec(source: Source) -> MappingSpec:
    """Where a curator starts when no suggester has run: every required part present, templates empty."""
    return MappingSpec(subset_name=subset_slug(source.name), category="general_vqa", images=(),
                       turns=TemplateTurns(pairs=(Pair(user="", assistant=""),)))


def _stored_spec(mapping: Mapping) -> tuple[MappingSpec | None, list[str]]:
    """A stored version's spec, typed; an unreadable one (an LLM's proposal that was no spec) with its errors."""
    try:
        return spec_from_dict(mapping.spec, check=False), []
    except SpecError as exc:
        return None, exc.errors


def _shown_version(source: Source, versions: list[Mapping], requested: str | None) -> Mapping | None:
    """The version asked for, else the newest suggestion awaiting a decision, else the accepted one, else the newest."""
    if requested and requested.isdigit():
        return next((m for m in versions if m.version == int(requested)), None) or _get_mapping(source, int(requested))
    pending = [m for m in versions if m.status == Mapping.Status.SUGGESTED]
    accepted = [m for m in versions if m.status == Mapping.Status.ACCEPTED]
    if pending and (not accepted or pending[0].version > accepted[0].version):
        return pending[0]
    return accepted[0] if accepted else (versions[0] if versions else None)


def _errors_context(source: Source, errors: list[str]) -> dict[str, Any]:
    """What the preview shows for a spec that is not valid: its errors beside the first raw rows."""
    rows = [("first", r) for r in source_rows_first(source=source, n=3)]
    return {"spec_errors": errors, "raw_rows": rows, "previews": []}


def _preview_context(source: Source, spec: MappingSpec | None, seed: int, errors: list[str] | None = None) -> dict[str, Any]:
    """The preview of a spec: validation errors, or the picked rows beside the samples they become."""
    if spec is None:
        return _errors_context(source, errors or ["the spec is empty"])
    try:
        parsed = spec_check(spec, columns=source.columns)
    except SpecError as exc:
        return _errors_context(source, exc.errors)
    picked = mapping_preview_pick(spec=parsed, source=source, seed=seed)
    return {"spec_errors": [], "raw_rows": [], "previews": mapping_preview(spec=parsed, source=source, rows=picked),
            "canonical": spec_to_dict(parsed)}


def _status_context(source: Source, accepted: Mapping | None) -> dict[str, Any]:
    apply_job = job_latest_for(target=accepted, kind=job_kinds.APPLY_MAPPING.key) if accepted else None
    samples = []
    sample_count = 0
    if accepted is not None and accepted.subset_id:
        built = Sample.objects.filter(subset_id=accepted.subset_id, source=source)
        sample_count = built.count()
        samples = list(built.order_by("row_number").prefetch_related("sample_images")[:APPLIED_SAMPLES_SHOWN])
    return {
        "suggest_job": job_latest_for(target=source, kind=job_kinds.SUGGEST_MAPPING.key),
        "apply_job": apply_job,
        "accepted": accepted,
        "applied_samples": samples,
        "applied_count": sample_count,
    }


def _columns(source: Source) -> dict[str, str]:
    return dict(source.columns or {})


def _page(request: AppRequest, source: Source, *, shown: Mapping | None, form: MappingSpecForm,
          spec: MappingSpec | None, seed: int, editor_errors: list[str] | None = None, status: int = 200,
          versions: list[Mapping] | None = None, suggest_job: Job | None = None,
          spec_errors: list[str] | None = None) -> HttpResponse:
    accepted = mapping_accepted(source=source)
    context = {
        "source": source, "shown": shown, "form": form, "engines": ENGINES, "seed": seed,
        "editor_errors": editor_errors or [], "spec_json": form["spec_json"].value() or "",
        "can_decide": request.user.has_perm("curation.decide_mapping"),
        **_preview_context(source, spec, seed, spec_errors),
        **_status_context(source, accepted),
        "versions": versions if versions is not None else mapping_versions(source=source),
        # A source with no rows gets a sentence saying why, not an editor with nothing to preview.
        "has_rows": source_has_rows(source=source),
    }
    if suggest_job is not None:
        context["suggest_job"] = suggest_job
    return render(request, "annotate/mapping.html", context, status=status)


@login_required
@permission_required("curation.view_mapping", raise_exception=True)
@require_GET
def mapping_page(request: AppRequest, source_id: int) -> HttpResponse:
    source = _get_source(source_id)
    versions = mapping_versions(source=source)
    # A suggestion stores its version and its job's result in one transaction: if the job read now names a
    # version the first read missed, read again. The page reloads when a job with no version yet finishes.
    suggest_job = job_latest_for(target=source, kind=job_kinds.SUGGEST_MAPPING.key)
    stored_id = (suggest_job.result or {}).get("mapping_id") if suggest_job else None
    if stored_id and stored_id not in {m.pk for m in versions}:
        versions = mapping_versions(source=source)
    shown = _shown_version(source, versions, request.GET.get("version"))
    spec, unreadable = _stored_spec(shown) if shown else (_blank_spec(source), [])
    seed = int(request.GET["seed"]) if request.GET.get("seed", "").isdigit() else 0
    initial = MappingSpecForm.initial_for(spec, version=shown.version if shown else None, seed=seed,
                                          unreadable=shown.spec if shown and spec is None else None)
    form = MappingSpecForm(initial=initial, columns=_columns(source))
    return _page(request, source, shown=shown, form=form, spec=spec, seed=seed, versions=versions,
                 suggest_job=suggest_job, spec_errors=unreadable)


@login_required
@permission_required("curation.view_mapping", raise_exception=True)
@require_POST
def mapping_preview_view(request: AppRequest, source_id: int) -> HttpResponse:
    """Re-render the preview for the spec being typed; the other editor is refreshed out of band."""
    source = _get_source(source_id)
    form = MappingSpecForm(request.POST, columns=_columns(source))
    seed = int(request.POST["seed"]) if request.POST.get("seed", "").isdigit() else 0
    editor = request.POST.get("editor", "form")
    try:
        spec = form.spec()
    except SpecInputError as exc:
        return render(request, "annotate/mapping.html#preview",
                      {"source": source, "spec_errors": [str(exc)], "previews": [], "raw_rows": [], "seed": seed})
    except SpecError as exc:  # the JSON editor's spec, with every problem
        return render(request, "annotate/mapping.html#preview_response",
                      {"source": source, "seed": seed, "editor": editor, **_errors_context(source, exc.errors)})
    context: dict[str, Any] = {"source": source, "seed": seed, "editor": editor, **_preview_context(source, spec, seed)}
    version = request.POST.get("version")
    if editor == "json":
        context["form"] = MappingSpecForm(
            initial=MappingSpecForm.initial_for(spec, version=int(version) if version and version.isdigit() else None,
                                                seed=seed),
            columns=_columns(source),
        )
    else:
        context["spec_json"] = json.dumps(spec_to_dict(spec), indent=2, ensure_ascii=False)
    return render(request, "annotate/mapping.html#preview_response", context)


def _submitted_spec(
    request: AppRequest, source: Source
) -> tuple[MappingSpecForm, MappingSpec | None, Mapping | None, list[str]]:
    form = MappingSpecForm(request.POST, columns=_columns(source))
    version = request.POST.get("version")
    base = _get_mapping(source, int(version)) if version and version.isdigit() else None
    try:
        return form, form.spec(), base, []
    except SpecInputError as exc:
        return form, None, base, [str(exc)]
    except SpecError as exc:
        return form, None, base, exc.errors


def _rerender(request: AppRequest, source: Source, form: MappingSpecForm, base: Mapping | None,
              spec: MappingSpec | None, errors: list[str]) -> HttpResponse:
    seed = int(request.POST["seed"]) if request.POST.get("seed", "").isdigit() else 0
    if spec is None:
        spec = _stored_spec(base)[0] if base else _blank_spec(source)
    return _page(request, source, shown=base, form=form, spec=spec, seed=seed, editor_errors=errors, status=400)


@login_required
@permission_required("curation.decide_mapping", raise_exception=True)
@require_POST
def mapping_save(request: AppRequest, source_id: int) -> HttpResponse:
    source = _get_source(source_id)
    form, spec, base, problems = _submitted_spec(request, source)
    if spec is None:
        return _rerender(request, source, form, base, None, problems)
    try:
        mapping = mapping_create_version(source=source, spec=spec, by=request.user, based_on=base)
    except ApplicationError as exc:
        return _rerender(request, source, form, base, spec, error_messages(exc))
    messages.success(request, f"Saved as version {mapping.version}.")
    return redirect(f"{reverse('mapping_page', args=[source.pk])}?version={mapping.version}")


@login_required
@permission_required("curation.decide_mapping", raise_exception=True)
@require_POST
def mapping_accept_view(request: AppRequest, source_id: int) -> HttpResponse:
    """Accept what the editor shows: the shown version itself if unchanged, else a new version made of the edit."""
    source = _get_source(source_id)
    form, spec, base, problems = _submitted_spec(request, source)
    if spec is None:
        return _rerender(request, source, form, base, None, problems)
    try:
        canonical = spec_to_dict(spec_check(spec, columns=source.columns))
        if base is not None and base.status == Mapping.Status.ACCEPTED and canonical == base.spec:
            messages.info(request, f"Version {base.version} is already accepted; use 'Apply again' to rebuild it.")
            return redirect(f"{reverse('mapping_page', args=[source.pk])}?version={base.version}")
        if base is not None and base.status == Mapping.Status.SUGGESTED and canonical == base.spec:
            mapping = base
        else:
            mapping = mapping_create_version(source=source, spec=spec, by=request.user, based_on=base)
        job = mapping_accept(mapping=mapping, by=request.user)
    except ApplicationError as exc:  # an invalid spec (every problem listed) or a version that cannot be accepted
        return _rerender(request, source, form, base, spec, error_messages(exc))
    messages.success(request, f"Version {mapping.version} accepted.")
    flash_job(request, job=job, text="Its samples are being built; the bar above follows it.", states=UNFINISHED)
    return redirect(f"{reverse('mapping_page', args=[source.pk])}?version={mapping.version}")


@login_required
@permission_required("curation.decide_mapping", raise_exception=True)
@require_POST
def mapping_reject_view(request: AppRequest, source_id: int, version: int) -> HttpResponse:
    source = _get_source(source_id)
    mapping = _get_mapping(source, version)
    try:
        mapping_reject(mapping=mapping, by=request.user, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        message_error(request, exc)
    else:
        messages.success(request, f"Version {version} rejected.")
    return redirect(f"{reverse('mapping_page', args=[source.pk])}?version={version}")


@login_required
@permission_required("curation.decide_mapping", raise_exception=True)
@require_POST
def mapping_reapply_view(request: AppRequest, source_id: int, version: int) -> HttpResponse:
    source = _get_source(source_id)
    mapping = _get_mapping(source, version)
    try:
        job = mapping_apply_start(mapping=mapping, by=request.user)
    except ApplicationError as exc:
        message_error(request, exc)
    else:
        flash_job(request, job=job, text=f"Version {version} is queued to be applied again.")
    return redirect(f"{reverse('mapping_page', args=[source.pk])}?version={version}")


@login_required
@permission_required("curation.decide_mapping", raise_exception=True)
@require_POST
def mapping_suggest_view(request: AppRequest, source_id: int) -> HttpResponse:
    source = _get_source(source_id)
    engine = request.POST.get("engine", "auto")
    try:
        job = mapping_suggest_start(source=source, by=request.user, engine=engine)
    except ApplicationError as exc:  # the source is not ready, or no such suggester
        message_error(request, exc)
    else:
        flash_job(request, job=job, text="A mapping suggestion is queued; a worker will write it.")
    return redirect("mapping_page", source_id=source.pk)


@login_required
@permission_required("curation.view_mapping", raise_exception=True)
@require_GET
def mapping_status(request: AppRequest, source_id: int) -> HttpResponse:
    """The applied samples, refreshed when the apply job's bar turns finished."""
    source = _get_source(source_id)
    return render(request, "annotate/mapping.html#applied", {"source": source,
                                                             **_status_context(source, mapping_accepted(source=source))})


urlpatterns = [
    path("sources/<int:source_id>/mapping/", mapping_page, name="mapping_page"),
    path("sources/<int:source_id>/mapping/preview/", mapping_preview_view, name="mapping_preview"),
    path("sources/<int:source_id>/mapping/save/", mapping_save, name="mapping_save"),
    path("sources/<int:source_id>/mapping/accept/", mapping_accept_view, name="mapping_accept"),
    path("sources/<int:source_id>/mapping/suggest/", mapping_suggest_view, name="mapping_suggest"),
    path("sources/<int:source_id>/mapping/status/", mapping_status, name="mapping_status"),
    path("sources/<int:source_id>/mapping/<int:version>/reject/", mapping_reject_view, name="mapping_reject"),
    path("sources/<int:source_id>/mapping/<int:version>/apply/", mapping_reapply_view, name="mapping_reapply"),
]
