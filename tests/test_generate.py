"""The generation runner: batching, the one-output-per-prompt contract, size caps."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.errors import BackendError
from releasegate.generate import run_generation


class FakeBackend:
    """Answers with ``fn(prompt)``; records the batches it was given."""

    name = "fake"

    def __init__(self, fn: Callable[[Sequence[Prompt]], list[Generation]]) -> None:
        self.fn = fn
        self.batches: list[list[str]] = []

    def info(self) -> ModelInfo:
        return ModelInfo(backend="fake", ref="fake", fingerprint="none")

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        self.batches.append([p.sample_id for p in prompts])
        return self.fn(prompts)


def _echo(prompts: Sequence[Prompt]) -> list[Generation]:
    return [Generation(sample_id=p.sample_id, text=str(p.input)) for p in prompts]


PROMPTS = [Prompt(sample_id=f"p{i}", input="x" * (i % 7 + 1)) for i in range(10)]


def test_batches_are_length_sorted_across_all_prompts_and_joined_on_id() -> None:
    backend = FakeBackend(_echo)
    out, _ = run_generation(
        backend, PROMPTS, params=GenerationParams(batch_size=4), max_output_chars=100
    )
    assert [len(b) for b in backend.batches] == [4, 4, 2]
    lengths = [len(out[i].text or "") for batch in backend.batches for i in batch]
    assert lengths == sorted(lengths, reverse=True)
    assert all(out[p.sample_id].text == p.input for p in PROMPTS)
    assert all(g.latency_s is not None for g in out.values())


def test_outputs_longer_than_the_cap_are_truncated_and_marked() -> None:
    backend = FakeBackend(lambda ps: [Generation(sample_id=p.sample_id, text="y" * 50) for p in ps])
    out, _ = run_generation(backend, PROMPTS[:2], params=GenerationParams(), max_output_chars=10)
    assert out["p0"].text == "y" * 10
    assert out["p0"].finish_reason == "truncated_by_releasegate"


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda ps: _echo(ps)[:-1], "returned 1 outputs for 2 prompts"),
        (lambda ps: list(reversed(_echo(ps))), "out of order"),
        (lambda ps: [Generation(sample_id=p.sample_id, text=None) for p in ps], "exactly one"),
        (
            lambda ps: [Generation(sample_id=p.sample_id, text="a", error="b") for p in ps],
            "exactly one",
        ),
    ],
)
def test_a_backend_that_breaks_the_contract_is_an_error(
    fn: Callable[[Sequence[Prompt]], list[Generation]], message: str
) -> None:
    with pytest.raises(BackendError, match=message):
        run_generation(
            FakeBackend(fn), PROMPTS[:2], params=GenerationParams(), max_output_chars=100
        )


def test_failures_are_typed_not_empty_text() -> None:
    backend = FakeBackend(
        lambda ps: [Generation(sample_id=p.sample_id, text=None, error="boom") for p in ps]
    )
    out, _ = run_generation(backend, PROMPTS[:3], params=GenerationParams(), max_output_chars=9)
    assert all(g.text is None and g.error == "boom" for g in out.values())
