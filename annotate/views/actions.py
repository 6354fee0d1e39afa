"""Pages: GUI actions. Action schemas (versions, edit as a new version), a source's action mapping (signatures
with counts and examples, the proposed rule of each, edit / accept / reject, suggest and apply progress), and the
subset panel (action distribution, samples whose actions failed validation). Curators decide; reviewers look."""
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from annotate.flash import UNFINISHED, flash_job
from annotate.requests import AppRequest
from curation.actions.convert import COORDINATE_CONVENTIONS, RuleError, rule_params_format, rule_params_parse
from curation.actions.schema import SchemaSpecError
from curation.models import ActionMapping, ActionSchema, Source, Subset
from curation.selectors import job_latest_for
from curation.services import job_kinds
from curation.services.actions import (
    SUGGEST_ENGINES,
    ActionMappingError,
    action_mapping_accept,
    action_mapping_apply_start,
    action_mapping_create_version,
    action_mapping_reject,
    action_mapping_suggest_start,
    action_schema_active,
    action_schema_create_version,
    action_schema_spec,
    subset_action_stats,
)

DECIDE = "curation.decide_mapping"
VIEW = "curation.view_mapping"


def _schema_context(schema: ActionSchema) -> dict[str, Any]:
    spec = action_schema_spec(schema=schema)
    return {"schema": schema, "spec": spec, "spec_json": json.dumps(spec.to_dict(), indent=2, ensure_ascii=False),
            "versions": ActionSchema.objects.filter(name=schema.name).order_by("-version")}


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def action_schema_list(request: AppRequest) -> HttpResponse:
    action_schema_active()  # the unified space is always there, seeded again if every version was deleted
    schemas = ActionSchema.objects.filter(status=ActionSchema.Status.ACTIVE).order_by("name")
    sources = (Source.objects.filter(Q(samples__subset__category=Subset.Category.GUI) | Q(action_mappings__isnull=False))
               .distinct().order_by("name"))
    return render(request, "annotate/action_schemas.html", {"schemas": schemas, "sources": sources})


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def action_schema_detail(request: AppRequest, schema_id: int) -> HttpResponse:
    schema = get_object_or_404(ActionSchema, pk=schema_id)
    return render(request, "annotate/action_schema.html", {**_schema_context(schema), "errors": []})


@login_required
@permission_required(DECIDE, raise_exception=True)
@require_POST
def action_schema_edit(request: AppRequest, schema_id: int) -> HttpResponse:
    schema = get_object_or_404(ActionSchema, pk=schema_id)
    text = request.POST.get("spec_json", "")
    try:
        spec = json.loads(text)
        created = action_schema_create_version(schema=schema, spec=spec, by=request.user, note=request.POST.get("note", ""))
    except ValueError as exc:
        errors = [f"not valid JSON: {exc}"]
    except SchemaSpecError as exc:
        errors = exc.errors
    else:
        messages.success(request, f"Saved {created.name} version {created.version}; it is now the active one.")
        return redirect("action_schema_detail", created.pk)
    context = {**_schema_context(schema), "errors": errors, "spec_json": text}
    return render(request, "annotate/action_schema.html", context, status=400)


# --- a source's action mapping ---


def _source(source_id: int) -> Source:
    return get_object_or_404(Source, pk=source_id)


def _rows(mapping: ActionMapping) -> list[dict[str, Any]]:
    rows = []
    for i, sig in enumerate(mapping.signatures):
        rule = mapping.rules.get(sig["signature"], {"target": None, "params": {}, "coords": "pixels"})
        rows.append({"index": i, **sig, "target": rule.get("target") or "", "params": rule_params_format(rule.get("params") or {}),
                     "coords": rule.get("coords") or "pixels", "reason": mapping.reasons.get(sig["signature"], "")})
    return rows


def _mapping_context(request: AppRequest, source: Source, requested: str | None) -> dict[str, Any]:
    versions = list(ActionMapping.objects.filter(source=source).select_related("schema", "decided_by").order_by("-version"))
    shown = None
    if requested and requested.isdigit():
        shown = next((m for m in versions if m.version == int(requested)), None)
    if shown is None and versions:
        pending = [m for m in versions if m.status == ActionMapping.Status.SUGGESTED]
        shown = pending[0] if pending else versions[0]
    accepted = next((m for m in versions if m.status == ActionMapping.Status.ACCEPTED), None)
    suggest_job = job_latest_for(target=source, kind=job_kinds.SUGGEST_ACTIONS.key)
    apply_job = job_latest_for(target=accepted, kind=job_kinds.APPLY_ACTIONS.key) if accepted else None
    rows = _rows(shown) if shown else []
    targets = list(action_schema_spec(schema=shown.schema).actions) if shown else []
    return {
        "source": source, "versions": versions, "shown": shown, "accepted": accepted, "rows": rows, "targets": targets,
        "conventions": COORDINATE_CONVENTIONS, "engines": SUGGEST_ENGINES, "suggest_job": suggest_job,
        "apply_job": apply_job, "can_decide": request.user.has_perm(DECIDE),
        "running": any(j is not None and not j.is_finished for j in (suggest_job, apply_job)),
        "unmapped": [r for r in rows if not r["target"]],
        "subsets": Subset.objects.filter(samples__source=source).distinct().order_by("name"),
    }


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def action_mapping_page(request: AppRequest, source_id: int) -> HttpResponse:
    source = _source(source_id)
    context = _mapping_context(request, source, request.GET.get("version"))
    if request.htmx and request.GET.get("part") == "jobs":
        response = render(request, "annotate/action_mapping.html#jobs", context)
        if not context["running"]:
            response["HX-Refresh"] = "true"  # a job finished: the versions and results changed, show them
        return response
    return render(request, "annotate/action_mapping.html", context)


