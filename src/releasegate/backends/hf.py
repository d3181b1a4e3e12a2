"""Hugging Face transformers backend: local full models and PEFT/LoRA adapters.

``--model`` is a local directory:

* a full model (``config.json`` + weights), or
* a PEFT adapter (``adapter_config.json``). Its base model is, in order:
  ``model.base_model`` from the config; else ``base_model_name_or_path`` from
  ``adapter_config.json``, taken as an absolute path when it is one, else as a
  path relative to the adapter directory when that exists, else as a path
  relative to the working directory when that exists, else as a Hub model id.
  The adapter is merged into the base for speed unless the base is quantized.

Generation is greedy (``temperature == 0``) or seeded sampling (``params.seed``, set
again at every call; each draw of ``generation.repeats`` has its own seed), in batches of
``params.batch_size`` prompts sorted by token length (longest first), left
padded; results come back in the caller's order. A row stops at EOS, at a stop
string (``params.stop``: the row is halted, and the text is cut before the stop
string) or at ``params.max_new_tokens``. Greedy batches decode with the prompt-lookup
loop (``lookup_decoding``: guessed tokens verified in the same forward pass, the
model's greedy choice at every token) unless ``model.prompt_lookup_tokens`` is 0 or
the model is one the loop does not handle; sampling uses ``model.generate``.

torch, transformers and peft are imported lazily, in this module only; a
missing one raises ``MissingDependencyError`` naming the ``hf`` extra.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import math
import os
import struct
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.backends.chat import (
    encode_prompt,
    native_template_tools,
    prompt_tools,
    read_template_calls,
    render_prompt,
    tool_calls_detail,
)
from releasegate.backends.cpu_threads import default_threads, prepare_openmp
from releasegate.backends.lookup_decoding import lookup_greedy, unsupported_reason
from releasegate.backends.model_dir import ModelDir, resolve_adapter_base
from releasegate.backends.stop_strings import cut_at_stop
from releasegate.config.schema import ModelSettings
from releasegate.errors import BackendError, MissingDependencyError

__all__ = ["HFBackend", "resolve_adapter_base"]


def _import_hf() -> tuple[Any, Any]:
    """Return ``(torch, transformers)`` or raise ``MissingDependencyError``."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingDependencyError("hf backend", extra="hf") from exc
    return torch, transformers


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


def _stop_window(stops: Sequence[str]) -> int:
    """New tokens decoded to look for a stop string (a token is at least one character)."""
    return 2 * max(len(s) for s in stops) + 8


def _stop_criteria(
    transformers: Any, torch: Any, tokenizer: Any, stops: Sequence[str], start: int
) -> Any:
    """A StoppingCriteria that marks each row done once its new text contains a stop string."""
    window = _stop_window(stops)

    class _StopOnStrings(transformers.StoppingCriteria):  # type: ignore[misc]
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            tails = input_ids[:, max(start, input_ids.shape[1] - window) :]
            texts = tokenizer.batch_decode(tails, skip_special_tokens=True)
            done = [any(s in t for s in stops) for t in texts]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return _StopOnStrings()


def _stop_check(tokenizer: Any, stops: Sequence[str]) -> Callable[[list[int]], bool]:
    """The same test for one row's new tokens, for the prompt-lookup loop."""
    window = _stop_window(stops)

    def stopped(new: list[int]) -> bool:
        text = tokenizer.decode(new[-window:], skip_special_tokens=True)
        return any(s in text for s in stops)

    return stopped


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _safetensors_parameters(model_dir: Path) -> str:
    """Parameters stored in a directory's safetensors files (their headers only), or ""."""
    files = sorted(model_dir.glob("*.safetensors"))
    if not files or any(model_dir.glob("*.bin")):
        return ""
    total = 0
    for f in files:
        try:
            with f.open("rb") as fh:
                size = struct.unpack("<Q", fh.read(8))[0]
                header = json.loads(fh.read(size))
        except (OSError, ValueError, struct.error):
            return ""
        total += sum(
            math.prod(v.get("shape", [])) for k, v in header.items() if k != "__metadata__"
        )
    return str(total)


