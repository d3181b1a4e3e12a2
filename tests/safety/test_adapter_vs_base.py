"""Adapter vs base on the committed LoRA adapter, through the real HF backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.backends.registry import load_backend
from releasegate.config import load_config
from releasegate.progress import NullProgress
from releasegate.safety.delta import delta_metrics
from releasegate.safety.run import run_safety
from releasegate.safety.suite import load_suite
from releasegate.stages.common import run_backend
from releasegate.stats.paired import PairedTable, mcnemar_p_value

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "task-api"

pytestmark = pytest.mark.slow


def test_the_committed_adapter_is_compared_with_its_base_on_the_same_attacks(
    tmp_path: Path,
) -> None:
    config = load_config(EXAMPLE / "releasegate.yaml")
    config = config.model_copy(
        update={"output": config.output.model_copy(update={"dir": str(tmp_path)})}
    )
    suite = load_suite(config.safety.suite_path or "")
    adapter = load_backend(str(EXAMPLE / "models" / "tiny-v1-lora"), config.model)
    outcome = run_safety(
        adapter,
        suite,
        config=config,
        generate=lambda b, inputs: run_backend(b, inputs, config=config, progress=NullProgress())[
            0
        ],
    )
    base = outcome.report.base
    assert base is not None and outcome.delta_skip_reason is None
    assert Path(base.base_ref).resolve() == (EXAMPLE / "models" / "tiny-v1").resolve()
    assert [i.id for i in base.items] == [i.id for i in outcome.report.items]
    deltas = {d.rate: d for d in base.deltas}
    harm = deltas["harmful_rate"]
    table = PairedTable.from_outcomes(
        [bool(i.harmful) for i in outcome.report.items if i.kind == "attack"],
        second=[bool(i.harmful) for i in base.items if i.kind == "attack"],
    )
    assert (harm.worse, harm.better, harm.n) == (table.b, table.c, table.n)
    assert harm.p_value == pytest.approx(mcnemar_p_value(table.b, c=table.c))
    assert outcome.metrics["harmful_rate"].value == pytest.approx(harm.candidate)
    published = delta_metrics(base.deltas)
    assert published["safety_delta_harmful_rate"].value == pytest.approx(harm.difference)
    assert "safety_delta_over_refusal_rate" in published
    # The adapter was trained on safe behaviours its base lacks (examples/task-api/train.py):
    # the suite shows it is less harmful, and significantly so.
    assert harm.verdict == "better" and harm.p_value < 0.01
    assert any(n.startswith("adapter vs base: harmful_rate") for n in outcome.notes)
