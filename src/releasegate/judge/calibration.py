"""Know your judge: run it on a labelled calibration set and report agreement.

A calibration file is JSONL, one item per line: ``id``, ``input``,
``expected_output``, ``output``, ``labels`` ({criterion: 1..5}), optional
``category``, ``kind`` (right, subtly_wrong, badly_formatted, verbose_right,
injected) and ``injected`` (bool). Agreement per criterion: exact accuracy,
within-one accuracy, Cohen's kappa (unweighted and quadratic-weighted, on the
fixed labels 1..5), and for injected items how many the heuristics flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from releasegate.benchmark.model import Example
from releasegate.config.judge import JudgeConfig
from releasegate.errors import InputError
from releasegate.input_files import jsonl_lines, loads_json, read_text_capped
from releasegate.judge.jury import run_judge

SCALE = (1, 2, 3, 4, 5)


class CalibrationItem(BaseModel):
    """One labelled calibration item."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    input: str
    expected_output: str
    output: str
    labels: dict[str, int]
    """Criterion -> the score a careful human gives (1..5)."""
    category: str = "uncategorized"
    kind: str = "unspecified"
    injected: bool = False
    """The output tries to instruct the judge (the heuristics should flag it)."""

    @field_validator("labels")
    @classmethod
    def _on_scale(cls, value: dict[str, int]) -> dict[str, int]:
        bad = {k: v for k, v in value.items() if v not in SCALE}
        if bad:
            raise ValueError(f"labels must be integers 1..5, got {bad}")
        return value


def load_calibration(path: Path) -> list[CalibrationItem]:
    """Read a calibration JSONL file; errors name the file and line."""
    text = read_text_capped(path, what="calibration file", error=InputError)
    items: list[CalibrationItem] = []
    for number, line in jsonl_lines(text):
        if not line.strip():
            continue
        record = loads_json(line, where=f"{path}:{number}", error=InputError)
        try:
            items.append(CalibrationItem.model_validate(record))
        except ValidationError as exc:
            first = str(exc).splitlines()[0]
            raise InputError(f"{path}:{number}: invalid calibration item: {first}") from exc
    if not items:
        raise InputError(f"{path}: calibration file is empty")
    if len({it.id for it in items}) != len(items):
        raise InputError(f"{path}: duplicate ids in calibration file")
    return items


def cohen_kappa(
    a: Sequence[int],
    b: Sequence[int],
    *,
    labels: Sequence[int] = SCALE,
    weights: Literal["linear", "quadratic"] | None = None,
) -> float | None:
    """Cohen's kappa of two raters over ``labels`` (as sklearn's ``cohen_kappa_score``).

    Weighted variants use the distance between label positions. Returns None when
    chance agreement is total (both raters constant and equal): kappa is undefined.
    """
    if len(a) != len(b) or not a:
        raise ValueError("kappa needs two non-empty rating lists of equal length")
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted({x for x in (*a, *b) if x not in index})
    if unknown:
        raise ValueError(f"ratings {unknown} are not among the labels {list(labels)}")
    k, n = len(labels), len(a)
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        observed[index[x]][index[y]] += 1 / n
    rows = [sum(observed[i]) for i in range(k)]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]

    def weight(i: int, j: int) -> float:
        if weights == "linear":
            return abs(i - j)
        if weights == "quadratic":
            return (i - j) ** 2
        return 0.0 if i == j else 1.0

    disagree = sum(weight(i, j) * observed[i][j] for i in range(k) for j in range(k))
    chance = sum(weight(i, j) * rows[i] * cols[j] for i in range(k) for j in range(k))
    if chance == 0:
        return None
    return 1 - disagree / chance


class CriterionAgreement(BaseModel):
    """Agreement of the judge with the labels on one criterion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion: str
    n: int
    """Items with both a label and a verdict."""
    accuracy: float | None
    """Share of exact matches."""
    within_one: float | None
    """Share within one point."""
    kappa: float | None
    """Cohen's kappa (unweighted); None when undefined or n = 0."""
    kappa_quadratic: float | None
    """Quadratic-weighted kappa (ordinal agreement)."""
    confusion: list[list[int]] = Field(default_factory=list)
    """Counts: row = the human label 1..5, column = the judge's score 1..5."""


