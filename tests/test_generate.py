"""The generation runner: batching, the one-output-per-prompt contract, size caps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.errors import BackendError
from releasegate.generate import run_generation
from releasegate.stages.common import draw_seed
from releasegate.store.generation_cache import GenerationCache, generation_key


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


class CountingBackend(FakeBackend):
    """Cacheable fake: its outputs are a function of its (pretend) content hash."""

    def __init__(self, *, fail_after: int | None = None) -> None:
        super().__init__(_echo)
        self.generated = 0
        self.fail_after = fail_after

    def info(self) -> ModelInfo:
        return ModelInfo(backend="fake", ref="fake", fingerprint="sha256:abc", cacheable=True)

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        if self.fail_after is not None and self.generated >= self.fail_after:
            raise KeyboardInterrupt
        self.generated += len(prompts)
        return super().generate(prompts, params)


def test_a_rerun_is_served_from_the_cache(tmp_path: Path) -> None:
    params = GenerationParams(batch_size=4)
    first = CountingBackend()
    cache = GenerationCache(tmp_path / "g.sqlite")
    out1, _ = run_generation(first, PROMPTS, params=params, max_output_chars=100, cache=cache)
    again = CountingBackend()
    out2, _ = run_generation(again, PROMPTS, params=params, max_output_chars=100, cache=cache)
    cache.close()
    assert first.generated == 10 and again.generated == 0
    assert {k: g.text for k, g in out1.items()} == {k: g.text for k, g in out2.items()}
    assert all(g.cached for g in out2.values()) and not any(g.cached for g in out1.values())


def test_changed_settings_miss_the_cache(tmp_path: Path) -> None:
    cache = GenerationCache(tmp_path / "g.sqlite")
    run_generation(
        CountingBackend(), PROMPTS, params=GenerationParams(), max_output_chars=9, cache=cache
    )
    other = CountingBackend()
    run_generation(
        other, PROMPTS, params=GenerationParams(max_new_tokens=7), max_output_chars=9, cache=cache
    )
    cache.close()
    assert other.generated == 10


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    cache = GenerationCache(tmp_path / "g.sqlite")
    params = GenerationParams(batch_size=4)
    with pytest.raises(KeyboardInterrupt):
        run_generation(
            CountingBackend(fail_after=8), PROMPTS, params=params, max_output_chars=100, cache=cache
        )
    resumed = CountingBackend()
    out, _ = run_generation(resumed, PROMPTS, params=params, max_output_chars=100, cache=cache)
    cache.close()
    assert resumed.generated == 2 and len(out) == 10


def test_non_cacheable_backends_are_never_cached(tmp_path: Path) -> None:
    cache = GenerationCache(tmp_path / "g.sqlite")
    for _ in range(2):
        backend = FakeBackend(_echo)
        run_generation(backend, PROMPTS, params=GenerationParams(), max_output_chars=9, cache=cache)
        assert len(backend.batches) == 1
    cache.close()


def test_errors_are_not_cached(tmp_path: Path) -> None:
    cache = GenerationCache(tmp_path / "g.sqlite")
    failing = CountingBackend()
    failing.fn = lambda ps: [Generation(sample_id=p.sample_id, text=None, error="x") for p in ps]
    run_generation(failing, PROMPTS, params=GenerationParams(), max_output_chars=9, cache=cache)
    retry = CountingBackend()
    run_generation(retry, PROMPTS, params=GenerationParams(), max_output_chars=9, cache=cache)
    cache.close()
    assert retry.generated == 10


def test_outputs_that_echo_a_credential_are_never_cached(tmp_path: Path) -> None:
    secret = "sk-test-0123456789abcdef"
    cache = GenerationCache(tmp_path / "g.sqlite", secrets=[secret])
    leaky = Generation(sample_id="a", text=f'{{"action": "note", "text": "{secret}"}}')
    clean = Generation(sample_id="b", text='{"action": "list_tasks"}')
    cache.put_many([("k-leaky", leaky), ("k-clean", clean)])
    assert cache.get("k-leaky", sample_id="a") is None
    hit = cache.get("k-clean", sample_id="b")
    cache.close()
    assert hit is not None and hit.text == clean.text
    assert secret.encode() not in (tmp_path / "g.sqlite").read_bytes()


# ---- repeats: one cache entry per draw -------------------------------------------
_HF_INFO = ModelInfo(
    backend="hf", ref="x", fingerprint="sha256:abc", details={"dtype": "float32"}, cacheable=True
)


def test_draw_zero_keeps_the_key_old_caches_were_written_under() -> None:
    # The digest a release without generation.repeats computed for this prompt.
    params = GenerationParams(temperature=0.8, seed=1234)
    key = generation_key(_HF_INFO, Prompt(sample_id="a", input="hello"), params)
    assert key == "ba35d4c91b2313b91bd43b0666d096c44d3f409472eee59db675e8f5eca9b395"


def test_every_draw_has_its_own_key_and_seed() -> None:
    prompt = Prompt(sample_id="a", input="hello")
    seeds = [draw_seed(1234, d) for d in range(5)]
    assert seeds[0] == 1234 and len(set(seeds)) == 5
    assert draw_seed(1235, 1) not in seeds  # neighbouring run seeds do not share draws
    keys = {
        generation_key(_HF_INFO, prompt, GenerationParams(seed=seed, draw=d))
        for d, seed in enumerate(seeds)
    }
    assert len(keys) == 5
    # the index alone separates draws too (a backend that ignores the seed)
    same_seed = {generation_key(_HF_INFO, prompt, GenerationParams(draw=d)) for d in range(3)}
    assert len(same_seed) == 3


def test_draws_are_cached_and_served_per_draw(tmp_path: Path) -> None:
    cache = GenerationCache(tmp_path / "g.sqlite")
    for draw in (0, 1):
        backend = CountingBackend()
        params = GenerationParams(draw=draw, seed=draw_seed(7, draw))
        run_generation(backend, PROMPTS, params=params, max_output_chars=100, cache=cache)
        assert backend.generated == 10  # draw 1 is not served draw 0's outputs
    again = CountingBackend()
    params = GenerationParams(draw=1, seed=draw_seed(7, 1))
    out, _ = run_generation(again, PROMPTS, params=params, max_output_chars=100, cache=cache)
    cache.close()
    assert again.generated == 0 and all(g.cached for g in out.values())
