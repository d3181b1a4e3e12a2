"""Render the config reference (docs/config.md) from the schema's field docstrings.

The docstring under each field is the single source: ``docs/config.md`` is
generated from it (``python -m releasegate.config.reference > docs/config.md``) and
a test fails when the committed file is stale.

The docstrings are read here, from the source, and not by pydantic
(``use_attribute_docstrings``): on Python < 3.13 pydantic finds each class's source by
walking the import frames, which cost ~0.2 s of every command's start-up, and only
this reference reads them.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import typing
from enum import Enum

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from releasegate.config.gates import QualityGate
from releasegate.config.schema import PipelineConfig

_HEADER = """\
# Configuration reference

Generated from the field docstrings in `src/releasegate/config/` by
`python -m releasegate.config.reference > docs/config.md` (a test keeps this file in
step). Every section rejects unknown keys, with a did-you-mean. Secrets are never
written in a config: `api_key_env` names the environment variable that holds them.

Check a config without loading a model: `releasegate validate CONFIG --benchmark FILE`.
"""


def render_reference() -> str:
    """The whole reference as Markdown."""
    parts = [_HEADER, _section("Top level", PipelineConfig, skip_models=True)]
    parts.append(_section("quality_gates[] (each gate)", QualityGate))
    for name, field in PipelineConfig.model_fields.items():
        model = _model_of(field.annotation)
        if model is not None and model is not QualityGate:
            parts.append(_section(f"{name}:", model))
            for sub, inner in model.model_fields.items():  # nested sections (output.mlflow)
                nested = _model_of(inner.annotation)
                if nested is not None and isinstance(
                    inner.get_default(call_default_factory=True), BaseModel
                ):
                    parts.append(_section(f"{name}.{sub}:", nested))
    return "\n\n".join(parts) + "\n"


def _section(title: str, model: type[BaseModel], *, skip_models: bool = False) -> str:
    rows = [f"## {title}", "", "| Key | Type | Default | Meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if skip_models and _model_of(field.annotation) is not None:
            continue
        doc = field.description or attribute_docs(model).get(name, "")
        doc = " ".join(doc.split()).replace("|", "\\|")
        rows.append(f"| `{name}` | {_type(field.annotation)} | {_default(field)} | {doc} |")
    return "\n".join(rows)


def attribute_docs(model: type[BaseModel]) -> dict[str, str]:
    """Each field's docstring (the string literal right under it), own and inherited."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if issubclass(cls, BaseModel) and cls is not BaseModel:
            docs.update(_class_docs(cls))
    return docs


@functools.cache
def _class_docs(cls: type) -> dict[str, str]:
    tree = ast.parse(inspect.getsource(inspect.getmodule(cls)))  # type: ignore[arg-type]
    found = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__]
    if len(found) != 1:
        raise LookupError(f"{cls.__qualname__}: expected one top-level class of that name")
    docs: dict[str, str] = {}
    body = found[0].body
    for field, after in zip(body, body[1:], strict=False):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[field.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _model_of(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _type(annotation: object) -> str:
    text = str(annotation).replace("typing.", "").replace("releasegate.", "")
    if isinstance(annotation, type):
        text = annotation.__name__
    return f"`{text}`".replace("|", "\\|")


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.default if field.default_factory is None else field.default_factory()  # type: ignore[call-arg]
    if isinstance(value, BaseModel):
        return "(section)"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
        return f"{len(value)} items"
    return f"`{json.dumps(value, default=str)}`".replace("|", "\\|")


if __name__ == "__main__":  # pragma: no cover
    print(render_reference(), end="")
