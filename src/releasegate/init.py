"""``releasegate init``: a commented starter config and a GitHub Actions workflow."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from releasegate.errors import InputError
from releasegate.store.atomic import write_text_atomic

TEMPLATES = {
    "releasegate.yaml": Path("releasegate.yaml"),
    "releasegate.yml": Path(".github/workflows/releasegate.yml"),
}


def template_text(name: str) -> str:
    """The packaged template ``name``."""
    return files("releasegate").joinpath("templates").joinpath(name).read_text(encoding="utf-8")


def write_starter_files(root: Path, *, force: bool) -> list[Path]:
    """Write the templates under ``root``; existing files are kept unless ``force``.

    Raises:
        InputError: a target exists and ``force`` is not set (nothing is written then).
    """
    targets = {name: root / rel for name, rel in TEMPLATES.items()}
    existing = [p for p in targets.values() if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise InputError(f"{names} already exist(s); pass --force to overwrite")
    for name, path in targets.items():
        write_text_atomic(path, template_text(name))
    return list(targets.values())
