"""Hugging Face transformers backend: local full models and PEFT/LoRA adapters.

``--model`` is a local directory:

* a full model (``config.json`` + weights), or
* a PEFT adapter (``adapter_config.json``). Its base model is, in order:
  ``model.base_model`` from the config; else ``base_model_name_or_path`` from
  ``adapter_config.json``, taken as an absolute path when it is one, else as a
  path relative to the adapter directory when that exists, else as a path
  relative to the working directory when that exists, else as a Hub model id.
  The adapter is merged into the base for speed unless the base is quantized.

Generation is greedy (``temperature == 0``) or seeded sampling, in batches of
``params.batch_size`` prompts sorted by token length (longest first), left
padded; results come back in the caller's order. A row stops at EOS, at a stop
string (``params.stop``: a StoppingCriteria halts the row, and the text is cut
before the stop string) or at ``params.max_new_tokens``.

torch, transformers and peft are imported lazily, in this module only; a
missing one raises ``MissingDependencyError`` naming the ``hf`` extra.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.backends.tool_calls import template_tools, unwrap_template_calls
from releasegate.config.schema import ModelSettings
from releasegate.errors import BackendError, MissingDependencyError

__all__ = ["HFBackend", "resolve_adapter_base"]

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_FINGERPRINT_FILES = (
    "config.json",
    "adapter_config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
    "special_tokens_map.json",
)
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")


def _import_hf() -> tuple[Any, Any]:
    """Return ``(torch, transformers)`` or raise ``MissingDependencyError``."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingDependencyError("hf backend", extra="hf") from exc
    return torch, transformers


def resolve_adapter_base(adapter_dir: Path, override: str | None = None) -> str:
    """Where an adapter's base model lives (see the module docstring for the order).

    Args:
        adapter_dir: The directory holding ``adapter_config.json``.
        override: ``model.base_model`` from the config, if set.

    Returns:
        A local directory path (as a string) or a Hub model id.

    Raises:
        BackendError: ``adapter_config.json`` is unreadable or names no base.
    """
    if override:
        return override
    cfg_path = adapter_dir / "adapter_config.json"
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackendError(f"cannot read adapter config {cfg_path}: {exc}") from exc
    base = cfg.get("base_model_name_or_path") if isinstance(cfg, dict) else None
    if not isinstance(base, str) or not base:
        raise BackendError(
            f"{cfg_path} names no base_model_name_or_path; set model.base_model in the config"
        )
    as_path = Path(base).expanduser()
    if as_path.is_absolute():
        return str(as_path)
    relative = adapter_dir / as_path
    if relative.exists():
        return str(relative.resolve())
    if as_path.exists():
        return str(as_path.resolve())
    return base


def _fingerprint(dirs: Sequence[Path]) -> str:
    """sha256 over the weight, config and tokenizer files of ``dirs`` (names and bytes)."""
    h = hashlib.sha256()
    for d in dirs:
        files = sorted(
            p
            for p in d.iterdir()
            if p.is_file() and (p.suffix in _WEIGHT_SUFFIXES or p.name in _FINGERPRINT_FILES)
        )
        for p in files:
            h.update(p.name.encode("utf-8") + b"\0")
            with p.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    return "sha256:" + h.hexdigest()


@contextmanager
def _quiet_progress(transformers: Any) -> Iterator[None]:
    """Hide transformers' "Loading weights" bars (the CLI draws its own progress)."""
    hf_logging = transformers.utils.logging
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _pick_device(torch: Any, device: str) -> str:
    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def _pick_dtype(torch: Any, dtype: str, device: str) -> Any:
    """fp32 on CPU; bf16 on GPUs that support it, else fp16 (e.g. T4)."""
    if dtype != "auto":
        return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[
            dtype
        ]
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def _quantization_config(transformers: Any, quantization: str, dtype: Any) -> Any:
    if quantization == "none":
        return None
    if importlib.util.find_spec("bitsandbytes") is None:
        raise MissingDependencyError(f"{quantization} quantization (bitsandbytes)", extra="quant")
    if quantization == "4bit":
        return transformers.BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype
        )
    if quantization == "8bit":
        return transformers.BitsAndBytesConfig(load_in_8bit=True)
    raise BackendError(f"unknown quantization {quantization!r}: expected none, 4bit or 8bit")


