"""annotate/charts.py: ticks on round numbers, names cut to their column with the whole kept as a tooltip."""
from annotate.charts import bar_chart, fit, nice_ticks, text_width


def test_ticks_are_round_and_reach_the_largest_value():
    assert nice_ticks(8) == [0, 2, 4, 6, 8]
    assert nice_ticks(13) == [0, 5, 10, 15]
    assert nice_ticks(0.7)[-1] >= 0.7


def test_a_long_name_is_cut_to_its_column_and_kept_whole_as_the_tooltip():
    name = "W" * 60
    assert fit("short", 100) == "short"
    cut = fit(name, 100)
    assert cut.endswith("…") and text_width(cut) <= 100 < text_width(name)
    chart = bar_chart("t", [(name, 3.0, "3.0/h")], axis="per hour")
    label = next(t for t in chart.texts if t.full == name)
    assert label.text.endswith("…") and label.x + text_width(label.text) <= 180


def test_an_undefined_value_draws_no_bar_but_keeps_its_row():
    chart = bar_chart("kappa", [("q", float("nan"), "undefined (n=0)")], axis="kappa", scale=(-1.0, 1.0), ticks=[-1, 0, 1])
    assert chart.rects == [] and any(t.text == "undefined (n=0)" for t in chart.texts)
