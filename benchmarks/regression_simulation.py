"""Operating characteristics of the regression rule: exact where possible, simulated otherwise.

Prints Markdown tables (pasted into docs/statistics.md) for:

1. the paired rule at within-pair correlation rho in {0, 0.5, 0.8} (base accuracy
   0.85): exact P(BLOCK) by true drop and n, exact P(DEPLOY) in non-inferiority
   mode, and the worst exact false BLOCK / false pass over n = 20..2,000, with the
   continuity correction 0.5 (default) and without it (the previous procedure);
2. planning: the old MDE / n needed (Connor's formula for the test alone)
   against the rule's own, and the exact P(BLOCK) at each promised n;
3. the flat (seed-style) path: exact false BLOCK and MDE when the baseline is
   treated as a fixed truth (previous) and with the two-sample test (now);
4. the Task API example's default multi-metric family: P(BLOCK) with every
   metric in one Holm family (previous) and with roles (now), Monte Carlo;
5. small-n non-inferiority: exact false pass by n, with and without correction;
6. clustered items (intra-cluster correlation 0.3): false BLOCK of the naive
   and the cluster-robust procedure, Monte Carlo;
7. repeated attempts: P(a candidate whose true drop equals the margin is ever
   deployed) over k attempts with fresh draws, fixed-n vs anytime-valid (exact
   per attempt, combined for independent attempts).

"Exact" means a sum over every paired table (b, c) of the trinomial model with
non-negligible probability (tails below 1e-14 cut; see
``releasegate.stats.rule_power``), using the rule's own statistic.

Usage::

    python benchmarks/regression_simulation.py [--reps 4000] [--seed 20240601]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Mapping

import numpy as np
from scipy import special, stats

from releasegate.config.regression import RegressionSettings
from releasegate.regression.family import MetricFacts, assign_roles
from releasegate.regression.rule import Assessment, assess_paired_binary
from releasegate.stats import holm_adjust, mde_paired_binary, required_n_paired_binary
from releasegate.stats.anytime import BettingProcess, attempt_alpha
from releasegate.stats.rule_power import (
    binomial_support,
    paired_rule_probability,
    rule_mde,
    rule_n_needed,
    trinomial_support,
    two_sample_rule_probability,
)

BASE = 0.85
ALPHA = 0.05
RHOS = (0.0, 0.5, 0.8)
SIZES = (50, 100, 500, 2000)
DROPS = (0.0, 0.02, 0.05, 0.08, 0.10)
GRID = tuple(range(20, 201, 5)) + (250, 300, 400, 500, 700, 1000, 1500, 2000)


def discordance(base: float, cand: float, rho: float) -> float:
    """P(discordant pair) for correlated Bernoulli outcomes with phi coefficient rho."""
    both = base * cand + rho * math.sqrt(base * (1 - base) * cand * (1 - cand))
    return (cand - both) + (base - both)


def exact(n: int, drop: float, rho: float, mode: str, *, correction: float = 0.5) -> float:
    """Exact P(BLOCK) (significant_drop) or P(DEPLOY) (non_inferiority)."""
    return paired_rule_probability(
        n,
        drop=drop,
        discordance=discordance(BASE, BASE - drop, rho),
        alpha=ALPHA,
        mode=mode,  # type: ignore[arg-type]
        threshold=-0.05,
        margin=0.05,
        correction=correction,
    )


def section_paired() -> None:
    print("## 1. Paired rule, exact (base accuracy 0.85, alpha 0.05, threshold -0.05)\n")
    print(
        "| rho | n | "
        + " | ".join(f"P(BLOCK) drop {d:.2f}" for d in DROPS)
        + " | NI P(DEPLOY) drop 0 | NI P(DEPLOY) drop 0.05 |"
    )
    print("|---:|---:|" + "---:|" * (len(DROPS) + 2))
    for rho in RHOS:
        for n in SIZES:
            blocks = [exact(n, d, rho, "significant_drop") for d in DROPS]
            ni = [exact(n, d, rho, "non_inferiority") for d in (0.0, 0.05)]
            cells = " | ".join(f"{p:.3f}" for p in blocks + ni)
            print(f"| {rho} | {n} | {cells} |")
    print()
    print("Worst exact error over n = 20, 25, ..., 200, 250, ..., 2000:\n")
    print(
        "| rho | correction | max false BLOCK (drop 0) | at n | max test size (drop 0, "
        "no threshold) | at n | max NI false pass (drop = margin) | at n |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rho in RHOS:
        for correction in (0.0, 0.5):
            rows = []
            for kind in ("block", "size", "ni"):
                best, where = 0.0, 0
                for n in GRID:
                    if kind == "ni":
                        rate = exact(n, 0.05, rho, "non_inferiority", correction=correction)
                    else:
                        rate = paired_rule_probability(
                            n,
                            drop=0.0,
                            discordance=discordance(BASE, BASE, rho),
                            alpha=ALPHA,
                            mode="significant_drop",
                            threshold=-0.05 if kind == "block" else 0.0,
                            margin=0.05,
                            correction=correction,
                        )
                    if rate > best:
                        best, where = rate, n
                rows.append(f"{best:.4f} | {where}")
            print(f"| {rho} | {correction:g} | " + " | ".join(rows) + " |")
    print()


def section_planning() -> None:
    print("## 2. Planning: the test alone (previous) vs the rule as applied (now), rho 0.5\n")
    psi = discordance(BASE, BASE, 0.5)
    old_n = required_n_paired_binary(0.05, discordance=psi)
    old_block = exact(old_n, 0.05, 0.5, "significant_drop")
    print(
        f"Previous: n_needed for a 5-point drop (Connor) = {old_n}; exact P(BLOCK) of a true "
        f"5-point drop there = {old_block:.3f} (promised 0.80).\n"
    )
    print("| n | previous MDE (Connor) | rule MDE now | exact P(BLOCK) at the rule MDE |")
    print("|---:|---:|---:|---:|")

    def prob(n: int, d: float) -> float:
        return paired_rule_probability(
            n,
            drop=d,
            discordance=psi,
            alpha=ALPHA,
            mode="significant_drop",
            threshold=-0.05,
            margin=0.05,
            correction=0.5,
        )

    for n in (100, old_n, 500, 2000):
        old = mde_paired_binary(n, discordance=psi)
        new = rule_mde(lambda d, n=n: prob(n, d), power=0.8, lower=0.05)
        at = prob(n, new) if new is not None else float("nan")
        print(f"| {n} | {old:.4f} | {new:.4f} | {at:.3f} |")
    needed = rule_n_needed(lambda n: prob(n, 0.10), power=0.8)
    assert needed is not None
    print(
        f"\nNow: n_needed for the default detect_drop 0.10 = {needed}; exact P(BLOCK) of a "
        f"true 10-point drop there = {prob(needed, 0.10):.3f}.\n"
    )


def section_flat() -> None:
    print("## 3. Flat baseline (no per-item outcomes), exact, rho 0 (independent samples)\n")
    print(
        "| n | previous false BLOCK (baseline as fixed truth) | now false BLOCK (two-sample) "
        "| previous MDE | now rule MDE |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n in (50, 100, 500):
        xb, pb = binomial_support(n, BASE)
        xc, pc = binomial_support(n, BASE)
        cur, base = np.meshgrid(xc, xb, indexing="ij")
        prob = np.outer(pc, pb)
        p0 = base / n
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (cur / n - p0) / np.sqrt(p0 * (1 - p0) / n)
        z = np.where(np.isfinite(z), z, np.where(cur / n < p0, -np.inf, 0.0))
        old = float(prob[(special.ndtr(z) <= ALPHA) & (cur / n - p0 < -0.05 - 1e-12)].sum())
        new = two_sample_rule_probability(
            n,
            n,
            p_reference=BASE,
            drop=0.0,
            alpha=ALPHA,
            mode="significant_drop",
            threshold=-0.05,
            margin=0.05,
            correction=0.5,
        )
        za, zb = stats.norm.ppf(0.95), stats.norm.ppf(0.8)
        old_mde = (za * math.sqrt(BASE * (1 - BASE)) + zb * math.sqrt(0.8 * 0.2)) / math.sqrt(n)
        new_mde = rule_mde(
            lambda d, n=n: two_sample_rule_probability(
                n,
                n,
                p_reference=BASE,
                drop=d,
                alpha=ALPHA,
                mode="significant_drop",
                threshold=-0.05,
                margin=0.05,
                correction=0.5,
            ),
            power=0.8,
            lower=0.05,
        )
        print(f"| {n} | {old:.4f} | {new:.4f} | {old_mde:.3f} | {new_mde:.3f} |")
    print()


def _family_draw(
    rng: np.random.Generator, n: int, drop: float, rho: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-item (baseline, candidate) outcomes of the example's five regression metrics.

    accuracy: correlated Bernoulli pair with a true drop; action_accuracy: right
    whenever accuracy is, plus 40% of the remaining items (moves with it);
    json_valid_rate / schema_valid_rate: unchanged 0.99 / 0.97; the category
    relative_dates is a fixed 15% of the items.
    """
    p_b_cell = (discordance(BASE, BASE - drop, rho) - drop) / 2
    both = BASE - drop - p_b_cell
    probs = [both, p_b_cell, BASE - both, 1 - BASE - p_b_cell]
    cell = rng.choice(4, size=n, p=np.maximum(probs, 0) / np.sum(np.maximum(probs, 0)))
    cand = (cell == 0) | (cell == 1)
    base = (cell == 0) | (cell == 2)
    extra_b, extra_c = rng.random(n) < 0.4, rng.random(n) < 0.4
    out = {
        "accuracy": (base, cand),
        "json_valid_rate": (rng.random(n) < 0.99, rng.random(n) < 0.99),
        "schema_valid_rate": (rng.random(n) < 0.97, rng.random(n) < 0.97),
        "action_accuracy": (base | extra_b, cand | extra_c),
    }
    category = np.arange(n) < round(0.15 * n)
    out["accuracy[relative_dates]"] = (base[category], cand[category])
    return out


