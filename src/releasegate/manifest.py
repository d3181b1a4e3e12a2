"""Provenance for a run: versions, fingerprints, config hash, git sha."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any, cast

from releasegate.config.schema import PipelineConfig
from releasegate.redact import redact_data

_TRACKED_PACKAGES = (
    "releasegate",
    "pydantic",
    "numpy",
    "scipy",
    "jsonschema",
    "torch",
    "transformers",
    "peft",
    "tokenizers",
    "openai",
    "anthropic",
)


def config_dict(config: PipelineConfig) -> dict[str, Any]:
    """The effective config as JSON data, safe to write into reports.

    Secrets are only ever named by environment variable; credentials written into a
    value anyway (``https://user:token@host``, ``?api-key=...``) are replaced by
    ``***`` (``releasegate.redact``; by form only, so the hash never depends on the
    environment).
    """
    return cast(dict[str, Any], redact_data(config.model_dump(mode="json")))


def config_hash(config: PipelineConfig) -> str:
    """sha256 of everything in the config that can change a result (not ``output``)."""
    data = config_dict(config)
    data.pop("output", None)
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return "sha256:" + hashlib.sha256(blob).hexdigest()[:16]


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results (those present)."""
    found: dict[str, str] = {}
    for name in _TRACKED_PACKAGES:
        if name not in ("releasegate",) and name not in sys.modules:
            continue
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def git_sha() -> str | None:
    """HEAD of the git checkout the run started in, if any."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and sha else None


def python_platform() -> tuple[str, str]:
    """Python version and platform strings."""
    return platform.python_version(), platform.platform(terse=True)
