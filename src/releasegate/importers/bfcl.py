"""Convert Berkeley Function Calling Leaderboard (BFCL) files into a releasegate benchmark.

Reads files the user already has (nothing is downloaded): a question file (JSON Lines,
``id``, ``question`` as a list of turns of chat messages, ``function`` as a list of
function definitions) and its ``possible_answer`` file (``id``, ``ground_truth`` as a
list of ``{function_name: {argument: [acceptable values]}}``). Writes one benchmark
example per question with ``expected_calls`` (alternatives; BFCL's ``""`` becomes an
optional argument), ``functions`` (BFCL's types turned into JSON Schema), the
``bfcl-v1`` comparison policy, parallel calls as ``call_order: any``, and the BFCL
category as ``category``. See docs/tool-calls.md for how scoring relates to BFCL's
AST checker.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.errors import InputError

MAX_COMBINATIONS = 512
"""Most literal values one nested BFCL alternative may expand into."""

_TYPES = {
    "dict": "object",
    "float": "number",
    "tuple": "array",
    "integer": "integer",
    "string": "string",
    "boolean": "boolean",
    "array": "array",
}
_ROLES = {"system", "user", "assistant"}
_CATEGORY = re.compile(r"^(?P<category>.+?)_\d+(?:-\d+)*$")
_OMIT = object()


class BfclFormatError(InputError):
    """A BFCL file this importer cannot convert (names file, line and field)."""


class UnanswerableError(BfclFormatError):
    """A possible answer no output can pass under BFCL's own checker.

    An argument with no acceptable value, a required argument the function does not
    define, or a parameter the schema requires that the answer leaves out.
    """


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote."""

    written: int
    categories: dict[str, int]
    out: Path
    skipped: tuple[str, ...] = ()
    """Ids left out because no output could match their possible answer."""


def import_bfcl(
    questions: Path, answers: Path, out: Path, *, limit: int | None = None
) -> ImportSummary:
    """Write the benchmark converted from a BFCL question file and its answer file.

    Raises:
        BfclFormatError: unreadable or malformed input, an id without an answer, a
            multi-turn question, or a language BFCL converts with its own type rules.
    """
    answer_rows = {row["id"]: (line, row) for line, row in _rows(answers, "ground_truth")}
    records: list[dict[str, Any]] = []
    skipped: list[str] = []
    for line, row in _rows(questions, "function"):
        if limit is not None and len(records) >= limit:
            break
        where = f"{questions}:{line}"
        if row["id"] not in answer_rows:
            raise BfclFormatError(f"{where}: id {row['id']!r} has no entry in {answers}")
        answer_line, answer = answer_rows[row["id"]]
        try:
            record = convert(row, answer, where=where, answer_where=f"{answers}:{answer_line}")
        except UnanswerableError:
            skipped.append(row["id"])
            continue
        records.append(record)
    if not records:
        raise BfclFormatError(f"{questions}: no questions to convert")
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    categories: dict[str, int] = {}
    for record in records:
        categories[record["category"]] = categories.get(record["category"], 0) + 1
    return ImportSummary(
        written=len(records), categories=categories, out=out, skipped=tuple(skipped)
    )


