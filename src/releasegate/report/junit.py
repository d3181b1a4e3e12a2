"""``junit.xml``: one test case per gate (and one per failed stage) for CI."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from releasegate.records.run import PipelineResult


def render_junit(result: PipelineResult) -> str:
    """A JUnit XML document; warning gates that fail are reported as skipped with a message."""
    suite = ET.Element("testsuite", name="releasegate")
    failures = errors = skipped = 0
    for stage in result.stages:
        if stage.errors:
            case = ET.SubElement(suite, "testcase", classname="releasegate.stages", name=stage.name)
            ET.SubElement(case, "error", message="; ".join(stage.errors)[:500])
            errors += 1
    for message in result.errors:
        if not any(message.endswith(e) for s in result.stages for e in s.errors):
            case = ET.SubElement(suite, "testcase", classname="releasegate.run", name="run")
            ET.SubElement(case, "error", message=message[:500])
            errors += 1
    for gate in result.gates:
        case = ET.SubElement(
            suite, "testcase", classname=f"releasegate.gates.{gate.gate_type}", name=gate.name
        )
        if not gate.evaluated:
            ET.SubElement(case, "skipped", message=gate.explanation)
            skipped += 1
        elif not gate.passed and gate.gate_type == "blocking":
            ET.SubElement(case, "failure", message=gate.explanation[:500]).text = gate.explanation
            failures += 1
        elif not gate.passed:
            ET.SubElement(case, "skipped", message=f"warning: {gate.explanation}"[:500])
            skipped += 1
    if result.warnings:
        # CI shows system-err beside the suite; every run warning (missing outputs,
        # default gates, no regression check) must reach the job page, not just the file.
        ET.SubElement(suite, "system-err").text = "\n".join(
            f"warning: {w}" for w in result.warnings
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