def _probe_device(device: str) -> str:
    """The device ``_pick_device`` will choose, found without importing torch.

    ``auto`` is CUDA when a CUDA build of torch and an NVIDIA driver with a visible GPU
    are present, else CPU. Checked again after loading.
    """
    if device != "auto":
        return device
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    driver = Path("/proc/driver/nvidia/gpus")
    has_gpu = driver.is_dir() and any(driver.iterdir())
    cpu_build = "+cpu" in _version("torch")
    return "cuda" if has_gpu and not cpu_build and visible not in ("", "-1") else "cpu"


def _probe_dtype(dtype: str, device: str) -> str:
    """The dtype ``_pick_dtype`` will choose, found without importing torch.

    On a GPU with ``auto`` it stays ``auto`` (only torch knows the GPU's bf16 support;
    the GPU model is in the details instead); anything else is checked after loading.
    """
    if dtype != "auto":
        return dtype
    return "float32" if device == "cpu" else "auto"


def _gpu_models() -> str:
    """The NVIDIA GPUs' model names from the driver (no torch), e.g. ``Tesla T4``."""
    names = []
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        with contextlib.suppress(OSError):
            for line in info.read_text().splitlines():
                if line.startswith("Model:"):
                    names.append(line.partition(":")[2].strip())
    return ",".join(names)


def _has_chat_template(tok_dir: Path) -> bool:
    return bool(_chat_template_text(tok_dir))


def _chat_template_text(tok_dir: Path) -> str:
    """The chat template's source as the tokenizer files hold it ('' when none)."""
    jinja = tok_dir / "chat_template.jinja"
    if jinja.is_file():
        with contextlib.suppress(OSError):
            return jinja.read_text(encoding="utf-8")
    for name in ("chat_template.json", "tokenizer_config.json"):
        template = _read_json(tok_dir / name).get("chat_template")
        if template:
            return json.dumps(template)
    return ""


@dataclass(frozen=True)
class _LoadPlan:
    """Everything known about a model before loading it, read from its files."""

    path: Path
    base: str
    is_adapter: bool
    tok_dir: str
    device: str
    dtype: str
    chat_template: bool
    tool_calls: str
    threads: int
    prompt_lookup: int
    config: dict[str, Any]

    @classmethod
    def make(cls, where: ModelDir, *, settings: ModelSettings) -> _LoadPlan:
        device = _probe_device(settings.device)
        return cls(
            path=where.path,
            base=where.base,
            is_adapter=where.is_adapter,
            tok_dir=str(where.tok_dir),
            device=device,
            dtype=_probe_dtype(settings.dtype, device),
            chat_template=settings.use_chat_template and _has_chat_template(where.tok_dir),
            tool_calls=tool_calls_detail(settings, _chat_template_text(where.tok_dir)),
            threads=settings.threads or default_threads(),
            prompt_lookup=settings.prompt_lookup_tokens,
            config=_read_json(where.model_dir / "config.json"),
        )

    def details(self) -> dict[str, str]:
        """Load details for reports and the generation cache key (no torch needed)."""
        model_dir = Path(self.base) if self.is_adapter else self.path
        return {
            "kind": "adapter" if self.is_adapter else "full",
            "base": self.base if self.is_adapter else "",
            "architecture": ",".join(self.config.get("architectures") or []),
            "parameters": _safetensors_parameters(model_dir) if model_dir.is_dir() else "",
            "dtype": self.dtype,
            "device": self.device,
            "chat_template": "yes" if self.chat_template else "no",
            "tool_calls": self.tool_calls,
            "prompt_lookup": str(self.prompt_lookup),
            **({"gpu": _gpu_models()} if self.device.startswith("cuda") else {}),
            "transformers": _version("transformers"),
            "torch": _version("torch"),
        }


