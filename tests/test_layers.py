"""The package's import layers: no module imports from a layer above its own.

The layers (lowest first) are drawn in docs/architecture.md; this test is what keeps
that drawing true.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "releasegate"

# Module (or package) prefix -> layer. The longest matching prefix wins.
LAYERS: dict[str, int] = {
    # 0: vocabulary and plumbing that imports nothing from the package
    "errors": 0,
    "enums": 0,
    "metrics": 0,
    "registry": 0,
    "progress": 0,
    "input_files": 0,
    "interrupts": 0,
    "redact": 0,
    "_lazy": 0,
    # 1: settings
    "config": 1,
    # 2: records (what stages produce and writers read)
    "records": 2,
    # 3: the domain: data, models, scoring, judging, statistics rules, storage
    "benchmark": 3,
    "backends": 3,
    "generate": 3,
    "latency_pass": 3,
    "latency": 3,
    "scoring": 3,
    "judge": 3,
    "safety": 3,
    "regression": 3,
    "store": 3,
    "manifest": 3,
    "stats": 3,
    "testing": 3,
    "importers": 3,
    "drift": 3,
    "staleness": 3,
    "baseline_checks": 3,
    "determinism": 3,
    "export_mlflow": 3,
    "calibration": 3,
    # 4: stages (each wraps one domain package behind the Stage protocol)
    "stages": 4,
    # 5: orchestration
    "gate": 5,
    "plan": 5,
    "pipeline": 5,
    "metric_reference": 5,
    "calibrate": 5,
    # 6: writers (read records only) and publishing
    "report": 6,
    "console": 6,
    "publish": 6,
    # 7: the command line and the public API
    "cli": 7,
    "cli_runs": 7,
    "import_cli": 7,
    "cli_calibrate": 7,
    "init": 7,
    "judge.check_cli": 7,
    "__init__": 7,
    "__main__": 7,
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The layer of ``releasegate.<module>``."""
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("releasegate."):
                found.append((node.lineno, node.module.removeprefix("releasegate.")))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name.removeprefix("releasegate."))
                for a in node.names
                if a.name.startswith("releasegate.")
            ]
    return found


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=_module_name)
def test_no_import_runs_up_the_layers(path: Path) -> None:
    here = _module_name(path)
    mine = layer_of(here)
    upward = [
        f"line {line}: {target} (layer {layer_of(target)})"
        for line, target in _imports(path)
        if layer_of(target) > mine
    ]
    assert not upward, f"{here} (layer {mine}) imports upward: {upward}"


def test_every_module_has_a_layer() -> None:
    for path in MODULES:
        layer_of(_module_name(path))


def test_report_writers_read_records_only() -> None:
    allowed = ("records", "report", "enums", "metrics", "registry", "store.atomic")
    for path in sorted((SRC / "report").rglob("*.py")):
        for line, target in _imports(path):
            assert target.startswith(allowed), f"{path.name}:{line} imports {target}"


def test_stages_never_import_each_other() -> None:
    shared = {"stages.base", "stages.common"}
    for path in sorted((SRC / "stages").glob("*.py")):
        here = _module_name(path)
        for line, target in _imports(path):
            if target.startswith("stages.") and target not in shared and target != here:
                pytest.fail(f"{here}:{line} imports the stage module {target}")
