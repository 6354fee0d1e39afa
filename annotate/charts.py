"""Charts drawn as inline SVG (no chart library, nothing fetched): horizontal bars, columns over time, a line.

Every chart has axes with tick labels and an axis title with its unit, and keeps its text inside its viewBox:
a name longer than its column is cut with an ellipsis and keeps the full name as a tooltip (<title>).
Text widths are estimated from the font size with generous per-character widths (DejaVu Sans, the widest
common sans-serif, sets them), so an estimate errs on the wide side and a label that fits here fits on screen.
templates/annotate/chart.html draws any Chart.
"""
import math
from dataclasses import dataclass, field

FONT_PX = 11  # .chart text in static/css/review.css
WIDTH = 720
ROW_HEIGHT = 22
LABEL_WIDTH = 180  # the names' column on the left of a bar chart
VALUE_WIDTH = 120  # the shown values' column on the right
GAP = 8

_NARROW = set("iljI.,:;'|!()[] ")
_SHORT = set("frt-")
_WIDE_LOWER = set("mw")
_WIDE_UPPER = set("MW@%")


def text_width(text: str, size: float = FONT_PX) -> float:
    """An upper estimate of the width of `text` in pixels at this font size."""
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.36
        elif ch in _SHORT:
            em += 0.46
        elif ch in _WIDE_LOWER:
            em += 1.0
        elif ch in _WIDE_UPPER:
            em += 1.05
        elif ch.isascii() and (ch.islower() or ch.isdigit()):
            em += 0.66
        elif ch.isascii() and ch.isupper():
            em += 0.8
        else:  # punctuation, symbols, other scripts (a CJK character is one em wide)
            em += 1.05
    return em * size


def fit(text: str, width: float, size: float = FONT_PX) -> str:
    """`text` cut with an ellipsis so that it fits in `width` pixels (whole when it fits)."""
    if text_width(text, size) <= width:
        return text
    for end in range(len(text) - 1, 0, -1):
        cut = text[:end].rstrip() + "…"
        if text_width(cut, size) <= width:
            return cut
    return "…"


@dataclass
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"
    full: str = ""  # the whole text, as a tooltip, when `text` was cut to fit
    css: str = ""


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    css: str = "bar"
    title: str = ""


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    css: str = "axis"


@dataclass
class Chart:
    title: str
    width: int
    height: int
    texts: list[Text] = field(default_factory=list)
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    polyline: str = ""

    def label(self, x: float, y: float, text: str, width: float, *, anchor: str = "start", css: str = "") -> None:
        """A text cut to `width`, the whole of it kept as its tooltip when cut."""
        shown = fit(text, width)
        self.texts.append(Text(x, y, shown, anchor, full=text if shown != text else "", css=css))


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and round steps up to at least `top` (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [round(i * step, 10) for i in range(math.ceil(top / step - 1e-9) + 1)]


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:g}"


def _x_axis(chart: Chart, *, x0: float, x1: float, y: float, ticks: list[tuple[float, str]], title: str) -> None:
    """A horizontal axis at `y` from x0 to x1: tick marks, their labels below, the title under them."""
    chart.lines.append(Line(x0, y, x1, y))
    room = min((b - a for (a, _), (b, _) in zip(ticks, ticks[1:], strict=False)), default=x1 - x0)
    for x, label in ticks:
        chart.lines.append(Line(x, y, x, y + 4))
        chart.label(x, y + 15, label, max(room - GAP, 10), anchor="middle", css="tick")
    chart.label((x0 + x1) / 2, y + 31, title, x1 - x0, anchor="middle", css="axis-title")


def bar_chart(title: str, items: list[tuple[str, float, str]], *, axis: str, scale: tuple[float, float] | None = None,
              ticks: list[float] | None = None, tick_format: str = "{:g}") -> Chart:
    """One horizontal bar per (name, value, shown value); the x axis runs over `scale` (0 to the largest by default).

    A negative lower bound draws bars either side of a zero line (kappa from -1 to 1).
    """
    values = [v for _, v, _ in items]
    if ticks is None:
        ticks = nice_ticks(max(values, default=0) or 1)
    lo, hi = scale if scale is not None else (min(0.0, ticks[0]), ticks[-1])
    rows_height = ROW_HEIGHT * max(1, len(items))
    chart = Chart(title=title, width=WIDTH, height=4 + rows_height + 46)
    x0, x1 = LABEL_WIDTH, WIDTH - VALUE_WIDTH

    def at(value: float) -> float:
        return x0 + (x1 - x0) * (value - lo) / ((hi - lo) or 1)

    zero = at(0.0)
    for i, (name, value, shown) in enumerate(items):
        top = 4 + i * ROW_HEIGHT
        chart.label(0, top + ROW_HEIGHT - 7, name, LABEL_WIDTH - GAP)
        if not math.isnan(value):
            left, right = sorted((zero, at(max(lo, min(hi, value)))))
            chart.rects.append(Rect(left, top + 3, max(right - left, 1.0 if value else 0.0), ROW_HEIGHT - 6,
                                    css=_bar_css(value, lo), title=f"{name}: {shown}"))
        chart.label(x1 + GAP, top + ROW_HEIGHT - 7, shown, VALUE_WIDTH - GAP - 2, css="value")
    if lo < 0:
        chart.lines.append(Line(zero, 2, zero, 4 + rows_height))
    _x_axis(chart, x0=x0, x1=x1, y=4 + rows_height + 2, ticks=[(at(t), tick_format.format(t)) for t in ticks], title=axis)
    return chart


