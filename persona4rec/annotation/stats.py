"""Statistics of a pairwise study: win/tie/loss rates with Wilson intervals, the sign test, and agreement.

Every rating row is one observation (annotator x example x criterion), in study terms: system A won,
system B won, or tie (or, with unit="example", each example's majority outcome is). Per criterion:
- win/tie/loss rates of system A against B, each with a Wilson score interval (it stays inside [0, 1] and
  keeps its coverage for small n and rates near 0 or 1, where the normal approximation fails);
- a two-sided exact sign test of wins against losses, ties excluded (H0: either system is preferred with
  probability 1/2), via scipy.stats.binomtest;
- inter-annotator agreement over the examples with at least two ratings: Krippendorff's alpha (nominal)
  and Fleiss' kappa (in the form that allows a different number of raters per example; with a constant
  number it is the textbook formula). Both are NaN where undefined (no pairable ratings, or every rating
  in one category, so chance agreement is already perfect).

A study makes several tests at once (one per criterion, and per pair of systems when it compares more than
two), so every sign test p-value also comes Holm-corrected over the family it belongs to: the criteria of
a two-system study, or every (pair, criterion) of a larger one. Holm controls the family-wise error rate
with no assumption about how the tests depend on each other (they share annotators and examples).
Attention-check examples never enter these results (checks.py); `exclude_flagged` also drops every rating
of the annotators flagged by their check score (quality.py).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

OUTCOMES = ("system_a", "system_b", "tie")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion successes/n; (nan, nan) when n == 0."""
    if n == 0:
        return (math.nan, math.nan)
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} outside 0..{n}")
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact binomial (sign) test p-value of wins vs losses, ties already excluded; 1.0 if none."""
    if wins + losses == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(wins, wins + losses, 0.5, alternative="two-sided").pvalue)


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from a subjects x categories table of rating counts. Subjects with fewer than two
    ratings are skipped; the number of raters may differ between subjects."""
    rows = [list(map(int, row)) for row in counts if sum(row) >= 2]
    if not rows:
        return math.nan
    per_subject = [(sum(c * c for c in row) - sum(row)) / (sum(row) * (sum(row) - 1)) for row in rows]
    observed = sum(per_subject) / len(per_subject)
    total = sum(sum(row) for row in rows)
    category_share = [sum(row[j] for row in rows) / total for j in range(len(rows[0]))]
    expected = sum(p * p for p in category_share)
    if math.isclose(expected, 1.0):
        return math.nan
    return (observed - expected) / (1 - expected)


def krippendorff_alpha_nominal(units: Iterable[Sequence[Hashable]]) -> float:
    """Krippendorff's alpha for nominal data. Each unit is the list of values it received (missing
    ratings simply absent); units with fewer than two values are not pairable and are skipped."""
    coincidence: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
    for values in units:
        m = len(values)
        if m < 2:
            continue
        tally = Counter(values)
        for c, n_c in tally.items():
            for k, n_k in tally.items():
                pairs = n_c * (n_k - 1) if c == k else n_c * n_k
                coincidence[(c, k)] += pairs / (m - 1)
    margins: dict[Hashable, float] = defaultdict(float)
    for (c, _k), o in coincidence.items():
        margins[c] += o
    n = sum(margins.values())
    if n <= 1:
        return math.nan
    observed_disagreement = sum(o for (c, k), o in coincidence.items() if c != k)
    expected_disagreement = sum(margins[c] * margins[k] for c in margins for k in margins if c != k) / (n - 1)
    if expected_disagreement == 0:
        return math.nan
    return 1 - observed_disagreement / expected_disagreement