@dataclass(frozen=True)
class _Loaded:
    """A model in memory and what generation needs from it."""

    torch: Any
    transformers: Any
    model: Any
    tokenizer: Any
    device: str
    eos_ids: list[int]
    pad_id: int
    use_template: bool
    lookup_off: str | None
    """Why greedy decoding uses ``model.generate`` instead of the prompt-lookup loop
    (``None``: the loop is used)."""


def _load(ref: str, plan: _LoadPlan, settings: ModelSettings) -> _Loaded:
    """Load the planned model; fail loudly if it differs from what the plan recorded."""
    prepare_openmp()
    torch, transformers = _import_hf()
    if plan.device == "cpu":
        torch.set_num_threads(plan.threads)
    device = _pick_device(torch, settings.device)
    dtype = _pick_dtype(torch, settings.dtype, device)
    quant = _quantization_config(transformers, settings.quantization, dtype)
    kwargs: dict[str, Any] = {"dtype": dtype, "trust_remote_code": settings.trust_remote_code}
    if quant is not None:
        kwargs["quantization_config"] = quant
        kwargs["device_map"] = {"": device}
    try:
        with _quiet_progress(transformers):
            model = transformers.AutoModelForCausalLM.from_pretrained(plan.base, **kwargs)
            if plan.is_adapter:
                model = _attach_adapter(model, plan.path, merge=quant is None)
            if quant is None:
                model = model.to(device)
            model.eval()
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                plan.tok_dir, trust_remote_code=settings.trust_remote_code
            )
    except (MissingDependencyError, BackendError):
        raise
    except Exception as exc:
        what = f"adapter {ref!r} on base {plan.base!r}" if plan.is_adapter else f"model {ref!r}"
        raise BackendError(f"could not load {what}: {type(exc).__name__}: {exc}") from exc
    tokenizer.padding_side = "left"
    actual = {
        "device": device,
        "dtype": str(dtype).removeprefix("torch.") if plan.dtype != "auto" else "auto",
        "chat_template": settings.use_chat_template and bool(tokenizer.chat_template),
    }
    planned = {"device": plan.device, "dtype": plan.dtype, "chat_template": plan.chat_template}
    if actual != planned:
        raise BackendError(
            f"{ref}: loaded with {actual}, but the files predicted {planned} (used in the "
            "generation cache key); set model.device and model.dtype explicitly"
        )
    eos = {tokenizer.eos_token_id} | _as_set(getattr(model.generation_config, "eos_token_id", None))
    eos_ids = sorted(i for i in eos if isinstance(i, int))
    if not eos_ids:
        raise BackendError(f"{ref}: the tokenizer and generation config define no EOS token")
    pad = tokenizer.pad_token_id
    return _Loaded(
        torch=torch,
        transformers=transformers,
        model=model,
        tokenizer=tokenizer,
        device=str(next(iter(model.parameters())).device),
        eos_ids=eos_ids,
        pad_id=pad if isinstance(pad, int) else eos_ids[0],
        use_template=bool(settings.use_chat_template and tokenizer.chat_template),
        lookup_off=(
            "model.prompt_lookup_tokens is 0"
            if plan.prompt_lookup == 0
            else unsupported_reason(model, transformers)
        ),
    )


