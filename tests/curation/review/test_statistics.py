"""Wilson intervals and Cohen's kappa against published worked values."""
import pytest

from curation.review.statistics import cohen_kappa, wilson_interval


def test_wilson_interval_matches_the_textbook_value():
    # 81 successes of 263 (Wilson 1927 / Newcombe 1998 example): 0.2553 to 0.3662.
    p = wilson_interval(81, 263)
    assert p.low == pytest.approx(0.2553, abs=1e-4)
    assert p.high == pytest.approx(0.3662, abs=1e-4)


def test_wilson_interval_stays_inside_zero_and_one():
    all_good = wilson_interval(10, 10)
    assert all_good.high == 1.0 and 0.69 < all_good.low < 0.73
    none = wilson_interval(0, 10)
    assert none.low == 0.0 and 0.27 < none.high < 0.31
    assert wilson_interval(0, 0).low is None and wilson_interval(0, 0).rate is None


def test_wilson_interval_refuses_an_impossible_proportion():
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


def test_cohen_kappa_of_a_worked_example():
    # 50 items: both yes 20, both no 15, yes/no 5, no/yes 10 -> po 0.7, pe 0.5, kappa 0.4.
    pairs = [("y", "y")] * 20 + [("n", "n")] * 15 + [("y", "n")] * 5 + [("n", "y")] * 10
    result = cohen_kappa(pairs)
    assert result.pairs == 50
    assert result.observed == pytest.approx(0.7)
    assert result.kappa == pytest.approx(0.4)


def test_cohen_kappa_is_undefined_when_everyone_always_says_the_same():
    result = cohen_kappa([("accept", "accept")] * 4)
    assert result.observed == 1.0 and result.kappa is None
    assert cohen_kappa([]).kappa is None
