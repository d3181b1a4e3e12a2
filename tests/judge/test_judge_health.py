"""Judge health: the perturbation check, stored calibration, same-family warning, policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from judge_support import judge_config, make_examples, right_outputs

from releasegate.config.judge import Criterion, JudgeConfig, JudgeHealthConfig
from releasegate.enums import Bound, GateType
from releasegate.errors import InputError
from releasegate.judge.calibration import confusion_matrix, load_calibration, run_judge_check
from releasegate.judge.calibration_store import entry_from_report, load_store, lookup, record
from releasegate.judge.family import family_of, same_family_warning
from releasegate.judge.health import HEALTH_GATE, apply_health, assess_health
from releasegate.judge.jury import run_judge
from releasegate.judge.perturbation import perturbation_size
from releasegate.judge.stage import FLIP_METRIC, run_judge_stage
from releasegate.records.core import GateResult
from releasegate.records.judge import JudgeHealth, PerturbationResult
from releasegate.testing.fake_llm_server import (
    FakeLLMServer,
    Verdict,
    fenced_sections,
    order_sensitive_verdict,
    reference_verdict,
)

CALIBRATION = Path(__file__).parents[2] / "examples" / "task-api" / "judge_calibration.jsonl"
TINY_V1 = Path(__file__).parents[2] / "examples" / "task-api" / "models" / "tiny-v1"


def test_perturbation_sample_size() -> None:
    policy = JudgeHealthConfig()  # 10 items or 10%, at least 3
    assert perturbation_size(200, policy) == 10
    assert perturbation_size(50, policy) == 5
    assert perturbation_size(10, policy) == 3
    assert perturbation_size(2, policy) == 2
    assert perturbation_size(0, policy) == 0
    assert perturbation_size(100, JudgeHealthConfig(perturbation_items=0)) == 0


def test_a_stable_judge_does_not_flip(server: FakeLLMServer, tmp_path: Path) -> None:
    examples = make_examples(40)
    out = run_judge_stage(
        examples=examples,
        outputs=right_outputs(examples),
        config=judge_config(server),
        seed=3,
        cache_path=tmp_path / "c.sqlite",
        perturbation=True,
    )
    p = out.perturbation
    assert p is not None and p.status == "done"
    assert len(p.item_ids) == 3 and set(p.item_ids) <= set(out.sample_ids)
    assert (p.compared, p.flipped, p.flip_rate) == (9, 0, 0.0)
    assert out.metrics[FLIP_METRIC].value == 0.0 and out.metrics[FLIP_METRIC].n == 9
    # 10 judged + 3 perturbed calls; the perturbed prompt is relabelled and reordered.
    assert len(server.requests) == 13
    perturbed = [
        r
        for r in server.requests
        if "<<<BEGIN_RESPONSE_" in str(r.body["messages"][-1])  # type: ignore[index]
    ]
    assert len(perturbed) == 3
    user = str(perturbed[0].body["messages"][-1]["content"])  # type: ignore[index]
    assert user.index("BEGIN_RESPONSE") < user.index("BEGIN_EXPECTED")
    assert set(fenced_sections(user)) == {"INPUT", "REFERENCE", "OUTPUT"}
    # The perturbation calls count toward the spend.
    assert out.spent_usd == pytest.approx(sum(i.cost_usd for i in out.items) + p.spent_usd)
    assert p.spent_usd > 0


def test_an_order_sensitive_judge_is_caught(server: FakeLLMServer, tmp_path: Path) -> None:
    server.set_verdict(order_sensitive_verdict)
    examples = make_examples(40)
    cache = tmp_path / "c.sqlite"
    config = judge_config(server)
    out = run_judge_stage(
        examples=examples,
        outputs=right_outputs(examples),
        config=config,
        seed=3,
        cache_path=cache,
        perturbation=True,
    )
    # Canonical order accuracy, helpfulness, format_quality: 5, 4, 4; reversed: 4, 4, 5.
    # accuracy and format_quality flip on every item: 2 of 3 verdicts.
    p = out.perturbation
    assert p is not None and p.flipped == 6 and p.compared == 9
    assert p.flip_rate == pytest.approx(2 / 3)
    assert sorted(p.flipped_items) == sorted(p.item_ids)
    health = assess_health(out, config, store=tmp_path / "none.json", same_family=None)
    # Measured unhealthy (the flips) outranks unknown (no calibration stored).
    assert health.status == "unhealthy"
    assert any("flip rate 0.67" in reason for reason in health.reasons)
    # A second run is served from the cache, the perturbed prompts included.
    server.reset_counters()
    again = run_judge_stage(
        examples=examples,
        outputs=right_outputs(examples),
        config=config,
        seed=3,
        cache_path=cache,
        perturbation=True,
    )
    assert len(server.requests) == 0
    assert again.perturbation is not None and again.perturbation.cache_hits == 3
    assert again.perturbation.flip_rate == pytest.approx(2 / 3)


def test_a_budget_that_cannot_cover_the_check_makes_health_unknown(
    server: FakeLLMServer, tmp_path: Path
) -> None:
    examples = make_examples(40)
    cache = tmp_path / "c.sqlite"
    run_judge_stage(  # fills the cache for the main sample only
        examples=examples,
        outputs=right_outputs(examples),
        config=judge_config(server),
        seed=3,
        cache_path=cache,
    )
    server.reset_counters()
    broke = judge_config(server, budget_usd=0.0)
    out = run_judge_stage(
        examples=examples,
        outputs=right_outputs(examples),
        config=broke,
        seed=3,
        cache_path=cache,
        perturbation=True,
    )
    assert out.status == "success" and len(server.requests) == 0  # budget never exceeded
    assert out.perturbation is not None and out.perturbation.status == "unknown"
    assert "budget cannot cover the perturbation check" in (out.perturbation.note or "")
    assert FLIP_METRIC not in out.metrics
    health = assess_health(out, broke, store=tmp_path / "none.json", same_family=None)
    assert health.status == "unknown"


def test_confusion_matrix_by_hand() -> None:
    m = confusion_matrix([(5, 5), (5, 4), (1, 1), (3, 5)])
    assert m[4] == [0, 0, 0, 1, 1] and m[0] == [1, 0, 0, 0, 0] and m[2] == [0, 0, 0, 0, 1]
    assert sum(map(sum, m)) == 4


def test_calibration_is_stored_by_config_hash(server: FakeLLMServer, tmp_path: Path) -> None:
    config = judge_config(server)
    report = run_judge_check(config=config, calibration=load_calibration(CALIBRATION))
    store = tmp_path / "store" / "judge_calibration.json"
    entry = entry_from_report(
        report, provider=config.provider, model=config.model, calibration_file=CALIBRATION
    )
    record(store, entry)
    found = lookup(store, config.config_hash())
    assert found is not None and found.n_judged == 25
    accuracy = next(c for c in found.criteria if c.criterion == "accuracy")
    assert sum(map(sum, accuracy.confusion)) == accuracy.n == 25
    assert found.min_kappa_quadratic == min(c.kappa_quadratic or 0 for c in found.criteria)
    assert not list(store.parent.glob(".*.tmp"))  # written atomically
    # A changed rubric is another hash: no calibration for it.
    changed = config.model_copy(
        update={
            "criteria": (
                Criterion(
                    name="accuracy",
                    description="Is it right?",
                    anchors={i: f"level {i}" for i in range(1, 6)},
                ),
            )
        }
    )
    assert changed.config_hash() != config.config_hash()
    assert lookup(store, changed.config_hash()) is None
    policy = changed.model_copy(
        update={"health": JudgeHealthConfig(require_calibration=True, perturbation_items=0)}
    )
    out = run_judge_stage(
        examples=make_examples(12), outputs={}, config=policy, seed=0, cache_path=None
    )
    health = assess_health(out, policy, store=store, same_family=None)
    assert health.status == "unknown" and "no stored calibration" in health.reasons[0]
    # The stored one is read back and judged against min_kappa.
    strict = config.model_copy(update={"health": JudgeHealthConfig(min_kappa=0.99)})
    out = out.model_copy(update={"config_hash": config.config_hash()})
    graded = assess_health(out, strict, store=store, same_family=None)
    assert graded.calibration is not None and graded.calibration.n_judged == 25
    assert graded.status == "unhealthy" and "below min_kappa 0.99" in graded.reasons[0]
    assert len(load_store(store).entries) == 1


def test_a_corrupt_store_is_an_error_naming_it(tmp_path: Path) -> None:
    store = tmp_path / "judge_calibration.json"
    store.write_text(json.dumps({"kind": "something else"}), encoding="utf-8")
    with pytest.raises(InputError, match="judge_calibration.json"):
        lookup(store, "sha256:x")


def test_model_families() -> None:
    assert family_of("gpt-4o-mini") == "openai"
    assert family_of("meta-llama/Llama-3.1-8B-Instruct") == "llama"
    assert family_of("LlamaForCausalLM") == "llama"
    assert family_of("claude-3-5-haiku") == "anthropic"
    assert family_of("tiny-judge") is None
    # The committed tiny model is a llama (config.json model_type).
    warning = same_family_warning(
        provider="openai", model="llama-3.1-70b", base_url="http://x", candidate_ref=str(TINY_V1)
    )
    assert warning is not None and "llama" in warning and "model_type" not in warning
    assert "config.json 'llama'" in warning
    served = same_family_warning(
        provider="openai",
        model="gpt-4o-mini",
        base_url=None,
        candidate_ref="https://api.openai.com/v1",
        candidate_hints=["gpt-4.1-nano-ft"],
    )
    assert served is not None and "openai" in served
    assert (
        same_family_warning(
            provider="openai", model="gpt-4o-mini", base_url=None, candidate_ref=str(TINY_V1)
        )
        is None
    )


def _gate(name: str, metric: str, gate_type: GateType = GateType.BLOCKING) -> GateResult:
    return GateResult(
        name=name,
        metric=metric,
        value=4.0,
        point=4.0,
        threshold=3.0,
        comparison=None,
        rule=">= 3",
        gate_type=gate_type,
        bound=Bound.POINT,
        passed=True,
        explanation=f"{metric} = 4.000 is >= 3: passed",
    )


def _health(status: str, policy: str = "warn") -> JudgeHealth:
    return JudgeHealth(
        status=status,  # type: ignore[arg-type]
        reasons=[] if status == "healthy" else ["perturbation flip rate 0.67 is above 0.2"],
        policy=policy,  # type: ignore[arg-type]
        perturbation=PerturbationResult(status="done", flip_rate=0.67),
    )


def test_policy_downgrades_or_blocks_only_judge_gates() -> None:
    names = {"judge_overall", "judge_accuracy", FLIP_METRIC}
    gates = [
        _gate("acc", "accuracy"),
        _gate("judged", "judge_overall"),
        _gate("regression:judge_accuracy", "judge_accuracy"),
        _gate("stable", FLIP_METRIC),
    ]
    same, notes = apply_health(gates, _health("healthy"), names)
    assert same == gates and notes == []
    warned, notes = apply_health(gates, _health("unhealthy"), names)
    by_name = {g.name: g for g in warned}
    assert by_name["acc"].gate_type is GateType.BLOCKING and by_name["acc"].downgraded_from is None
    for name in ("judged", "regression:judge_accuracy"):
        assert by_name[name].gate_type is GateType.WARNING
        assert by_name[name].downgraded_from is GateType.BLOCKING
        assert "flip rate" in (by_name[name].downgrade_reason or "")
    assert by_name["stable"].gate_type is GateType.BLOCKING  # the health metric itself
    assert len(notes) == 1 and notes[0].startswith("JUDGE NOT TRUSTED")
    blocked, notes = apply_health(gates, _health("unknown", "block"), names)
    extra = [g for g in blocked if g.name == HEALTH_GATE]
    assert len(extra) == 1 and not extra[0].passed and extra[0].gate_type is GateType.BLOCKING
    assert "BLOCKs" in notes[0]
    none, notes = apply_health([gates[0]], _health("unhealthy", "block"), names)
    assert none == [gates[0]] and "no gate reads a judge metric" in notes[0]


def _fmt_always_5(system: str, user: str) -> Verdict:
    verdict = reference_verdict(system, user)
    assert isinstance(verdict, dict) and isinstance(verdict["scores"], dict)
    return {**verdict, "scores": {**verdict["scores"], "format_quality": 5}}


def _all_4(system: str, user: str) -> Verdict:
    verdict = reference_verdict(system, user)
    assert isinstance(verdict, dict) and isinstance(verdict["scores"], dict)
    return {**verdict, "scores": dict.fromkeys(verdict["scores"], 4)}


def test_jury_median_and_disagreement_by_hand(tmp_path: Path) -> None:
    examples = make_examples(10)
    outputs = right_outputs(examples)
    wrong = {e.id for e in examples[:4]}
    outputs.update(dict.fromkeys(wrong, '{"action": "nothing"}'))
    with (
        FakeLLMServer() as a,
        FakeLLMServer(verdict=_fmt_always_5) as b,
        FakeLLMServer(verdict=_all_4) as c,
    ):
        jurors = [
            {"provider": "openai", "model": "juror-b", "base_url": b.openai_base_url},
            {"provider": "openai", "model": "juror-c", "base_url": c.openai_base_url},
        ]
        single = judge_config(a, budget_usd=0.9)
        config = judge_config(a, budget_usd=0.9, jury=jurors)
        out = run_judge(examples=examples, outputs=outputs, config=config, seed=0, cache_path=None)
        assert len(a.requests) == len(b.requests) == len(c.requests) == 10
    assert out.status == "success" and out.config_hash == config.config_hash()
    assert config.config_hash() != single.config_hash()
    by_id = {it.id: it.scores for it in out.items}
    # Right outputs: A 5/5/5, B 5/5/5, C 4/4/4 -> median 5. Wrong: A 2/2/2, B 2/2/5, C 4/4/4
    # -> accuracy and helpfulness median 2, format_quality median(2, 5, 4) = 4.
    for ex in examples:
        want = (
            {"accuracy": 2, "helpfulness": 2, "format_quality": 4}
            if ex.id in wrong
            else (dict.fromkeys(("accuracy", "helpfulness", "format_quality"), 5))
        )
        assert by_id[ex.id] == want
    # C disagrees on every item, so every criterion disagrees everywhere.
    assert out.jury is not None and out.jury.compared == 10
    assert out.jury.disagreement == dict.fromkeys(
        ("accuracy", "helpfulness", "format_quality"), 1.0
    )
    assert out.metrics["judge_jury_disagreement_rate"].value == 1.0
    assert out.spent_usd == pytest.approx(sum(out.jury.spent_usd)) and out.spent_usd <= 0.9
    assert all(s <= 0.3 + 1e-12 for s in out.jury.spent_usd)  # an equal share each


def test_jury_of_two_takes_the_lower_middle(tmp_path: Path) -> None:
    examples = make_examples(10)
    outputs = right_outputs(examples)
    wrong = {e.id for e in examples[:4]}
    outputs.update(dict.fromkeys(wrong, '{"action": "nothing"}'))
    with FakeLLMServer() as a, FakeLLMServer(verdict=_fmt_always_5) as b:
        juror = {"provider": "openai", "model": "juror-b", "base_url": b.openai_base_url}
        config = judge_config(a, jury=[juror])
        out = run_judge(examples=examples, outputs=outputs, config=config, seed=0, cache_path=None)
    fmt = {it.id: (it.scores or {})["format_quality"] for it in out.items}
    assert all(fmt[i] == (2 if i in wrong else 5) for i in fmt)  # median_low(2, 5) = 2
    assert out.jury is not None
    # Only format_quality on the 4 wrong outputs differs: 0.4, 0, 0 -> mean 0.4 / 3.
    assert out.jury.disagreement == {"accuracy": 0.0, "helpfulness": 0.0, "format_quality": 0.4}
    assert out.metrics["judge_jury_disagreement_rate"].value == pytest.approx(0.4 / 3)


def test_a_juror_without_its_key_skips_the_jury(
    server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RG_TEST_JUROR_KEY", raising=False)
    juror = {
        "provider": "openai",
        "model": "juror-b",
        "base_url": server.openai_base_url,
        "api_key_env": "RG_TEST_JUROR_KEY",
    }
    examples = make_examples(10)
    out = run_judge(
        examples=examples,
        outputs=right_outputs(examples),
        config=judge_config(server, jury=[juror]),
        seed=0,
        cache_path=None,
    )
    assert out.status == "skipped" and "(juror juror-b)" in (out.skip_reason or "")
    assert len(server.requests) == 0


def test_a_single_judge_keeps_its_config_hash() -> None:
    # The health, store, re-judge and (empty) jury settings are not score settings:
    # baselines and caches from before them still compare and hit.
    plain = JudgeConfig(provider="openai", model="gpt-4o-mini")
    assert plain.config_hash() == "sha256:35e56b509be46b85"
    tuned = plain.model_copy(
        update={"health": JudgeHealthConfig(on_unhealthy="block"), "rejudge_baseline": False}
    )
    assert tuned.config_hash() == plain.config_hash()