class HFBackend:
    """A local transformers model (full or PEFT adapter) behind the Backend protocol.

    ``from_settings`` only reads files: the fingerprint and the load details come
    from the model directory without importing torch, and the model itself is loaded
    on the first call that needs it (``generate``, ``render``, ``encode``), so a run
    served entirely from the generation cache does no model work at all.
    """

    name = "hf"
    loads = 0
    """How many models this process has loaded (all instances): tests assert a cached
    run leaves it at zero."""

    def __init__(
        self, ref: str, *, plan: _LoadPlan, settings: ModelSettings, fingerprint: str
    ) -> None:
        """A backend for an already validated ``plan``; use ``from_settings``."""
        self._ref = ref
        self._plan = plan
        self._settings = settings
        self._fingerprint = fingerprint
        self._details = plan.details()
        self._state: _Loaded | None = None

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
        """Check the model at ``ref`` (a local directory) and fingerprint it; no loading yet.

        Args:
            ref: A model or adapter directory.
            settings: The config's ``model`` section; defaults when ``None``.

        Returns:
            A backend that loads the model on first use.

        Raises:
            BackendError: The path is missing or not a model.
            MissingDependencyError: torch/transformers, peft (adapters) or bitsandbytes
                (quantization) is not installed.
        """
        settings = settings if settings is not None else ModelSettings()
        where = ModelDir.locate(ref, settings.base_model)
        for module in ("torch", "transformers", *(("peft",) if where.is_adapter else ())):
            if not _installed(module):
                raise MissingDependencyError("hf backend", extra="hf")
        if settings.quantization != "none" and not _installed("bitsandbytes"):
            raise MissingDependencyError(
                f"{settings.quantization} quantization (bitsandbytes)", extra="quant"
            )
        plan = _LoadPlan.make(where, settings=settings)
        return cls(ref, plan=plan, settings=settings, fingerprint=where.fingerprint())

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory (it loads on the first generation)."""
        return self._state is not None

    def _loaded(self) -> _Loaded:
        if self._state is None:
            self._state = _load(self._ref, self._plan, self._settings)
            HFBackend.loads += 1
        return self._state

    def info(self) -> ModelInfo:
        """Backend name, the ref, the weight fingerprint and load details."""
        return ModelInfo(
            backend=self.name,
            ref=self._ref,
            fingerprint=self._fingerprint,
            details=dict(self._details),
            cacheable=True,
        )

    def notes(self) -> list[str]:
        """Say so when greedy decoding could not use the prompt-lookup loop."""
        if self._state is None or self._plan.prompt_lookup == 0:
            return []
        if self._state.lookup_off is None:
            return []
        return [
            f"greedy decoding used model.generate, not the prompt-lookup loop "
            f"(model.prompt_lookup_tokens): {self._state.lookup_off}"
        ]

    # --------------------------------------------------------------- generation
    def render(self, prompt: Prompt) -> str:
        """The exact text fed to the model for ``prompt`` (chat template applied if any)."""
        st = self._loaded()
        return render_prompt(
            st.tokenizer,
            prompt,
            default_system=self._settings.system_prompt,
            use_template=st.use_template,
            tools=prompt_tools(prompt, native=self._native_tools()),
        )

    def _native_tools(self) -> bool:
        """Functions go through the chat template (``model.tool_calls: native``, tools-aware)."""
        return native_template_tools(self._loaded().tokenizer, self._settings)

    def encode(self, prompt: Prompt) -> list[int]:
        """Prompt token ids (the template carries its own special tokens)."""
        st = self._loaded()
        return encode_prompt(
            st.tokenizer,
            prompt,
            default_system=self._settings.system_prompt,
            use_template=st.use_template,
            tools=prompt_tools(prompt, native=self._native_tools()),
        )

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        """One generation per prompt, in order; batches are length-sorted internally."""
        if not prompts:
            return []
        st = self._loaded()
        encoded = [self.encode(p) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
        size = max(1, params.batch_size)
        results: dict[int, Generation] = {}
        if params.temperature > 0:
            st.torch.manual_seed(params.seed)
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
        torch = self._loaded().torch
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

    def generate_timed(self, prompt: Prompt, params: GenerationParams) -> Generation:
        """Generate for one prompt alone, timing the request and its first token.

        ``latency_s`` runs from before tokenization to the decoded text; ``ttft_s`` to
        the moment the first new token exists (a streamer on ``generate``).
        """
        clock = _FirstTokenClock()
        t0 = time.perf_counter()
        (gen,) = self._generate_batch([prompt], [self.encode(prompt)], params, streamer=clock)
        wall = time.perf_counter() - t0
        ttft = clock.first - t0 if clock.first is not None else None
        return replace(gen, latency_s=wall, ttft_s=ttft)

    def _generate_batch(
        self,
        prompts: Sequence[Prompt],
        encoded: Sequence[list[int]],
        params: GenerationParams,
        streamer: Any = None,
    ) -> list[Generation]:
        st = self._loaded()
        torch, transformers = st.torch, st.transformers
        width = max(len(e) for e in encoded)
        ids = torch.full((len(encoded), width), st.pad_id, dtype=torch.long)
        mask = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, e in enumerate(encoded):
            if e:
                ids[row, width - len(e) :] = torch.tensor(e, dtype=torch.long)
                mask[row, width - len(e) :] = 1
        sampling = params.temperature > 0
        t0 = time.perf_counter()
        if not sampling and st.lookup_off is None:
            with torch.inference_mode():
                new = lookup_greedy(
                    st.model,
                    torch,
                    transformers,
                    ids.to(st.device),
                    mask.to(st.device),
                    max_new_tokens=params.max_new_tokens,
                    eos_ids=st.eos_ids,
                    draft_tokens=self._plan.prompt_lookup,
                    stopped=_stop_check(st.tokenizer, params.stop) if params.stop else None,
                    on_first_token=streamer.mark if streamer is not None else None,
                )
        else:
            new = self._plain_generate(ids, mask, params, streamer)
        per_example = (time.perf_counter() - t0) / len(encoded)
        return [
            self._finish(p, e, row, params, per_example)
            for p, e, row in zip(prompts, encoded, new, strict=True)
        ]

    def _plain_generate(
        self, ids: Any, mask: Any, params: GenerationParams, streamer: Any
    ) -> list[list[int]]:
        """``model.generate`` on a left-padded batch: each row's new tokens (padded)."""
        st = self._loaded()
        torch, transformers = st.torch, st.transformers
        width = ids.shape[1]
        sampling = params.temperature > 0
        config = transformers.GenerationConfig(
            max_new_tokens=params.max_new_tokens,
            do_sample=sampling,
            temperature=params.temperature if sampling else None,
            top_p=None,
            top_k=None,
            eos_token_id=st.eos_ids,
            pad_token_id=st.pad_id,
        )
        criteria = transformers.StoppingCriteriaList()
        if params.stop:
            criteria.append(_stop_criteria(transformers, torch, st.tokenizer, params.stop, width))
        with torch.inference_mode():
            out = st.model.generate(
                input_ids=ids.to(st.device),
                attention_mask=mask.to(st.device),
                generation_config=config,
                stopping_criteria=criteria,
                streamer=streamer,
            )
        return list(out[:, width:].tolist())

    def _finish(
        self,
        prompt: Prompt,
        encoded: list[int],
        row: list[int],
        params: GenerationParams,
        latency: float,
    ) -> Generation:
        """Cut a generated row at EOS / trailing padding / stop string; count its tokens."""
        st = self._loaded()
        eos = set(st.eos_ids)
        n = len(row)
        hit_eos = False
        for k, tok in enumerate(row):
            if tok in eos:
                n, hit_eos = k + 1, True
                break
        else:
            while n > 0 and row[n - 1] == st.pad_id:
                n -= 1
        text = st.tokenizer.decode(row[:n], skip_special_tokens=True)
        finish = "stop" if hit_eos else ("length" if n >= params.max_new_tokens else "stop")
        cut = cut_at_stop(text, params.stop)
        if cut is not None:
            text, finish = cut, "stop"
        text = read_template_calls(text, prompt, native=self._native_tools())
        return Generation(
            sample_id=prompt.sample_id,
            text=text,
            finish_reason=finish,
            latency_s=latency,
            tokens_in=len(encoded),
            tokens_out=n,
        )


class _FirstTokenClock:
    """A ``generate`` streamer that notes when the first new token arrives.

    ``generate`` calls ``put`` once with the prompt, then once per decoding step.
    """

    def __init__(self) -> None:
        self.first: float | None = None
        self._calls = 0

    def put(self, value: Any) -> None:
        self._calls += 1
        if self._calls == 2:
            self.mark()

    def mark(self) -> None:
        """The first new token exists now (called directly by the prompt-lookup loop)."""
        self.first = time.perf_counter()

    def end(self) -> None:
        return None


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