def _stop_criteria(
    transformers: Any, torch: Any, tokenizer: Any, stops: Sequence[str], start: int
) -> Any:
    """A StoppingCriteria that marks each row done once its new text contains a stop string."""
    window = 2 * max(len(s) for s in stops) + 8

    class _StopOnStrings(transformers.StoppingCriteria):  # type: ignore[misc]
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            tails = input_ids[:, max(start, input_ids.shape[1] - window) :]
            texts = tokenizer.batch_decode(tails, skip_special_tokens=True)
            done = [any(s in t for s in stops) for t in texts]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return _StopOnStrings()


class HFBackend:
    """A local transformers model (full or PEFT adapter) behind the Backend protocol."""

    name = "hf"

    def __init__(
        self,
        ref: str,
        *,
        model: Any,
        tokenizer: Any,
        settings: ModelSettings,
        fingerprint: str,
        details: dict[str, str],
    ) -> None:
        """Wrap an already loaded model; use ``from_settings`` to load one from disk."""
        self._ref = ref
        self._model = model
        self._tokenizer = tokenizer
        self._settings = settings
        self._fingerprint = fingerprint
        self._details = details
        self._torch, self._transformers = _import_hf()
        self._device = str(next(iter(model.parameters())).device)
        eos = {tokenizer.eos_token_id} | _as_set(
            getattr(model.generation_config, "eos_token_id", None)
        )
        self._eos_ids = sorted(i for i in eos if isinstance(i, int))
        if not self._eos_ids:
            raise BackendError(f"{ref}: the tokenizer and generation config define no EOS token")
        pad = tokenizer.pad_token_id
        self._pad_id: int = pad if isinstance(pad, int) else self._eos_ids[0]
        self._use_template = bool(settings.use_chat_template and tokenizer.chat_template)

    # ------------------------------------------------------------------ loading
    @classmethod
    def claims(cls, ref: str) -> bool:
        """A directory with ``config.json`` (a model) or ``adapter_config.json`` (an adapter)."""
        path = Path(ref)
        return path.is_dir() and any(
            (path / name).is_file() for name in ("config.json", "adapter_config.json")
        )

    @classmethod
    def from_settings(cls, ref: str, settings: ModelSettings | None = None) -> HFBackend:
        """Load the model at ``ref`` (a local directory) as ``settings`` say.

        Args:
            ref: A model or adapter directory.
            settings: The config's ``model`` section; defaults when ``None``.

        Returns:
            A ready backend.

        Raises:
            BackendError: The path is missing or not a model, or loading failed.
            MissingDependencyError: torch/transformers/peft or bitsandbytes is missing.
        """
        settings = settings if settings is not None else ModelSettings()
        path = Path(ref).expanduser()
        if not path.is_dir():
            raise BackendError(f"model path {ref!r} does not exist or is not a directory")
        is_adapter = (path / "adapter_config.json").is_file()
        if not is_adapter and not (path / "config.json").is_file():
            raise BackendError(
                f"{ref!r} is neither a model directory (config.json) nor a PEFT adapter "
                "(adapter_config.json)"
            )
        torch, transformers = _import_hf()
        device = _pick_device(torch, settings.device)
        dtype = _pick_dtype(torch, settings.dtype, device)
        quant = _quantization_config(transformers, settings.quantization, dtype)
        base = resolve_adapter_base(path, settings.base_model) if is_adapter else str(path)
        kwargs: dict[str, Any] = {"dtype": dtype, "trust_remote_code": settings.trust_remote_code}
        if quant is not None:
            kwargs["quantization_config"] = quant
            kwargs["device_map"] = {"": device}
        try:
            with _quiet_progress(transformers):
                model = transformers.AutoModelForCausalLM.from_pretrained(base, **kwargs)
                if is_adapter:
                    model = _attach_adapter(model, path, merge=quant is None)
                if quant is None:
                    model = model.to(device)
                model.eval()
                tok_dir = path if any((path / f).is_file() for f in _TOKENIZER_FILES) else base
                tokenizer = transformers.AutoTokenizer.from_pretrained(
                    tok_dir, trust_remote_code=settings.trust_remote_code
                )
        except (MissingDependencyError, BackendError):
            raise
        except Exception as exc:
            what = f"adapter {ref!r} on base {base!r}" if is_adapter else f"model {ref!r}"
            raise BackendError(f"could not load {what}: {type(exc).__name__}: {exc}") from exc
        tokenizer.padding_side = "left"
        dirs = [path]
        if is_adapter and Path(base).is_dir():
            dirs.append(Path(base))
        details = {
            "kind": "adapter" if is_adapter else "full",
            "base": base if is_adapter else "",
            "architecture": ",".join(getattr(model.config, "architectures", None) or []),
            "parameters": str(sum(p.numel() for p in model.parameters())),
            "dtype": str(dtype).removeprefix("torch."),
            "device": device,
            "quantization": settings.quantization,
            "chat_template": "yes"
            if settings.use_chat_template and tokenizer.chat_template
            else "no",
            "tool_calls": _tool_calls_detail(settings, tokenizer),
            "transformers": str(transformers.__version__),
            "torch": str(torch.__version__),
        }
        return cls(
            ref,
            model=model,
            tokenizer=tokenizer,
            settings=settings,
            fingerprint=_fingerprint(dirs),
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
    def render(self, prompt: Prompt) -> str:
        """The exact text fed to the model for ``prompt`` (chat template applied if any)."""
        system = prompt.system_prompt or self._settings.system_prompt
        if isinstance(prompt.input, str):
            messages = [{"role": "user", "content": prompt.input}]
        else:
            messages = [{"role": m.role, "content": m.content} for m in prompt.input]
        if system and not any(m["role"] == "system" for m in messages):
            messages.insert(0, {"role": "system", "content": system})
        if self._use_template:
            extra = {"tools": template_tools(prompt.tools)} if self._native_tools(prompt) else {}
            text = self._tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=False, **extra
            )
            return str(text)
        return "\n\n".join(m["content"] for m in messages)

    def _native_tools(self, prompt: Prompt) -> bool:
        """Functions go through the chat template (``model.tool_calls: native``, tools-aware)."""
        template = str(self._tokenizer.chat_template or "")
        return bool(prompt.tools) and self._settings.tool_calls == "native" and "tools" in template

    def encode(self, prompt: Prompt) -> list[int]:
        """Prompt token ids (the template carries its own special tokens)."""
        ids = self._tokenizer(self.render(prompt), add_special_tokens=not self._use_template)
        return list(ids["input_ids"])

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        """One generation per prompt, in order; batches are length-sorted internally."""
        if not prompts:
            return []
        encoded = [self.encode(p) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
        size = max(1, params.batch_size)
        results: dict[int, Generation] = {}
        if params.temperature > 0:
            self._torch.manual_seed(params.seed)
        for start in range(0, len(order), size):
            idx = order[start : start + size]
            for i, gen in zip(
                idx,
                self._run_batch([prompts[i] for i in idx], [encoded[i] for i in idx], params),
                strict=True,
            ):
                results[i] = gen
        return [results[i] for i in range(len(prompts))]

    def _run_batch(
        self, prompts: Sequence[Prompt], encoded: Sequence[list[int]], params: GenerationParams
    ) -> list[Generation]:
        """Generate one batch; on out-of-memory, split it in halves."""
        torch = self._torch
        try:
            return self._generate_batch(prompts, encoded, params)
        except torch.cuda.OutOfMemoryError as exc:
            if len(prompts) == 1:
                return [
                    Generation(
                        sample_id=prompts[0].sample_id, text=None, error=f"out of memory: {exc}"
                    )
                ]
            torch.cuda.empty_cache()
            half = len(prompts) // 2
            return self._run_batch(prompts[:half], encoded[:half], params) + self._run_batch(
                prompts[half:], encoded[half:], params
            )
        except Exception as exc:  # a failed batch becomes typed failures, not empty text
            message = f"generation failed: {type(exc).__name__}: {exc}"
            return [Generation(sample_id=p.sample_id, text=None, error=message) for p in prompts]

    def _generate_batch(
        self, prompts: Sequence[Prompt], encoded: Sequence[list[int]], params: GenerationParams
    ) -> list[Generation]:
        torch, transformers = self._torch, self._transformers
        width = max(len(e) for e in encoded)
        ids = torch.full((len(encoded), width), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, e in enumerate(encoded):
            if e:
                ids[row, width - len(e) :] = torch.tensor(e, dtype=torch.long)
                mask[row, width - len(e) :] = 1
        sampling = params.temperature > 0
        config = transformers.GenerationConfig(
            max_new_tokens=params.max_new_tokens,
            do_sample=sampling,
            temperature=params.temperature if sampling else None,
            top_p=None,
            top_k=None,
            eos_token_id=self._eos_ids,
            pad_token_id=self._pad_id,
        )
        criteria = transformers.StoppingCriteriaList()
        if params.stop:
            criteria.append(
                _stop_criteria(transformers, torch, self._tokenizer, params.stop, width)
            )
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = self._model.generate(
                input_ids=ids.to(self._device),
                attention_mask=mask.to(self._device),
                generation_config=config,
                stopping_criteria=criteria,
            )
        per_example = (time.perf_counter() - t0) / len(encoded)
        new = out[:, width:].tolist()
        return [
            self._finish(p, e, row, params, per_example)
            for p, e, row in zip(prompts, encoded, new, strict=True)
        ]

    def _finish(
        self,
        prompt: Prompt,
        encoded: list[int],
        row: list[int],
        params: GenerationParams,
        latency: float,
    ) -> Generation:
        """Cut a generated row at EOS / trailing padding / stop string; count its tokens."""
        eos = set(self._eos_ids)
        n = len(row)
        hit_eos = False
        for k, tok in enumerate(row):
            if tok in eos:
                n, hit_eos = k + 1, True
                break
        else:
            while n > 0 and row[n - 1] == self._pad_id:
                n -= 1
        text = self._tokenizer.decode(row[:n], skip_special_tokens=True)
        finish = "stop" if hit_eos else ("length" if n >= params.max_new_tokens else "stop")
        cut = [text.find(s) for s in params.stop if s and s in text]
        if cut:
            text, finish = text[: min(cut)], "stop"
        if self._native_tools(prompt):
            text = unwrap_template_calls(text)
        return Generation(
            sample_id=prompt.sample_id,
            text=text,
            finish_reason=finish,
            latency_s=latency,
            tokens_in=len(encoded),
            tokens_out=n,
        )


def _as_set(value: object) -> set[int]:
    if isinstance(value, int):
        return {value}
    if isinstance(value, (list, tuple)):
        return {v for v in value if isinstance(v, int)}
    return set()


def _attach_adapter(model: Any, adapter_dir: Path, *, merge: bool) -> Any:
    try:
        from peft import PeftModel
    except ImportError as exc:
        raise MissingDependencyError("hf backend (PEFT adapters)", extra="hf") from exc
    with warnings.catch_warnings():
        # peft calls a transformers API that transformers itself marks deprecated.
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\.")
        peft_model = PeftModel.from_pretrained(model, str(adapter_dir))
        return peft_model.merge_and_unload() if merge else peft_model


def _tool_calls_detail(settings: ModelSettings, tokenizer: Any) -> str:
    """``native`` only where the chat template takes ``tools``; otherwise ``text``."""
    template = str(tokenizer.chat_template or "") if settings.use_chat_template else ""
    if settings.tool_calls == "native" and "tools" in template:
        return "native"
    return "text" if settings.tool_calls == "text" else "text (the chat template has no tools)"
