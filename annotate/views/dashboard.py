"""The dashboard for curators and admins: annotator throughput, queue progress and agreement, with
plots drawn as inline SVG by annotate/charts.py (no chart library, nothing fetched from a CDN)."""
from datetime import timedelta

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from annotate.charts import Chart, bar_chart, column_chart, stacked_chart
from annotate.requests import AppRequest
from curation.models import ReviewQueue
from curation.review.selectors import agreement, queue_progress_many, throughput
from curation.review.statistics import Agreement

WINDOWS = {"24h": (timedelta(hours=24), 1), "7d": (timedelta(days=7), 6), "30d": (timedelta(days=30), 24)}
DEFAULT_WINDOW = "7d"


def _kappa_chart(items: list[tuple[str, Agreement]]) -> Chart:
    """Kappa from -1 to 1 around a zero line; an undefined kappa draws no bar."""
    rows = []
    for name, result in items:
        shown = "undefined" if result.kappa is None else f"κ {result.kappa:.2f}"
        rows.append((name, float("nan") if result.kappa is None else result.kappa, f"{shown} (n={result.pairs})"))
    return bar_chart("Kappa per queue and per annotator", rows, axis="Cohen's kappa (1 = full agreement, 0 = chance)",
                     scale=(-1.0, 1.0), ticks=[-1, -0.5, 0, 0.5, 1])


def _buckets(hourly: list[tuple], hours: int) -> list[tuple[str, int]]:
    points = []
    for start in range(0, len(hourly), hours):
        chunk = hourly[start : start + hours]
        moment = timezone.localtime(chunk[0][0])
        points.append((moment.strftime("%b %d %H:00" if hours < 24 else "%b %d"), sum(n for _, n in chunk)))
    return points


@login_required
@permission_required("curation.view_decision", raise_exception=True)
@require_GET
def dashboard(request: AppRequest) -> HttpResponse:
    window = request.GET.get("window", DEFAULT_WINDOW)
    if window not in WINDOWS:
        window = DEFAULT_WINDOW
    span, bucket_hours = WINDOWS[window]
    now = timezone.now()
    work = throughput(since=now - span, until=now)
    queues = list(ReviewQueue.objects.select_related("subset").order_by("kind", "name"))
    progress = queue_progress_many(queues)
    agreed = agreement(queues=queues)
    queue_names = {q.pk: q.name for q in queues}
    context = {
        "window": window,
        "windows": list(WINDOWS),
        "work": work,
        "progress": progress,
        "agreement": agreed,
        "throughput_chart": bar_chart(
            "Decisions per active hour", [(a.username, a.per_hour, f"{a.per_hour:.1f}/h") for a in work.annotators],
            axis="decisions per active hour, by annotator",
        ),
        "activity_chart": column_chart(
            "Decisions over time", _buckets(work.hourly, bucket_hours),
            axis="day (server time)" if bucket_hours >= 24 else f"time, {bucket_hours} h per column (server time)",
            unit="decisions per column",
        ),
        "progress_chart": stacked_chart(
            "Queue progress",
            [
                (
                    p.queue.name,
                    [(p.decided, "bar-alt", "decided"), (p.claimed, "bar-warn", "claimed"), (p.queued, "bar", "queued"), (p.waiting, "bar-bad", "waiting")],
                    f"{p.percent}% of {p.total:,}",
                )
                for p in progress
            ],
            axis="share of the queue's items",
        ),
        "kappa_chart": _kappa_chart(
            [(queue_names.get(q, str(q)), a) for q, a in agreed.by_queue.items()]
            + [(f"· {name}", a) for name, a in agreed.by_annotator.items()]
        ),
    }
    return render(request, "annotate/dashboard.html", context)


urlpatterns = [path("dashboard/", dashboard, name="dashboard")]
