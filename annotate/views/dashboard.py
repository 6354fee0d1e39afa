"""The dashboard for curators and admins: annotator throughput, queue progress and agreement, with
plots drawn here as inline SVG (no chart library, nothing fetched from a CDN)."""
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from annotate.requests import AppRequest
from curation.models import ReviewQueue
from curation.review.selectors import agreement, queue_progress_many, throughput
from curation.review.statistics import Agreement

WINDOWS = {"24h": (timedelta(hours=24), 1), "7d": (timedelta(days=7), 6), "30d": (timedelta(days=30), 24)}
DEFAULT_WINDOW = "7d"
LABEL_WIDTH = 170
CHART_WIDTH = 720
ROW_HEIGHT = 22


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    css: str = "bar"
    title: str = ""


@dataclass
class Row:
    label: str
    value: str
    y: float
    bars: list[Bar] = field(default_factory=list)


@dataclass
class Chart:
    width: int
    height: int
    rows: list[Row] = field(default_factory=list)
    columns: list[Bar] = field(default_factory=list)
    zero_x: float | None = None
    ticks: list[tuple[float, str]] = field(default_factory=list)


def hbar_chart(items: list[tuple[str, float, str]]) -> Chart:
    """One horizontal bar per (label, value, shown value), scaled to the largest value."""
    top = max((v for _, v, _ in items), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 110
    chart = Chart(width=CHART_WIDTH, height=ROW_HEIGHT * max(1, len(items)) + 4)
    for i, (label, value, shown) in enumerate(items):
        y = i * ROW_HEIGHT + 2
        bar = Bar(LABEL_WIDTH, y + 3, max(1.0, span * value / top) if value else 0, ROW_HEIGHT - 6, title=f"{label}: {shown}")
        chart.rows.append(Row(label=label, value=shown, y=y + ROW_HEIGHT - 7, bars=[bar]))
    return chart


def stacked_chart(items: list[tuple[str, list[tuple[int, str, str]], str]]) -> Chart:
    """One bar per label made of (count, css class, title) parts, each bar filling the width."""
    span = CHART_WIDTH - LABEL_WIDTH - 110
    chart = Chart(width=CHART_WIDTH, height=ROW_HEIGHT * max(1, len(items)) + 4)
    for i, (label, parts, shown) in enumerate(items):
        y = i * ROW_HEIGHT + 2
        total = sum(n for n, _, _ in parts) or 1
        x = float(LABEL_WIDTH)
        bars = []
        for n, css, title in parts:
            w = span * n / total
            if w > 0:
                bars.append(Bar(x, y + 3, w, ROW_HEIGHT - 6, css=css, title=f"{title}: {n:,}"))
            x += w
        chart.rows.append(Row(label=label, value=shown, y=y + ROW_HEIGHT - 7, bars=bars))
    return chart


def kappa_chart(items: list[tuple[str, Agreement]]) -> Chart:
    """Kappa from -1 to 1 around a zero line; an undefined kappa draws no bar."""
    span = CHART_WIDTH - LABEL_WIDTH - 110
    zero = LABEL_WIDTH + span / 2
    chart = Chart(width=CHART_WIDTH, height=ROW_HEIGHT * max(1, len(items)) + 18, zero_x=zero)
    chart.ticks = [(LABEL_WIDTH + span * (t + 1) / 2, f"{t:g}") for t in (-1, -0.5, 0, 0.5, 1)]
    for i, (label, result) in enumerate(items):
        y = i * ROW_HEIGHT + 2
        bars = []
        if result.kappa is not None:
            w = span / 2 * abs(result.kappa)
            css = "bar-alt" if result.kappa >= 0.6 else "bar-warn" if result.kappa >= 0.2 else "bar-bad"
            bars.append(Bar(zero if result.kappa >= 0 else zero - w, y + 3, w, ROW_HEIGHT - 6, css=css, title=f"kappa {result.kappa:.3f}"))
        shown = "undefined" if result.kappa is None else f"κ {result.kappa:.2f}"
        chart.rows.append(Row(label=label, value=f"{shown} (n={result.pairs})", y=y + ROW_HEIGHT - 7, bars=bars))
    return chart


def column_chart(points: list[tuple[str, int]], height: int = 140) -> Chart:
    """Decisions per time bucket as columns."""
    top = max((n for _, n in points), default=0) or 1
    n_points = max(1, len(points))
    step = (CHART_WIDTH - 40) / n_points
    chart = Chart(width=CHART_WIDTH, height=height + 20)
    for i, (label, n) in enumerate(points):
        h = (height - 10) * n / top
        chart.columns.append(Bar(30 + i * step, height - h, max(1.0, step - 1), h, title=f"{label}: {n:,}"))
    chart.ticks = [(30 + i * step, points[i][0]) for i in range(0, len(points), max(1, len(points) // 6))] if points else []
    return chart


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
        "throughput_chart": hbar_chart([(a.username, a.per_hour, f"{a.per_hour:.1f}/h") for a in work.annotators]),
        "activity_chart": column_chart(_buckets(work.hourly, bucket_hours)),
        "progress_chart": stacked_chart(
            [
                (
                    p.queue.name,
                    [(p.decided, "bar-alt", "decided"), (p.claimed, "bar-warn", "claimed"), (p.queued, "bar", "queued"), (p.waiting, "bar-bad", "waiting")],
                    f"{p.percent}% of {p.total:,}",
                )
                for p in progress
            ]
        ),
        "kappa_chart": kappa_chart(
            [(queue_names.get(q, str(q)), a) for q, a in agreed.by_queue.items()]
            + [(f"· {name}", a) for name, a in agreed.by_annotator.items()]
        ),
    }
    return render(request, "annotate/dashboard.html", context)


urlpatterns = [path("dashboard/", dashboard, name="dashboard")]
