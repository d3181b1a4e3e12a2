"""``junit.xml``: one test case per gate (and one per failed stage) for CI."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from releasegate.records.run import PipelineResult
from releasegate.report.text import xml_text

_MESSAGE_LIMIT = 500


def render_junit(result: PipelineResult) -> str:
    """A JUnit XML document; warning gates that fail are reported as skipped with a message.

    Every name and message passes through ``xml_text``: ids, gate names and outputs may
    hold characters XML 1.0 cannot (control characters, lone surrogates).
    """
    suite = ET.Element("testsuite", name="releasegate")
    failures = errors = skipped = 0
    for stage in result.stages:
        if stage.errors:
            case = ET.SubElement(
                suite, "testcase", classname="releasegate.stages", name=xml_text(stage.name)
            )
            ET.SubElement(case, "error", message=_msg("; ".join(stage.errors)))
            errors += 1
    for message in result.errors:
        if not any(message.endswith(e) for s in result.stages for e in s.errors):
            case = ET.SubElement(suite, "testcase", classname="releasegate.run", name="run")
            ET.SubElement(case, "error", message=_msg(message))
            errors += 1
    for gate in result.gates:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"releasegate.gates.{gate.gate_type}",
            name=xml_text(gate.name),
        )
        if not gate.evaluated:
            ET.SubElement(case, "skipped", message=_msg(gate.explanation))
            skipped += 1
        elif not gate.passed and gate.gate_type == "blocking":
            failure = ET.SubElement(case, "failure", message=_msg(gate.explanation))
            failure.text = xml_text(gate.explanation)
            failures += 1
        elif not gate.passed:
            ET.SubElement(case, "skipped", message=_msg(f"warning: {gate.explanation}"))
            skipped += 1
    if result.warnings:
        # CI shows system-err beside the suite; every run warning (missing outputs,
        # default gates, no regression check) must reach the job page, not just the file.
        ET.SubElement(suite, "system-err").text = xml_text(
            "\n".join(f"warning: {w}" for w in result.warnings)
        )
    total = len(suite.findall("testcase"))
    suite.set("tests", str(total))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    suite.set("time", f"{result.run.duration_seconds:.3f}")
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )


def _msg(text: str) -> str:
    return xml_text(text, limit=_MESSAGE_LIMIT)
