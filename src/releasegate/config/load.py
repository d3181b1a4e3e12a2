"""Load a YAML config into ``PipelineConfig`` with errors that name file, line and key."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from releasegate.config.schema import PipelineConfig
from releasegate.errors import ConfigError
from releasegate.input_files import MAX_CONFIG_BYTES, read_text_capped

Loc = tuple[int | str, ...]


def load_config(path: str | Path | None) -> PipelineConfig:
    """Read and validate a YAML config file; ``None`` gives the defaults.

    Relative ``metrics.schema_path`` and ``safety.suite_path`` are resolved against the
    config file's folder.

    Raises:
        ConfigError: unreadable file, bad YAML, unknown keys, wrong types or values.
    """
    if path is None:
        return PipelineConfig()
    file = Path(path)
    text = read_text_capped(file, what="config", limit=MAX_CONFIG_BYTES, error=ConfigError)
    return parse_config(text, source=str(file), base_dir=file.parent)


def parse_config(
    text: str, *, source: str = "<config>", base_dir: Path | None = None
) -> PipelineConfig:
    """Validate YAML text as a config (see ``load_config``)."""
    raw, lines = load_yaml(text, source=source)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{source}: the config must be a mapping of keys, got {type(raw).__name__}"
        )
    raw = _resolve_paths(raw, base_dir)
    try:
        return PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source=source, lines=lines)) from exc


_RELATIVE_PATHS = (
    ("metrics", "schema_path"),
    ("safety", "suite_path"),
    ("regression", "noise_floor"),
)


def _resolve_paths(raw: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    """Paths to files that belong with the config are read relative to its folder."""
    if base_dir is None:
        return raw
    out = dict(raw)
    for section, key in _RELATIVE_PATHS:
        part = out.get(section)
        if not isinstance(part, dict):
            continue
        value = part.get(key)
        if isinstance(value, str) and not Path(value).is_absolute():
            out[section] = {**part, key: str(base_dir / value)}
    return out


MAX_YAML_NODES = 100_000
"""Most nodes a config may expand to once aliases are followed (a "billion laughs"
document of 600 bytes expands to ~10^9)."""
_MERGE_TAG = "tag:yaml.org,2002:merge"

# libyaml's parser where PyYAML was built with it (the wheels are): ~10x the pure-Python
# one, with the same nodes, marks and safe constructor.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str, *, source: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML with bounded work: the data and a key-path -> line index.

    The document is composed once; before anything is constructed its size with
    every alias followed is counted (each shared node once, so the count itself is
    linear), duplicate keys are refused naming both lines, and line numbers are
    recorded without walking into aliased subtrees twice.

    Raises:
        ConfigError: invalid YAML, an alias bomb, nesting too deep, a duplicate key.
    """
    loader: yaml.SafeLoader | None = None
    try:
        loader = _SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None, {}
        expanded = _expanded_size(node, {})
        if expanded > MAX_YAML_NODES:
            raise ConfigError(
                f"{source}: the YAML expands to more than {MAX_YAML_NODES:,} nodes through "
                "aliases (&anchor / *alias); refusing it (an alias bomb?)"
            )
        lines: dict[Loc, int] = {}
        _index(node, (), lines, source=source, seen=set())
        return loader.construct_document(node), lines
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{source}: the YAML is nested too deeply to read") from exc
    finally:
        if loader is not None:
            loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes in the tree with aliases expanded, computed once per distinct node."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = MAX_YAML_NODES + 1  # a cycle (recursive alias) counts as too big
    total = 1
    for child in _children(node):
        total += _expanded_size(child, memo)
        if total > MAX_YAML_NODES:
            break
    memo[id(node)] = total
    return total


def _index(
    node: yaml.Node, loc: Loc, index: dict[Loc, int], *, source: str, seen: set[int]
) -> None:
    """Record the 1-based line of every key path; refuse duplicate keys."""
    index.setdefault(loc, node.start_mark.line + 1)
    if id(node) in seen:  # an alias: its subtree was indexed where the anchor is
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                continue
            if isinstance(key_node, yaml.ScalarNode):
                name = str(key_node.value)
                if name in first:
                    where = _dotted((*loc, name))
                    raise ConfigError(
                        f"{source}:{line}: {where}: duplicate key {name!r} (first on line "
                        f"{first[name]}); the second would silently replace the first"
                    )
                first[name] = line
            key = (*loc, str(key_node.value))
            _index(value_node, key, index, source=source, seen=seen)
            index[key] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*loc, i), index, source=source, seen=seen)


def _describe(exc: ValidationError, *, source: str, lines: Mapping[Loc, int]) -> str:
    # An unknown key usually explains a "missing" one (a typo), so report it first.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc: Loc = tuple(first["loc"])
    line = _nearest_line(loc, lines)
    where = f"{source}:{line}" if line else source
    field = _dotted(loc) or "(top level)"
    if first["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}{_did_you_mean(loc)}"
    else:
        message = str(first["msg"]).removeprefix("Value error, ")
    more = f" (+{len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{where}: {field}: {message}{more}"


def _nearest_line(loc: Loc, lines: Mapping[Loc, int]) -> int | None:
    for cut in range(len(loc), -1, -1):
        line = lines.get(loc[:cut])
        if line is not None and (cut > 0 or not loc):
            return line
    return None


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _did_you_mean(loc: Loc) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    names = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known keys: {', '.join(sorted(names))}"


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The pydantic model class that validates the mapping at ``loc``."""
    current: Any = PipelineConfig
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field else None
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip ``X | None`` down to ``X``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation
