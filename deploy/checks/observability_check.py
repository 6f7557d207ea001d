"""Check the dashboards and alert rules for the conventions ops teams rely on.

    uv run --frozen python deploy/checks/observability_check.py

Dashboards: a stable uid (`aptt-<name>`, the file's name), a `datasource` variable of type
Prometheus that every panel and query uses (no data source hard-coded), a unit and a
description on every panel, tag `aptt`. Alerts: severity, summary, description, and a
runbook link to a section of docs/operations.md that exists; a `promtool test rules` case in
which each alert fires. Both: every metric they query is one the platform defines
(aptt_platform.metrics; the scrape check, metrics_check.py, also checks running services).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import generate_latest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import promql

ROOT = promql.ROOT
OPERATIONS = ROOT / "docs" / "operations.md"
RULES_TESTS = promql.OBSERVABILITY / "alerts" / "aptt.rules.test.yaml"
DATASOURCE = "${datasource}"
SEVERITIES = {"critical", "warning", "info"}


def _is_datasource_ok(datasource: Any) -> bool:
    if datasource is None:
        return True  # inherits the panel's
    if isinstance(datasource, dict):
        return bool(datasource.get("uid") == DATASOURCE)
    return bool(datasource == DATASOURCE)


def check_dashboard(path: Path, dashboard: dict[str, Any]) -> list[str]:
    problems = []
    where = path.name
    uid = dashboard.get("uid", "")
    if not re.fullmatch(r"aptt-[a-z0-9-]+", uid) or uid != path.stem:
        problems.append(f"{where}: uid {uid!r} must be aptt-<name> and match the file name")
    if not str(dashboard.get("title", "")).startswith("APTT / "):
        problems.append(f"{where}: title must start with 'APTT / '")
    if "aptt" not in dashboard.get("tags", []):
        problems.append(f"{where}: tag 'aptt' missing")
    if not dashboard.get("description"):
        problems.append(f"{where}: dashboard description missing")
    if dashboard.get("id") is not None:
        problems.append(f"{where}: a provisioned dashboard has no fixed id")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append(f"{where}: needs a 'datasource' variable of type datasource/prometheus")
    for name, variable in variables.items():
        if variable.get("type") == "query" and not _is_datasource_ok(variable.get("datasource")):
            problems.append(f"{where}: variable ${name} must use {DATASOURCE}")
    ids: set[Any] = set()
    for panel in promql.panels(dashboard):
        title = panel.get("title") or "(untitled)"
        pid = panel.get("id")
        if pid in ids:
            problems.append(f"{where}: panel id {pid} used twice")
        ids.add(pid)
        if "gridPos" not in panel:
            problems.append(f"{where}: {title}: gridPos missing")
        if panel.get("type") == "row":
            continue
        if not panel.get("description"):
            problems.append(f"{where}: {title}: description missing")
        if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problems.append(f"{where}: {title}: unit missing (fieldConfig.defaults.unit)")
        if not isinstance(panel.get("datasource"), dict) or not _is_datasource_ok(
            panel["datasource"]
        ):
            problems.append(f"{where}: {title}: datasource must be {DATASOURCE}")
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{where}: {title}: no query")
        for target in targets:
            if not target.get("expr"):
                problems.append(f"{where}: {title}: a target has no expr")
            if not _is_datasource_ok(target.get("datasource")):
                problems.append(f"{where}: {title}: a target hard-codes its data source")
    return problems


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def operations_anchors() -> set[str]:
    if not OPERATIONS.exists():
        return set()
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", OPERATIONS.read_text(), flags=re.MULTILINE)
    return {github_anchor(h) for h in headings}


def alerts_tested() -> set[str]:
    tests = yaml.safe_load(RULES_TESTS.read_text())
    fired = set()
    for test in tests.get("tests", []):
        for case in test.get("alert_rule_test", []):
            if case.get("exp_alerts"):
                fired.add(case["alertname"])
    return fired


def check_alerts() -> list[str]:
    problems = []
    anchors = operations_anchors()
    tested = alerts_tested()
    names = set()
    for rule in promql.alert_rules():
        name = rule.get("alert")
        if not name:
            continue
        if name in names:
            problems.append(f"alert {name} defined twice")
        names.add(name)
        severity = rule.get("labels", {}).get("severity")
        if severity not in SEVERITIES:
            problems.append(f"alert {name}: severity {severity!r} not one of {sorted(SEVERITIES)}")
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not annotations.get(key):
                problems.append(f"alert {name}: annotation {key} missing")
        runbook = annotations.get("runbook_url", "")
        match = re.search(r"docs/operations\.md#([\w-]+)$", runbook)
        if not match:
            problems.append(f"alert {name}: runbook_url must point to docs/operations.md#<section>")
        elif match.group(1) not in anchors:
            problems.append(f"alert {name}: docs/operations.md has no section #{match.group(1)}")
        if name not in tested:
            problems.append(f"alert {name}: no promtool test case in which it fires")
    return problems


def defined_series() -> set[str]:
    import aptt_platform.metrics  # noqa: F401  (registers every metric of the platform)

    families = promql.families_from_exposition(generate_latest().decode())
    return promql.exported_series(families) | promql.SYNTHETIC


def check_metric_names() -> list[str]:
    known = defined_series()
    return [
        f"{name} is queried ({', '.join(sorted(set(where))[:3])}) but no service defines it"
        for name, where in sorted(promql.queried_metrics().items())
        if name not in known
    ]


def main() -> int:
    problems = []
    boards = promql.dashboards()
    if not boards:
        problems.append("no dashboards in deploy/observability/dashboards")
    uids: dict[str, Path] = {}
    for path, dashboard in boards.items():
        problems += check_dashboard(path, dashboard)
        uid = dashboard.get("uid", "")
        if uid in uids:
            problems.append(f"{path.name}: uid {uid} also used by {uids[uid].name}")
        uids[uid] = path
    problems += check_alerts()
    problems += check_metric_names()
    for problem in problems:
        print(f"  FAIL {problem}", file=sys.stderr)
    if problems:
        return 1
    panels = sum(1 for d in boards.values() for p in promql.panels(d) if p.get("type") != "row")
    print(
        f"dashboards and alerts follow the conventions ({len(boards)} dashboards, {panels} "
        f"panels, {len(promql.alert_rules())} alerts, "
        f"{len(promql.queried_metrics())} metrics queried, all defined)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