@dataclass(frozen=True)
class CriterionResult:
    criterion: str
    name: str
    n: int  # ratings (or examples, for unit="example")
    wins: int  # system A preferred
    ties: int
    losses: int  # system B preferred
    win_rate: float
    tie_rate: float
    loss_rate: float
    win_ci: tuple[float, float]
    tie_ci: tuple[float, float]
    loss_ci: tuple[float, float]
    sign_test_p: float
    agreement_examples: int  # examples with >= 2 ratings, the ones agreement is computed on
    krippendorff_alpha: float
    fleiss_kappa: float
    sign_test_p_holm: float = math.nan  # sign_test_p, Holm-corrected over the study's family of tests

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given: the i-th smallest is multiplied by (m - i),
    made monotone and capped at 1. NaN (no test) stays NaN and does not count towards m."""
    tested = sorted((p, i) for i, p in enumerate(pvalues) if not math.isnan(p))
    m = len(tested)
    adjusted = [math.nan] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def _with_holm(results: Sequence[CriterionResult]) -> list[CriterionResult]:
    corrected = holm([r.sign_test_p for r in results])
    return [replace(r, sign_test_p_holm=p) for r, p in zip(results, corrected)]


@dataclass(frozen=True)
class PairResult:
    """One pair of a study's systems on one criterion: `result` counts `system_a` winning as a win."""

    system_a: str
    system_b: str
    result: CriterionResult

    def as_dict(self) -> dict[str, Any]:
        return {"system_a": self.system_a, "system_b": self.system_b, **self.result.as_dict()}


def majority(outcomes: Sequence[str]) -> str:
    """The outcome most annotators chose for one example; "tie" when the top counts are equal."""
    ranked = Counter(outcomes).most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return "tie"
    return ranked[0][0]