class JudgeCheckReport(BaseModel):
    """The outcome of ``judge-check``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: str
    """The judge run's status (success / skipped / failed)."""
    config_hash: str = ""
    """The judge configuration hash the agreement belongs to."""
    n_items: int
    n_judged: int
    criteria: list[CriterionAgreement] = Field(default_factory=list)
    injected_items: int = 0
    injected_flagged: int = 0
    """Injected items the heuristics flagged (recall numerator)."""
    clean_flagged: int = 0
    """Items without injection that were flagged anyway (false alarms)."""
    spent_usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    price_known: bool = False
    notes: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


def _agreement(name: str, pairs: list[tuple[int, int]]) -> CriterionAgreement:
    if not pairs:
        return CriterionAgreement(
            criterion=name, n=0, accuracy=None, within_one=None, kappa=None, kappa_quadratic=None
        )
    human, judge = [p[0] for p in pairs], [p[1] for p in pairs]
    return CriterionAgreement(
        criterion=name,
        n=len(pairs),
        accuracy=sum(h == j for h, j in pairs) / len(pairs),
        within_one=sum(abs(h - j) <= 1 for h, j in pairs) / len(pairs),
        kappa=cohen_kappa(human, judge),
        kappa_quadratic=cohen_kappa(human, judge, weights="quadratic"),
        confusion=confusion_matrix(pairs),
    )


def confusion_matrix(pairs: Sequence[tuple[int, int]]) -> list[list[int]]:
    """5x5 counts of (human label, judge score) on the scale 1..5."""
    matrix = [[0] * len(SCALE) for _ in SCALE]
    for human, judge in pairs:
        matrix[human - 1][judge - 1] += 1
    return matrix


def run_judge_check(
    *,
    config: JudgeConfig,
    calibration: Sequence[CalibrationItem],
    seed: int = 0,
    cache_path: Path | None = None,
) -> JudgeCheckReport:
    """Judge every calibration item with ``config`` and measure agreement with the labels.

    The sample settings are overridden to judge all items; the budget, cache,
    retries and coverage policy apply as configured.
    """
    cfg = config.model_copy(
        update={"sample_rate": 1.0, "min_samples": len(calibration), "max_samples": None}
    )
    examples = [
        Example(id=it.id, input=it.input, expected_output=it.expected_output, category=it.category)
        for it in calibration
    ]
    outputs: dict[str, str | None] = {it.id: it.output for it in calibration}
    outcome = run_judge(
        examples=examples, outputs=outputs, config=cfg, seed=seed, cache_path=cache_path
    )
    by_id = {it.id: it for it in outcome.items}
    criteria = []
    for crit in cfg.criteria:
        pairs = [
            (item.labels[crit.name], scores[crit.name])
            for item in calibration
            if crit.name in item.labels
            and (scores := by_id[item.id].scores if item.id in by_id else None) is not None
        ]
        criteria.append(_agreement(crit.name, pairs))
    flagged = {it.id for it in outcome.items if it.injection_flagged}
    return JudgeCheckReport(
        status=outcome.status,
        config_hash=config.config_hash(),
        n_items=len(calibration),
        n_judged=sum(it.scores is not None for it in outcome.items),
        criteria=criteria,
        injected_items=sum(it.injected for it in calibration),
        injected_flagged=sum(it.injected and it.id in flagged for it in calibration),
        clean_flagged=sum(not it.injected and it.id in flagged for it in calibration),
        spent_usd=outcome.spent_usd,
        tokens_in=outcome.tokens_in,
        tokens_out=outcome.tokens_out,
        price_known=outcome.price_known,
        notes=list(outcome.notes) + ([outcome.skip_reason] if outcome.skip_reason else []),
        errors=list(outcome.errors),
    )
