"""Operating characteristics of the regression rule, by simulation.

Draws synthetic baseline/candidate evaluations with a known true accuracy drop
(0, 2, 5, 8 points by default) at n = 100, 500, 2000 items, runs the regression
rule of ``releasegate.regression`` on each draw, and prints:

* mode ``significant_drop`` (the default rule): how often the one-sided test
  finds a significant drop (its rejection rate; at drop 0 this is the test's
  false-positive rate, which must be <= alpha), how often the rule says
  ``regressed`` (BLOCK; at drop 0 the false regression rate), and how often it
  says ``inconclusive``;
* mode ``non_inferiority``: how often the candidate passes (DEPLOY). At a true
  drop equal to the margin (5 points) this is the false-pass rate, which must be
  <= alpha; at drop 0 it is the power to deploy an unchanged model.

Paired draws: per-item outcomes of the two models are correlated Bernoulli
variables with phi coefficient ``--rho`` (two fine-tunes of one base model agree
on most items); the four cells of the paired table are drawn from a multinomial.
Unpaired draws: independent binomials with the same rates and n (the fallback
when outputs cannot be matched). Identical tables are evaluated once (the rule
is deterministic), which keeps the default run to about a minute.

Because Monte Carlo error at rates near alpha is itself about 0.005, the two
error rates that must stay at or below alpha (paired false regression at drop 0;
paired false non-inferiority pass at drop = margin) are also computed exactly,
by enumerating every (b, c) of the paired table with non-negligible probability
under the trinomial model and running the rule on each. With the default Tango
interval the rule depends on the table only through (b, c, n), so this is exact.

Usage::

    python benchmarks/regression_simulation.py [--reps 4000] [--seed 20240601]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import special

from releasegate.config.regression import RegressionSettings
from releasegate.records.regression import MetricComparison
from releasegate.regression.rule import compare_paired_counts, compare_unpaired
from releasegate.stats import PairedTable

DROPS = (0.0, 0.02, 0.05, 0.08)
SIZES = (100, 500, 2000)
IntArray = npt.NDArray[np.int64]


def paired_cell_probabilities(base: float, cand: float, rho: float) -> list[float]:
    """Cell probabilities (a, b, c, d) of the candidate-first paired table."""
    both = base * cand + rho * math.sqrt(base * (1 - base) * cand * (1 - cand))
    both = min(both, base, cand)
    probs = [both, cand - both, base - both, 1.0 - base - cand + both]
    if min(probs) < -1e-12:
        raise ValueError(f"rho={rho} is not attainable for rates {base}, {cand}")
    return [max(0.0, p) for p in probs]


def evaluate_unique(
    rows: IntArray, judge: Callable[[tuple[int, ...]], MetricComparison]
) -> list[MetricComparison]:
    """Apply ``judge`` once per distinct row and expand back to every row."""
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    results = [judge(tuple(int(v) for v in row)) for row in unique]
    return [results[i] for i in np.asarray(inverse).reshape(-1)]


def rates(results: list[MetricComparison]) -> dict[str, float]:
    """Fractions of draws with each outcome."""
    total = len(results)
    return {
        "significant": sum(r.significant for r in results) / total,
        "regressed": sum(r.regressed for r in results) / total,
        "inconclusive": sum(r.verdict == "inconclusive" for r in results) / total,
        "deploy": sum(not r.regressed for r in results) / total,
    }


def simulate_cell(
    n: int, drop: float, *, base: float, rho: float, reps: int, rng: np.random.Generator
) -> dict[str, dict[str, float]]:
    """Run both modes, paired and unpaired, on ``reps`` draws of one (n, drop) cell."""
    cand = base - drop
    tables = rng.multinomial(n, paired_cell_probabilities(base, cand, rho), size=reps)
    counts = np.stack([rng.binomial(n, base, size=reps), rng.binomial(n, cand, size=reps)], axis=1)
    out: dict[str, dict[str, float]] = {}
    for mode in ("significant_drop", "non_inferiority"):
        settings = RegressionSettings(mode=mode)  # type: ignore[arg-type]

        def paired(
            row: tuple[int, ...], settings: RegressionSettings = settings
        ) -> MetricComparison:
            a, b, c, d = row
            return compare_paired_counts(
                "accuracy", PairedTable(a=a, b=b, c=c, d=d), settings=settings
            )

        def unpaired(
            row: tuple[int, ...], settings: RegressionSettings = settings
        ) -> MetricComparison:
            x_base, x_cand = row
            return compare_unpaired("accuracy", x_base / n, n, x_cand / n, n, settings=settings)

        out[f"{mode}/paired"] = rates(evaluate_unique(tables, paired))
        out[f"{mode}/unpaired"] = rates(evaluate_unique(counts, unpaired))
    return out


def exact_paired_rate(
    n: int,
    probs: list[float],
    settings: RegressionSettings,
    *,
    event: Callable[[MetricComparison], bool],
) -> tuple[float, float]:
    """Exact probability of ``event`` (on the rule's result) under the trinomial model.

    Returns (rate, probability mass enumerated); tables with probability below
    1e-15 are skipped, so the mass is 1 up to that truncation.
    """
    if settings.paired_interval != "tango":
        raise ValueError("exact enumeration relies on the Tango interval (depends on b, c, n)")
    p_b, p_c = probs[1], probs[2]
    ks = np.arange(n + 1)
    b, c = np.meshgrid(ks, ks, indexing="ij")
    rest = n - b - c
    ok = rest >= 0
    safe_rest = np.where(ok, rest, 0)
    with np.errstate(divide="ignore"):
        log_pmf = (
            special.gammaln(n + 1)
            - special.gammaln(b + 1)
            - special.gammaln(c + 1)
            - special.gammaln(safe_rest + 1)
            + special.xlogy(b, p_b)
            + special.xlogy(c, p_c)
            + special.xlogy(safe_rest, 1.0 - p_b - p_c)
        )
    pmf = np.where(ok, np.exp(log_pmf), 0.0)
    keep = np.argwhere(pmf > 1e-15)
    rate = 0.0
    for i, j in keep:
        table = PairedTable(a=n - int(i) - int(j), b=int(i), c=int(j), d=0)
        result = compare_paired_counts("accuracy", table, settings=settings)
        if event(result):
            rate += float(pmf[i, j])
    return rate, float(pmf[keep[:, 0], keep[:, 1]].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=4000, help="draws per cell (default 4000)")
    parser.add_argument("--seed", type=int, default=20240601, help="numpy seed")
    parser.add_argument("--base", type=float, default=0.85, help="baseline accuracy")
    parser.add_argument("--rho", type=float, default=0.5, help="phi correlation of paired outcomes")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    cells = {
        (n, drop): simulate_cell(n, drop, base=args.base, rho=args.rho, reps=args.reps, rng=rng)
        for n in SIZES
        for drop in DROPS
    }
    exact_rows = []
    for n in SIZES:
        null_probs = paired_cell_probabilities(args.base, args.base, args.rho)
        false_reg, mass0 = exact_paired_rate(
            n, null_probs, RegressionSettings(), event=lambda r: r.regressed
        )
        test_size, _ = exact_paired_rate(
            n, null_probs, RegressionSettings(), event=lambda r: r.significant
        )
        margin_probs = paired_cell_probabilities(args.base, args.base - 0.05, args.rho)
        false_pass, mass1 = exact_paired_rate(
            n,
            margin_probs,
            RegressionSettings(mode="non_inferiority"),
            event=lambda r: not r.regressed,
        )
        exact_rows.append((n, false_reg, test_size, false_pass, min(mass0, mass1)))
    elapsed = time.perf_counter() - start
    alpha = RegressionSettings().alpha
    mc_se = math.sqrt(alpha * (1 - alpha) / args.reps)
    print(
        f"# regression rule simulation: base accuracy {args.base}, phi {args.rho}, "
        f"{args.reps} draws per cell, seed {args.seed}, alpha {alpha} one-sided, "
        f"threshold -0.05 (Monte Carlo SE at rate {alpha}: {mc_se:.4f})"
    )
    print()
    print("## mode significant_drop (default): rates over draws")
    print()
    print(
        "| n | true drop | paired: drop significant | paired: regressed (BLOCK) "
        "| paired: inconclusive | unpaired: drop significant | unpaired: regressed (BLOCK) "
        "| unpaired: inconclusive |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (n, drop), cell in cells.items():
        p, u = cell["significant_drop/paired"], cell["significant_drop/unpaired"]
        print(
            f"| {n} | {drop:.2f} | {p['significant']:.3f} | {p['regressed']:.3f} "
            f"| {p['inconclusive']:.3f} | {u['significant']:.3f} | {u['regressed']:.3f} "
            f"| {u['inconclusive']:.3f} |"
        )
    print()
    print("## mode non_inferiority (margin 0.05): DEPLOY rate over draws")
    print()
    print("| n | true drop | paired: DEPLOY | unpaired: DEPLOY |")
    print("|---:|---:|---:|---:|")
    for (n, drop), cell in cells.items():
        p, u = cell["non_inferiority/paired"], cell["non_inferiority/unpaired"]
        print(f"| {n} | {drop:.2f} | {p['deploy']:.3f} | {u['deploy']:.3f} |")
    print()
    print("## exact error rates of the paired rule (enumeration, no Monte Carlo error)")
    print()
    print(
        "| n | false regression rate (significant_drop, drop 0) "
        "| size of the one-sided McNemar mid-p test (drop 0) "
        "| false pass rate (non_inferiority, drop = margin 0.05) | mass enumerated |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n, false_reg, test_size, false_pass, mass in exact_rows:
        print(f"| {n} | {false_reg:.4f} | {test_size:.4f} | {false_pass:.4f} | {mass:.12f} |")
    print()
    print(f"(computed in {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