def criterion_result(
    criterion: str, name: str, ratings: Sequence[Mapping[str, Any]], confidence: float = 0.95, unit: str = "rating"
) -> CriterionResult:
    """Rates, intervals, sign test and agreement for one criterion. `ratings` are dicts with at least
    `example_id` and `outcome` ("system_a" | "system_b" | "tie").

    unit="rating" counts every rating (the usual report); unit="example" first reduces each example to
    its majority outcome, so rates, intervals and the sign test rest on independent units (ratings of
    one example by several annotators are not independent). Agreement always uses the ratings."""
    if unit not in ("rating", "example"):
        raise ValueError(f"unit must be 'rating' or 'example', got {unit!r}")
    by_example: dict[Any, list[str]] = defaultdict(list)
    for r in ratings:
        by_example[r["example_id"]].append(r["outcome"])
    observations = [r["outcome"] for r in ratings] if unit == "rating" else [majority(v) for v in by_example.values()]
    tally = Counter(observations)
    unknown = set(tally) - set(OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcomes {sorted(unknown)}; expected {OUTCOMES}")
    wins, losses, ties = tally["system_a"], tally["system_b"], tally["tie"]
    n = wins + losses + ties
    pairable = [values for values in by_example.values() if len(values) >= 2]
    rate = (lambda k: k / n) if n else (lambda k: math.nan)
    return CriterionResult(
        criterion=criterion,
        name=name,
        n=n,
        wins=wins,
        ties=ties,
        losses=losses,
        win_rate=rate(wins),
        tie_rate=rate(ties),
        loss_rate=rate(losses),
        win_ci=wilson_interval(wins, n, confidence),
        tie_ci=wilson_interval(ties, n, confidence),
        loss_ci=wilson_interval(losses, n, confidence),
        sign_test_p=sign_test(wins, losses),
        agreement_examples=len(pairable),
        krippendorff_alpha=krippendorff_alpha_nominal(pairable),
        fleiss_kappa=fleiss_kappa([[Counter(v)[o] for o in OUTCOMES] for v in pairable]),
    )


def criteria_results(
    ratings: Sequence[Mapping[str, Any]], criteria: Sequence[Any], confidence: float = 0.95, unit: str = "rating"
) -> list[CriterionResult]:
    """One CriterionResult per criterion (objects with .key and .name), in the criteria's order, with the
    sign tests Holm-corrected over the criteria."""
    by_criterion: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in ratings:
        by_criterion[r["criterion"]].append(r)
    return _with_holm(
        [criterion_result(c.key, c.name, by_criterion.get(c.key, []), confidence, unit) for c in criteria]
    )


def oriented(rating: Mapping[str, Any], system_a: str, system_b: str) -> dict[str, Any] | None:
    """The rating with its outcome stated for the pair (system_a, system_b), whichever way round its example
    held them; None when the example compared another pair."""
    if (rating["system_a"], rating["system_b"]) == (system_a, system_b):
        return dict(rating)
    if (rating["system_a"], rating["system_b"]) == (system_b, system_a):
        flipped = {"system_a": "system_b", "system_b": "system_a", "tie": "tie"}[rating["outcome"]]
        return {**rating, "outcome": flipped, "system_a": system_a, "system_b": system_b}
    return None


def pairwise_results(
    ratings: Sequence[Mapping[str, Any]],
    criteria: Sequence[Any],
    systems: Sequence[str],
    confidence: float = 0.95,
    unit: str = "rating",
) -> list[PairResult]:
    """Every pair of `systems` on every criterion (pairs in design.system_pairs order, criteria within),
    from rating records carrying their example's `system_a` / `system_b`; sign tests Holm-corrected over
    all pairs and criteria together."""
    from .design import system_pairs

    out: list[PairResult] = []
    for a, b in system_pairs(systems):
        mine = [o for o in (oriented(r, a, b) for r in ratings) if o is not None]
        by_criterion: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in mine:
            by_criterion[r["criterion"]].append(r)
        out += [
            PairResult(a, b, criterion_result(c.key, c.name, by_criterion.get(c.key, []), confidence, unit))
            for c in criteria
        ]
    corrected = holm([p.result.sign_test_p for p in out])
    return [replace(p, result=replace(p.result, sign_test_p_holm=q)) for p, q in zip(out, corrected)]


def result_ratings(db, study, exclude_flagged: bool = False) -> list[dict[str, Any]]:
    """The rating records results are computed on: attention checks left out, and with `exclude_flagged`
    the ratings of annotators flagged by their check score too."""
    from .export import rating_records
    from .quality import flagged_annotators

    records = [r for r in rating_records(db, study) if not r["is_check"]]
    if exclude_flagged:
        flagged = flagged_annotators(db, study)
        records = [r for r in records if r["annotator_id"] not in flagged]
    return records


def study_results(
    db, study, confidence: float = 0.95, unit: str = "rating", exclude_flagged: bool = False
) -> list[CriterionResult]:
    """The per-criterion results of system A against system B of a study in the database (db:
    annotation.db.Database; study: id, name or StudyInfo); unit as in criterion_result. For a study of more
    than two systems this is its first pair; study_pair_results gives every pair."""
    from .study import get_study

    info = get_study(db, study.id if hasattr(study, "id") else study)
    ratings = result_ratings(db, info.id, exclude_flagged)
    pair = [o for o in (oriented(r, info.system_a, info.system_b) for r in ratings) if o is not None]
    return criteria_results(pair, info.criteria, confidence, unit)


def study_pair_results(
    db, study, confidence: float = 0.95, unit: str = "rating", exclude_flagged: bool = False
) -> list[PairResult]:
    """pairwise_results of every pair of the study's systems."""
    from .study import get_study

    info = get_study(db, study.id if hasattr(study, "id") else study)
    ratings = result_ratings(db, info.id, exclude_flagged)
    return pairwise_results(ratings, info.criteria, info.systems, confidence, unit)


def results_frame(results: Sequence[CriterionResult]):
    """A pandas DataFrame of results, one row per criterion, intervals split into low/high columns."""
    import pandas as pd

    rows = []
    for r in results:
        row = r.as_dict()  # a PairResult's row starts with its two systems
        for name in ("win_ci", "tie_ci", "loss_ci"):
            row[f"{name}_low"], row[f"{name}_high"] = row.pop(name)
        rows.append(row)
    return pd.DataFrame(rows)
