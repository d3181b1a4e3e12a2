"""A local model directory as the HF and in-process vLLM backends read it.

``--model`` is a full model (``config.json`` + weights) or a PEFT/LoRA adapter
(``adapter_config.json``). An adapter's base model is, in order:
``model.base_model`` from the config; else ``base_model_name_or_path`` from
``adapter_config.json``, taken as an absolute path when it is one, else as a path
relative to the adapter directory when that exists, else as a path relative to the
working directory when that exists, else as a Hub model id. The tokenizer is the
adapter's own when it ships one, else the base's. The fingerprint hashes the weight,
config and tokenizer files of the directory (and of a local base), so both backends
give one model the same fingerprint. Nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from releasegate.errors import BackendError
from releasegate.store.fingerprint_cache import remembered_fingerprint

__all__ = ["ModelDir", "TOKENIZER_FILES", "fingerprint", "resolve_adapter_base"]

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")
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


@dataclass(frozen=True)
class ModelDir:
    """Where a model's weights, base and tokenizer are, read from its files."""

    path: Path
    is_adapter: bool
    base: str
    """The base model of an adapter (a path or a Hub id); the path itself otherwise."""

    @classmethod
    def locate(cls, ref: str, base_override: str | None = None) -> ModelDir:
        """Check that ``ref`` is a model or adapter directory and find its base.

        Raises:
            BackendError: the path is missing, is neither, or the adapter names no base.
        """
        path = Path(ref).expanduser()
        if not path.is_dir():
            raise BackendError(f"model path {ref!r} does not exist or is not a directory")
        is_adapter = (path / "adapter_config.json").is_file()
        if not is_adapter and not (path / "config.json").is_file():
            raise BackendError(
                f"{ref!r} is neither a model directory (config.json) nor a PEFT adapter "
                "(adapter_config.json)"
            )
        base = resolve_adapter_base(path, base_override) if is_adapter else str(path)
        return cls(path=path, is_adapter=is_adapter, base=base)

    @property
    def tok_dir(self) -> Path:
        """The directory the tokenizer loads from (the adapter's own, else the base)."""
        own = any((self.path / f).is_file() for f in TOKENIZER_FILES)
        return self.path if own else Path(self.base)

    @property
    def model_dir(self) -> Path:
        """The directory holding the (base) model's ``config.json``."""
        return Path(self.base) if self.is_adapter else self.path

    def fingerprint(self) -> str:
        """The content hash of the directory and, for an adapter, of a local base."""
        dirs = [self.path]
        if self.is_adapter and Path(self.base).is_dir():
            dirs.append(Path(self.base))
        return fingerprint(dirs)

    def kind_details(self) -> dict[str, str]:
        """``kind`` (``full``/``adapter``) and ``base`` for the model details."""
        return {
            "kind": "adapter" if self.is_adapter else "full",
            "base": self.base if self.is_adapter else "",
        }


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


def fingerprint(dirs: Sequence[Path]) -> str:
    """sha256 over the weight, config and tokenizer files of ``dirs`` (names and bytes).

    Remembered by the files' identity (``store.fingerprint_cache``): unchanged files
    are not read again.
    """
    files = [
        p
        for d in dirs
        for p in sorted(
            p
            for p in d.iterdir()
            if p.is_file() and (p.suffix in _WEIGHT_SUFFIXES or p.name in _FINGERPRINT_FILES)
        )
    ]
    return remembered_fingerprint(files, lambda: _hash_files(files), formula=_FORMULA)


_FORMULA = "model-dir-sha256-1"
"""Names :func:`_hash_files`; change it with the formula."""


def _hash_files(files: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in files:
        h.update(p.name.encode("utf-8") + b"\0")
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return "sha256:" + h.hexdigest()
