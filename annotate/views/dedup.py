"""Pages: copy detection. A subset's copies page (scans, contamination, diversity, flagged pairs by cluster),
its panel on the subset page, and the benchmarks (register, contamination per subset)."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from annotate.flash import UNFINISHED, flash_job
from annotate.requests import AppRequest
from curation.models import Benchmark, DuplicateScan, Job, Source, Subset
from curation.selectors_dedup import benchmarks_list, subset_copies_summary, subset_pairs, subset_scans
from curation.services.benchmarks import BenchmarkInvalid, benchmark_register, contamination_for_benchmark
from curation.services.dedup import DedupInvalid, dedup_scan_start


class ScanForm(forms.Form):
    kind = forms.ChoiceField(choices=DuplicateScan.Kind.choices)
    benchmarks = forms.ModelMultipleChoiceField(queryset=Benchmark.objects.all(), required=False)
    threshold = forms.FloatField(required=False, min_value=0, max_value=1)


class BenchmarkForm(forms.Form):
    name = forms.CharField(max_length=200)
    mode = forms.ChoiceField(choices=[("folder", "Image folder"), ("source", "Ingested source"), ("npy", "Precomputed .npy + names")])
    path = forms.CharField(max_length=1000, required=False, help_text="Folder, or the .npy file.")
    names_path = forms.CharField(max_length=1000, required=False, help_text="Names file, one a line (precomputed).")
    source = forms.ModelChoiceField(queryset=Source.objects.order_by("name"), required=False)
    engine = forms.CharField(max_length=64, required=False, help_text="Engine of precomputed vectors.")
    split = forms.CharField(max_length=50, initial="test")
    license = forms.CharField(label="Licence", max_length=200, required=False)


def _scans_running(scans: list[DuplicateScan]) -> bool:
    return any(s.state not in (DuplicateScan.State.DONE, DuplicateScan.State.FAILED) for s in scans)


@login_required
@permission_required("curation.view_subset", raise_exception=True)
@require_GET
def subset_copies(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = get_object_or_404(Subset, pk=subset_id)
    scans = subset_scans(subset=subset)
    if request.htmx and request.GET.get("part") == "panel":
        return render(request, "annotate/dedup_subset.html#panel", subset_copies_summary(subset=subset))
    if request.htmx and request.GET.get("part") == "scans":
        response = render(request, "annotate/dedup_subset.html#scans", {"subset": subset, "scans": scans, "running": _scans_running(scans)})
        if not _scans_running(scans):
            response.status_code = 286  # htmx stops polling
        return response
    context = {
        **subset_copies_summary(subset=subset),
        "scans": scans,
        "running": _scans_running(scans),
        "duplicate_pairs": subset_pairs(subset=subset, kind="duplicate"),
        "leak_pairs": subset_pairs(subset=subset, kind="leak"),
        "form": ScanForm(),
        "benchmarks": benchmarks_list(),
    }
    return render(request, "annotate/dedup_subset.html", context)


@login_required
@permission_required("curation.change_subset", raise_exception=True)
@require_POST
def subset_copies_scan(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = get_object_or_404(Subset, pk=subset_id)
    form = ScanForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not started: {form.errors.as_text()}")
        return redirect("subset_copies", subset_id=subset.pk)
    try:
        scan = dedup_scan_start(
            kind=form.cleaned_data["kind"],
            subsets=[subset],
            benchmarks=form.cleaned_data["benchmarks"],
            threshold=form.cleaned_data["threshold"],
            by=request.user,
        )
    except DedupInvalid as exc:
        messages.error(request, f"Not started: {exc}")
    else:
        messages.success(request, f"{scan.get_kind_display()} scan #{scan.pk} started.")
    return redirect("subset_copies", subset_id=subset.pk)


@login_required
@permission_required("curation.view_benchmark", raise_exception=True)
@require_GET
def benchmark_list(request: AppRequest) -> HttpResponse:
    jobs = Job.objects.filter(kind="benchmark_register").order_by("-created_at")[:5]
    return render(request, "annotate/dedup_benchmarks.html", {"benchmarks": benchmarks_list(), "form": BenchmarkForm(), "jobs": jobs})


@login_required
@permission_required("curation.add_benchmark", raise_exception=True)
@require_POST
def benchmark_register_view(request: AppRequest) -> HttpResponse:
    form = BenchmarkForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not registered: {form.errors.as_text()}")
        return redirect("benchmark_list")
    data = form.cleaned_data
    try:
        bench, job = benchmark_register(
            name=data["name"], mode=data["mode"], path=data["path"], names_path=data["names_path"], source=data["source"],
            engine=data["engine"], split=data["split"], license=data["license"], by=request.user,
        )
    except BenchmarkInvalid as exc:
        messages.error(request, f"Not registered: {exc}")
        return redirect("benchmark_list")
    messages.success(request, f"Benchmark {bench.name} registered.")
    flash_job(request, job=job, text="Its images are being read; the bar below follows them.", states=UNFINISHED)
    return redirect("benchmark_detail", benchmark_id=bench.pk)


@login_required
@permission_required("curation.view_benchmark", raise_exception=True)
@require_GET
def benchmark_detail(request: AppRequest, benchmark_id: int) -> HttpResponse:
    bench = get_object_or_404(Benchmark, pk=benchmark_id)
    jobs = Job.objects.filter(kind="benchmark_register", target_id=str(bench.pk)).order_by("-created_at")[:3]
    context = {"benchmark": bench, "contamination": contamination_for_benchmark(benchmark=bench), "jobs": jobs}
    return render(request, "annotate/dedup_benchmark.html", context)


urlpatterns = [
    path("subsets/<int:subset_id>/copies/", subset_copies, name="subset_copies"),
    path("subsets/<int:subset_id>/copies/scan/", subset_copies_scan, name="subset_copies_scan"),
    path("benchmarks/", benchmark_list, name="benchmark_list"),
    path("benchmarks/register/", benchmark_register_view, name="benchmark_register"),
    path("benchmarks/<int:benchmark_id>/", benchmark_detail, name="benchmark_detail"),
]