def _bar_css(value: float, lo: float) -> str:
    if lo >= 0:
        return "bar"
    return "bar-alt" if value >= 0.6 else "bar-warn" if value >= 0.2 else "bar-bad"  # kappa: good, fair, poor


def stacked_chart(title: str, items: list[tuple[str, list[tuple[int, str, str]], str]], *, axis: str) -> Chart:
    """One bar per name, made of (count, css class, what) parts, each bar the whole width (0-100%)."""
    rows_height = ROW_HEIGHT * max(1, len(items))
    chart = Chart(title=title, width=WIDTH, height=4 + rows_height + 46)
    x0, x1 = LABEL_WIDTH, WIDTH - VALUE_WIDTH
    for i, (name, parts, shown) in enumerate(items):
        top = 4 + i * ROW_HEIGHT
        chart.label(0, top + ROW_HEIGHT - 7, name, LABEL_WIDTH - GAP)
        total = sum(n for n, _, _ in parts) or 1
        x = float(x0)
        for n, css, what in parts:
            w = (x1 - x0) * n / total
            if w > 0:
                chart.rects.append(Rect(x, top + 3, w, ROW_HEIGHT - 6, css=css, title=f"{name}, {what}: {n:,}"))
            x += w
        chart.label(x1 + GAP, top + ROW_HEIGHT - 7, shown, VALUE_WIDTH - GAP - 2, css="value")
    ticks = [(x0 + (x1 - x0) * p / 100, f"{p}%") for p in (0, 25, 50, 75, 100)]
    _x_axis(chart, x0=x0, x1=x1, y=4 + rows_height + 2, ticks=ticks, title=axis)
    return chart


def _y_axis(chart: Chart, *, x: float, top: float, bottom: float, ticks: list[tuple[float, str]], title: str) -> None:
    """A vertical axis at `x`: tick labels to its left, its title above it (horizontal, so it reads easily)."""
    chart.lines.append(Line(x, top, x, bottom))
    for y, label in ticks:
        chart.lines.append(Line(x - 4, y, x, y))
        chart.label(x - 6, y + 4, label, x - 8, anchor="end", css="tick")
    chart.label(0, 11, title, chart.width - 4, css="axis-title")


def column_chart(title: str, points: list[tuple[str, int]], *, axis: str, unit: str) -> Chart:
    """A column per (time bucket, count); x ticks as many as fit without touching, the y axis from 0 up."""
    height = 200
    x0, x1, top, bottom = 56, WIDTH - 12, 26, height - 44
    chart = Chart(title=title, width=WIDTH, height=height)
    values = nice_ticks(max((n for _, n in points), default=0) or 1)
    peak = values[-1]
    _y_axis(chart, x=x0, top=top, bottom=bottom,
            ticks=[(bottom - (bottom - top) * v / peak, _number(v)) for v in values], title=unit)
    step = (x1 - x0) / max(1, len(points))
    for i, (label, n) in enumerate(points):
        h = (bottom - top) * n / peak
        chart.rects.append(Rect(x0 + i * step + 0.5, bottom - h, max(step - 1, 1.0), h, title=f"{label}: {n:,}"))
    widest = max((text_width(label) for label, _ in points), default=0)
    every = max(1, math.ceil((widest + 2 * GAP) / step))
    ticks = [(x0 + (i + 0.5) * step, label) for i, (label, _) in enumerate(points) if i % every == 0]
    # A label centred on the first or last column must not leave the chart.
    ticks = [(x, label) for x, label in ticks if x - text_width(label) / 2 >= 0 and x + text_width(label) / 2 <= WIDTH]
    chart.lines.append(Line(x0, bottom, x1, bottom))
    for x, label in ticks:
        chart.lines.append(Line(x, bottom, x, bottom + 4))
        chart.label(x, bottom + 18, label, every * step - GAP, anchor="middle", css="tick")  # clear of the y axis's 0
    chart.label((x0 + x1) / 2, bottom + 34, axis, x1 - x0, anchor="middle", css="axis-title")
    return chart


def spectrum_chart(eigenvalues: list[float]) -> Chart | None:
    """The eigenvalue spectrum, largest first, on a log scale (a flat spectrum is a diverse subset)."""
    if not eigenvalues:
        return None
    logs = [math.log10(max(v, 1e-8)) for v in eigenvalues]
    width, height = 480, 210
    x0, x1, top, bottom = 52, width - 16, 24, height - 44
    lo, hi = math.floor(min(logs)), math.ceil(max(logs))
    hi = hi if hi > lo else lo + 1
    chart = Chart(title="Eigenvalue spectrum of the embeddings (log scale)", width=width, height=height)
    span = max(1, hi - lo)
    decades = list(range(lo, hi + 1, max(1, math.ceil(span / 5))))
    _y_axis(chart, x=x0, top=top, bottom=bottom, ticks=[(bottom - (bottom - top) * (d - lo) / span, f"1e{d}") for d in decades],
            title="eigenvalue (log scale)")
    n = len(logs)
    step = (x1 - x0) / max(1, n - 1)
    chart.polyline = " ".join(f"{x0 + i * step:.1f},{bottom - (bottom - top) * (v - lo) / span:.1f}" for i, v in enumerate(logs))
    every = nice_ticks(n, 4)[1] if n > 4 else 1
    ranks = [1] + [r for r in range(int(every), n + 1, max(1, int(every))) if r - 1 > every / 2]
    _x_axis(chart, x0=x0, x1=x1, y=bottom, ticks=[(x0 + (r - 1) * step, str(r)) for r in ranks], title="rank, largest first")
    return chart