def section_family(reps: int, rng: np.random.Generator) -> None:
    print(f"## 4. The example's default regression family ({reps} Monte Carlo draws, rho 0.5)\n")
    rule = RegressionSettings(
        metrics=[
            "accuracy",
            "json_valid_rate",
            "schema_valid_rate",
            "action_accuracy",
            "accuracy[relative_dates]",
        ]
    )
    names = rule.metrics
    roles_now = assign_roles([MetricFacts(m) for m in names], primary=rule.primary)
    roles_old = dict.fromkeys(names, "secondary")
    print(
        "| n | true accuracy drop | P(BLOCK), one Holm family of 5 (previous family) "
        "| P(BLOCK), roles (now) | P(BLOCK) accuracy alone, exact |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n, drop in ((100, 0.0), (100, 0.08), (500, 0.0), (500, 0.05), (500, 0.08)):
        blocks = {"old": 0, "now": 0}
        for _ in range(reps):
            draw = _family_draw(rng, n, drop, 0.5)
            assessments = [
                assess_paired_binary(m, draw[m][0], draw[m][1], settings=rule) for m in names
            ]
            for key, roles in (("old", roles_old), ("now", roles_now)):
                blocks[key] += _family_blocks(assessments, roles, rule)
        alone = exact(n, drop, 0.5, "significant_drop")
        print(
            f"| {n} | {drop:.2f} | {blocks['old'] / reps:.3f} | {blocks['now'] / reps:.3f} "
            f"| {alone:.3f} |"
        )
    print()


def _family_blocks(
    assessments: list[Assessment], roles: Mapping[str, str], rule: RegressionSettings
) -> bool:
    """Whether the family BLOCKs, from the p-values (the same decision as ``decide_family``,
    whose intervals agree with them; skipping the intervals keeps the simulation fast)."""
    secondary = [a for a in assessments if roles[a.name] == "secondary"]
    adjusted = dict(
        zip((a.name for a in secondary), holm_adjust([a.p_worse for a in secondary]), strict=True)
    )
    for a in assessments:
        p = adjusted.get(a.name, a.p_worse)
        if p <= rule.alpha and a.current - a.baseline < rule.threshold - 1e-12:
            return True
    return False


def section_small_ni() -> None:
    print("## 5. Non-inferiority at small n, exact false pass (true drop = margin 0.05)\n")
    print(
        "| n | rho 0.5, uncorrected (previous) | rho 0.5, correction 0.5 (now) "
        "| rho 0, now | rho 0.8, now |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n in (20, 30, 35, 50, 80, 100, 200, 500):
        old = exact(n, 0.05, 0.5, "non_inferiority", correction=0.0)
        row = [exact(n, 0.05, rho, "non_inferiority") for rho in (0.5, 0.0, 0.8)]
        print(f"| {n} | {old:.4f} | {row[0]:.4f} | {row[1]:.4f} | {row[2]:.4f} |")
    print()


def section_clustered(reps: int, rng: np.random.Generator) -> None:
    print(f"## 6. Clustered items, ICC 0.3, no true change ({reps} Monte Carlo draws)\n")
    print(
        "Model: each item discordant with probability 0.5; within cluster k a discordant "
        "item flips to right with probability pi_k ~ Beta(a, a), a = (0.5/0.3 - 1)/2.\n"
    )
    print(
        "| clusters x size | naive false BLOCK | cluster-robust false BLOCK | mean design effect |"
    )
    print("|---|---:|---:|---:|")
    for k, m in ((20, 10), (30, 20), (50, 10), (100, 5)):
        a = (0.5 / 0.3 - 1.0) / 2.0
        share = rng.beta(a, a, size=(reps, k, 1))
        d = np.where(
            rng.random((reps, k, m)) < 0.5,
            np.where(rng.random((reps, k, m)) < share, 1.0, -1.0),
            0.0,
        )
        sums = d.sum(axis=2)
        n = k * m
        factor = k / (k - 1)
        z = sums.sum(axis=1) / np.sqrt(factor * (sums**2).sum(axis=1))
        bound = n / math.sqrt(factor * k * m * m)
        p = np.maximum(stats.t.cdf(z, k - 1), stats.t.sf(bound, k - 1))
        drop = sums.sum(axis=1) / n < -0.05 - 1e-12
        b, c = (d == 1).sum(axis=(1, 2)), (d == -1).sum(axis=(1, 2))
        zn = np.sign(b - c) * np.maximum(0, np.abs(b - c) - 0.5) / np.sqrt(np.maximum(b + c, 1))
        naive = float(((special.ndtr(zn) <= ALPHA) & drop).mean())
        robust = float(((p <= ALPHA) & drop).mean())
        est = sums.sum(axis=1, keepdims=True) / n
        iid = n / (n - 1) * ((b + c) - n * est[:, 0] ** 2)
        de = factor * ((sums - m * est) ** 2).sum(axis=1) / np.maximum(iid, 1e-12)
        print(f"| {k} x {m} | {naive:.4f} | {robust:.4f} | {float(de.mean()):.2f} |")
    print()


def _anytime_pass(n: int, rho: float, attempt: int) -> float:
    psi = discordance(BASE, BASE - 0.05, rho)
    b, c, prob = trinomial_support(n, (psi - 0.05) / 2, (psi + 0.05) / 2)
    a = attempt_alpha(ALPHA, attempt)
    total = 0.0
    for bi, ci, pi in zip(b, c, prob, strict=True):
        if pi < 1e-10:
            continue
        process = BettingProcess.from_counts(int(bi), int(ci), n, rng=np.random.default_rng(1))
        if process.p_value(delta=-0.05, worse="greater", a=a) <= a:
            total += float(pi)
    return total


def section_attempts() -> None:
    print(
        "## 7. Re-running until green (non-inferiority, true drop = margin, rho 0.5, exact per "
        "attempt, attempts with fresh independent draws)\n"
    )
    print(
        "| n | attempts | P(ever DEPLOY), fixed-n | P(ever DEPLOY), anytime-valid "
        "| union bound, anytime |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n in (100, 500):
        fixed = exact(n, 0.05, 0.5, "non_inferiority")
        per_attempt = [_anytime_pass(n, 0.5, k) for k in range(1, 6)]
        for k in (1, 2, 5):
            never_fixed = (1 - fixed) ** k
            never_any = float(np.prod([1 - p for p in per_attempt[:k]]))
            print(
                f"| {n} | {k} | {1 - never_fixed:.4f} | {1 - never_any:.4f} "
                f"| {sum(per_attempt[:k]):.4f} |"
            )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=4000, help="Monte Carlo draws per cell")
    parser.add_argument("--seed", type=int, default=20240601, help="numpy seed")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    print(
        f"# regression rule: operating characteristics (alpha {ALPHA} one-sided, threshold "
        f"-0.05, margin 0.05, seed {args.seed})\n"
    )
    section_paired()
    section_planning()
    section_flat()
    section_family(min(args.reps, 2000), rng)
    section_small_ni()
    section_clustered(args.reps * 5, rng)
    section_attempts()
    print(f"(computed in {time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
