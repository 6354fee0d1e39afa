"""The two statistics review reports: a proportion's Wilson interval and Cohen's kappa."""
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Proportion:
    successes: int
    n: int
    low: float | None
    high: float | None

    @property
    def rate(self) -> float | None:
        return self.successes / self.n if self.n else None

    # Percentages for pages (templates cannot multiply).
    @property
    def rate_pct(self) -> float | None:
        return None if self.rate is None else 100 * self.rate

    @property
    def low_pct(self) -> float | None:
        return None if self.low is None else 100 * self.low

    @property
    def high_pct(self) -> float | None:
        return None if self.high is None else 100 * self.high


def wilson_interval(successes: int, n: int, z: float = Z_95) -> Proportion:
    """The Wilson score interval: honest for small samples and rates near 0 or 1 (unlike p +- z*se)."""
    if n <= 0:
        return Proportion(successes=0, n=0, low=None, high=None)
    if not 0 <= successes <= n:
        raise ValueError(f"{successes} successes out of {n} is not a proportion")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # At 0 or n successes the bound is exactly 0 or 1; floating point would leave 1e-16 off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Proportion(successes=successes, n=n, low=low, high=high)


@dataclass(frozen=True)
class Agreement:
    pairs: int
    observed: float | None
    kappa: float | None


def cohen_kappa(pairs: Iterable[tuple[str, str]]) -> Agreement:
    """Cohen's kappa of two ratings per item: (observed - chance) / (1 - chance).

    With no pairs both figures are None; when chance agreement is total (both raters always gave the
    same single label) kappa is undefined and reported as None, with the observed agreement.
    """
    pairs = list(pairs)
    n = len(pairs)
    if n == 0:
        return Agreement(pairs=0, observed=None, kappa=None)
    observed = sum(1 for a, b in pairs if a == b) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    chance = sum(first[label] * second[label] for label in first.keys() | second.keys()) / (n * n)
    if math.isclose(chance, 1.0):
        return Agreement(pairs=n, observed=observed, kappa=None)
    return Agreement(pairs=n, observed=observed, kappa=(observed - chance) / (1 - chance))