def _rows(path: Path, needed: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BfclFormatError(f"{path}: cannot read: {exc}") from exc
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BfclFormatError(f"{path}:{number}: invalid JSON: {exc.msg}") from exc
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise BfclFormatError(f"{path}:{number}: id: each line needs a string id")
        if needed not in row:
            raise BfclFormatError(f"{path}:{number}: {needed}: missing (is this the right file?)")
        yield number, row


def category_of(bfcl_id: str) -> str:
    """``simple_python_12`` -> ``simple_python``; ``live_parallel_3-1-0`` -> ``live_parallel``."""
    match = _CATEGORY.match(bfcl_id)
    return match.group("category") if match else "uncategorized"


def convert(
    question: dict[str, Any], answer: dict[str, Any], *, where: str, answer_where: str
) -> dict[str, Any]:
    """One BFCL question and its possible answer as a releasegate benchmark record.

    Raises:
        BfclFormatError: naming the line and field that cannot be converted.
    """
    category = category_of(question["id"])
    if category.endswith(("java", "javascript")):
        raise BfclFormatError(
            f"{where}: function: {category} arguments are source text that BFCL converts with "
            "its own per-language type rules; only the Python categories are supported"
        )
    turns = question.get("question")
    if not isinstance(turns, list) or len(turns) != 1 or not isinstance(turns[0], list):
        raise BfclFormatError(
            f"{where}: question: only single-turn questions can be converted "
            "(multi-turn categories are scored by BFCL's state-based checker)"
        )
    messages = []
    for i, message in enumerate(turns[0]):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise BfclFormatError(f"{where}: question[0][{i}]: a system, user or assistant turn")
        messages.append({"role": message["role"], "content": str(message.get("content", ""))})
    functions = [
        _function(f, f"{where}: function[{i}]") for i, f in enumerate(question["function"])
    ]
    required = {f["name"]: set(f["parameters"].get("required", [])) for f in functions}
    defined = {f["name"]: set(f["parameters"].get("properties", {})) for f in functions}
    truth = answer.get("ground_truth")
    if not isinstance(truth, list) or not truth:
        raise BfclFormatError(f"{answer_where}: ground_truth: a non-empty list of calls")
    calls = [
        _call(c, required, defined, f"{answer_where}: ground_truth[{i}]")
        for i, c in enumerate(truth)
    ]
    return {
        "id": question["id"],
        "input": messages,
        "category": category,
        "expected_calls": calls,
        "call_order": "any" if "parallel" in category else "sequence",
        "comparison": "bfcl-v1",
        "functions": functions,
        "metadata": {"source": "bfcl", "bfcl_category": category},
    }


def _function(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise BfclFormatError(f"{where}: a function needs a name")
    params = raw.get("parameters", {"type": "dict", "properties": {}})
    return {
        "name": raw["name"],
        "description": str(raw.get("description", "")),
        "parameters": to_json_schema(params, where=f"{where}.parameters"),
    }


def to_json_schema(node: Any, *, where: str) -> dict[str, Any]:
    """BFCL's parameter types (``dict``, ``float``, ``tuple``, ``any``) as JSON Schema.

    Raises:
        BfclFormatError: a type BFCL's Python checker does not know.
    """
    if not isinstance(node, dict):
        raise BfclFormatError(f"{where}: a parameter definition must be an object")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type":
            if value == "any":
                continue
            if value not in _TYPES:
                raise BfclFormatError(f"{where}.type: unknown BFCL type {value!r}")
            out["type"] = _TYPES[value]
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {
                name: to_json_schema(sub, where=f"{where}.properties.{name}")
                for name, sub in value.items()
            }
        elif key == "items" and isinstance(value, dict):
            out["items"] = to_json_schema(value, where=f"{where}.items")
        elif key == "required":
            if isinstance(value, list):
                out["required"] = value
        else:
            out[key] = value
    return out


def _call(
    raw: Any, required: dict[str, set[str]], defined: dict[str, set[str]], where: str
) -> dict[str, Any]:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise BfclFormatError(f"{where}: each call is one {{function_name: arguments}} object")
    ((name, args),) = raw.items()
    if not isinstance(args, dict):
        raise BfclFormatError(f"{where}.{name}: arguments must be an object")
    arguments: dict[str, list[Any]] = {}
    optional: list[str] = []
    for arg, alternatives in args.items():
        values, omit = _alternatives(alternatives, f"{where}.{name}.{arg}")
        if omit and not values and arg in required.get(name, set()):
            values = [""]  # required, yet only "" is listed: BFCL accepts exactly ""
        arguments[arg] = values
        # BFCL fails a call without a parameter its schema requires, even when the
        # possible answer lists "" for it; an argument with no other value stays optional.
        if omit and not (arg in required.get(name, set()) and values):
            if name in defined and arg not in defined[name]:
                # BFCL rejects a parameter its schema does not define, even one its
                # answer lists as optional: leave it out, so giving it is unexpected.
                del arguments[arg]
                continue
            optional.append(arg)
        elif name in defined and arg not in defined[name]:
            raise UnanswerableError(f"{where}.{name}.{arg}: not a parameter of {name}")
    missing = sorted(required.get(name, set()) - set(args))
    if missing:
        raise UnanswerableError(f"{where}.{name}: required parameter {missing[0]!r} has no answer")
    call: dict[str, Any] = {"name": name, "arguments": arguments}
    if optional:
        call["optional"] = optional
    return call


def _alternatives(alternatives: Any, where: str) -> tuple[list[Any], bool]:
    """(literal acceptable values, whether leaving the argument out is acceptable)."""
    if not isinstance(alternatives, list):
        raise BfclFormatError(f"{where}: a list of acceptable values")
    values: list[Any] = []
    omit = False
    for alternative in alternatives:
        for value in _expand(alternative, where):
            if value is _OMIT:
                omit = True
            elif value not in values:
                values.append(value)
    if not values and not omit:
        raise UnanswerableError(f"{where}: no acceptable value")
    return values, omit


def _expand(alternative: Any, where: str) -> list[Any]:
    """Literal values of one BFCL alternative (nested dicts hold lists of alternatives)."""
    if isinstance(alternative, str) and alternative == "":
        return [_OMIT]
    if isinstance(alternative, dict):
        return _expand_dict(alternative, where)
    if (
        isinstance(alternative, list)
        and alternative
        and all(isinstance(x, dict) for x in alternative)
    ):
        options = [_expand_dict(d, where) for d in alternative]
        return _bounded([list(combo) for combo in itertools.product(*options)], where)
    return [alternative]


def _expand_dict(alternative: dict[str, Any], where: str) -> list[Any]:
    keys = list(alternative)
    per_key: list[list[Any]] = []
    for key in keys:
        values = alternative[key]
        options = (
            [v for x in values for v in _expand(x, where)] if isinstance(values, list) else [values]
        )
        per_key.append(options)
    combos = []
    for combo in itertools.product(*per_key):
        combos.append({k: v for k, v in zip(keys, combo, strict=True) if v is not _OMIT})
        if len(combos) > MAX_COMBINATIONS:
            break
    return _bounded(combos, where)


def _bounded(values: list[Any], where: str) -> list[Any]:
    if len(values) > MAX_COMBINATIONS:
        raise BfclFormatError(
            f"{where}: a nested answer expands into more than {MAX_COMBINATIONS} values"
        )
    return values
