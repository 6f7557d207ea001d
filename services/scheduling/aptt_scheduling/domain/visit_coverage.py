"""Home-visit coverage: who was invited, said yes, was visited once or twice, and whether the
visited families lean towards struggling students more than chance explains.

The test is one-sided hypergeometric: of N scored students, K are below benchmark (well
below or below); the visited group holds n scored students, k of them below. The p-value is
the chance that n students drawn at random hold k or more below; under 0.05, with the visited
group leaning below, the report says so in plain words (decision 0324).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from math import comb

from aptt_contracts.skills import BANDS, Band

STRUGGLING: frozenset[Band] = frozenset({"well_below", "below"})
SIGNIFICANCE = 0.05


def upper_tail(population: int, marked: int, drawn: int, hits: int) -> float:
    """P(X >= hits) for X ~ Hypergeometric(population, marked, drawn)."""
    if not 0 <= marked <= population or not 0 <= drawn <= population:
        raise ValueError("counts out of range")
    total = comb(population, drawn)
    top = min(drawn, marked)
    found = sum(
        comb(marked, i) * comb(population - marked, drawn - i) for i in range(max(hits, 0), top + 1)
    )
    return found / total


@dataclass(frozen=True)
class Funnel:
    families: int
    invited: int
    accepted: int
    visited_once: int
    visited_twice: int


@dataclass(frozen=True)
class Skew:
    """The visited group against the class, by band; None fields when suppressed."""

    suppressed: bool
    suppressed_reason: str | None
    class_bands: dict[str, int] | None
    visited_bands: dict[str, int] | None
    scored: int | None
    struggling: int | None
    visited_scored: int | None
    visited_struggling: int | None
    p_value: float | None
    flagged: bool
    message: str


def funnel(
    students: Iterable[str],
    invited: set[str],
    accepted: set[str],
    done_visits: Mapping[str, int],
) -> Funnel:
    everyone = set(students)
    return Funnel(
        families=len(everyone),
        invited=len(invited & everyone),
        accepted=len(accepted & everyone),
        visited_once=sum(1 for s in everyone if done_visits.get(s, 0) >= 1),
        visited_twice=sum(1 for s in everyone if done_visits.get(s, 0) >= 2),
    )


def _count(bands: Iterable[Band]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(BANDS, 0)
    for band in bands:
        counts[band] += 1
    return counts


def skew(bands: Mapping[str, Band], visited: set[str], *, min_group: int) -> Skew:
    """`bands`: each scored student's band on the latest result; `visited`: students whose
    family had a visit. Groups under `min_group` are not broken down."""
    scored = len(bands)
    visited_scored = [s for s in visited if s in bands]
    if scored < min_group or len(visited_scored) < min_group:
        return Skew(
            suppressed=True,
            suppressed_reason="small-group",
            class_bands=None,
            visited_bands=None,
            scored=None,
            struggling=None,
            visited_scored=None,
            visited_struggling=None,
            p_value=None,
            flagged=False,
            message=(
                f"Fewer than {min_group} students with results in the class or among the "
                "visited families: not broken down, so no one can be singled out."
            ),
        )
    struggling = sum(1 for b in bands.values() if b in STRUGGLING)
    hits = sum(1 for s in visited_scored if bands[s] in STRUGGLING)
    n = len(visited_scored)
    p = upper_tail(scored, struggling, n, hits)
    leans = hits * scored > struggling * n
    flagged = leans and p < SIGNIFICANCE
    share, class_share = round(100 * hits / n), round(100 * struggling / scored)
    if flagged:
        message = (
            f"The visited families look targeted: {share}% of visited students are below "
            f"benchmark against {class_share}% of the class. A random choice of {n} students "
            f"would lean this far only {p:.1%} of the time. Visit all families, or a random "
            "cross-section."
        )
    else:
        message = (
            f"{share}% of visited students are below benchmark against {class_share}% of the "
            "class: within what a random choice gives."
        )
    return Skew(
        suppressed=False,
        suppressed_reason=None,
        class_bands=_count(bands.values()),
        visited_bands=_count(bands[s] for s in visited_scored),
        scored=scored,
        struggling=struggling,
        visited_scored=n,
        visited_struggling=hits,
        p_value=round(p, 6),
        flagged=flagged,
        message=message,
    )