@login_required
@permission_required(DECIDE, raise_exception=True)
@require_POST
def action_mapping_suggest_view(request: AppRequest, source_id: int) -> HttpResponse:
    source = _source(source_id)
    try:
        job = action_mapping_suggest_start(source=source, by=request.user, engine=request.POST.get("engine", "auto"))
    except ActionMappingError as exc:
        messages.error(request, exc.message)
    else:
        flash_job(request, job=job, text="Scanning the source's actions; the suggestion appears here when it is ready.",
                  states=UNFINISHED)
    return redirect("action_mapping_page", source.pk)


def _submitted_rules(request: AppRequest, mapping: ActionMapping) -> dict[str, dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {}
    for i, sig in enumerate(mapping.signatures):
        prefix = f"rule-{i}-"
        if f"{prefix}target" not in request.POST:
            continue
        try:
            params = rule_params_parse(request.POST.get(f"{prefix}params", ""))
        except RuleError as exc:
            raise RuleError(f"{sig['signature']}: {exc.message}") from None
        rules[sig["signature"]] = {"target": request.POST.get(f"{prefix}target") or None, "params": params,
                                   "coords": request.POST.get(f"{prefix}coords") or "pixels"}
    return rules


@login_required
@permission_required(DECIDE, raise_exception=True)
@require_POST
def action_mapping_save(request: AppRequest, source_id: int, version: int) -> HttpResponse:
    """Save the edited rules as a new version, or accept: the shown version if unchanged, else the edit."""
    source = _source(source_id)
    mapping = get_object_or_404(ActionMapping, source=source, version=version)
    accept = request.POST.get("decision") == "accept"
    try:
        rules = _submitted_rules(request, mapping)
        changed = any(mapping.rules.get(sig) != rule for sig, rule in rules.items())
        if changed or not accept:
            mapping = action_mapping_create_version(based_on=mapping, rules=rules, by=request.user)
        if accept:
            apply_job = action_mapping_accept(mapping=mapping, by=request.user)
    except (RuleError, ActionMappingError) as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('action_mapping_page', args=[source.pk])}?version={version}")
    if accept:
        messages.success(request, f"Accepted version {mapping.version}.")
        flash_job(request, job=apply_job, text="Its actions are being applied.", states=UNFINISHED)
    else:
        messages.success(request, f"Saved as version {mapping.version}.")
    return redirect(f"{reverse('action_mapping_page', args=[source.pk])}?version={mapping.version}")


@login_required
@permission_required(DECIDE, raise_exception=True)
@require_POST
def action_mapping_reject_view(request: AppRequest, source_id: int, version: int) -> HttpResponse:
    mapping = get_object_or_404(ActionMapping, source_id=source_id, version=version)
    try:
        action_mapping_reject(mapping=mapping, by=request.user, reason=request.POST.get("reason", ""))
    except ActionMappingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Rejected version {version}.")
    return redirect(f"{reverse('action_mapping_page', args=[source_id])}?version={version}")


@login_required
@permission_required(DECIDE, raise_exception=True)
@require_POST
def action_mapping_reapply_view(request: AppRequest, source_id: int, version: int) -> HttpResponse:
    mapping = get_object_or_404(ActionMapping, source_id=source_id, version=version)
    try:
        action_mapping_apply_start(mapping=mapping, by=request.user)
    except ActionMappingError as exc:
        messages.error(request, exc.message)
    return redirect("action_mapping_page", source_id)


@login_required
@permission_required("curation.view_subset", raise_exception=True)
@require_GET
def subset_actions_panel(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = get_object_or_404(Subset, pk=subset_id)
    stats = subset_action_stats(subset=subset)
    sources = Source.objects.filter(samples__subset=subset).distinct().order_by("name")
    return render(request, "annotate/subset_actions_panel.html#panel", {"subset": subset, "stats": stats, "sources": sources})


urlpatterns = [
    path("actions/schemas/", action_schema_list, name="action_schema_list"),
    path("actions/schemas/<int:schema_id>/", action_schema_detail, name="action_schema_detail"),
    path("actions/schemas/<int:schema_id>/edit/", action_schema_edit, name="action_schema_edit"),
    path("sources/<int:source_id>/actions/", action_mapping_page, name="action_mapping_page"),
    path("sources/<int:source_id>/actions/suggest/", action_mapping_suggest_view, name="action_mapping_suggest"),
    path("sources/<int:source_id>/actions/<int:version>/save/", action_mapping_save, name="action_mapping_save"),
    path("sources/<int:source_id>/actions/<int:version>/reject/", action_mapping_reject_view, name="action_mapping_reject"),
    path("sources/<int:source_id>/actions/<int:version>/apply/", action_mapping_reapply_view, name="action_mapping_reapply"),
    path("subsets/<int:subset_id>/actions/", subset_actions_panel, name="subset_actions_panel"),
]
