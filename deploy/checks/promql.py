"""What the dashboards and alerts query: their PromQL expressions and the metric names in them.

Shared by the observability checks (conventions, metric names against the platform's
registry) and the scrape check (metric names against what running services export).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
RULES_FILE = OBSERVABILITY / "alerts" / "aptt.rules.yaml"
DASHBOARDS_DIR = OBSERVABILITY / "dashboards"

# Series Prometheus makes itself rather than the services.
SYNTHETIC = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})

_KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "atan2",
        "inf",
        "nan",
    }
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_NUMBER = re.compile(r"^\d")


@dataclass(frozen=True)
class Query:
    where: str  # "<file>: <panel or alert>"
    expr: str


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (label names, functions, keywords left out)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    names = set()
    for match in _IDENT.finditer(text):
        name = match.group(1)
        if name.lower() in _KEYWORDS or _NUMBER.match(name):
            continue
        names.add(name)
    return names


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboards() -> dict[Path, dict[str, Any]]:
    return {path: json.loads(path.read_text()) for path in sorted(DASHBOARDS_DIR.glob("*.json"))}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries() -> list[Query]:
    """Every PromQL expression of the alert rules and dashboards (variables' queries too)."""
    found = [
        Query(f"{RULES_FILE.name}: {rule.get('alert') or rule.get('record')}", rule["expr"])
        for rule in alert_rules()
    ]
    for path, dashboard in dashboards().items():
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    found.append(Query(f"{path.name}: {panel.get('title')}", target["expr"]))
        for variable in dashboard.get("templating", {}).get("list", []):
            query = variable.get("query")
            text = query.get("query") if isinstance(query, dict) else query
            if variable.get("type") == "query" and isinstance(text, str):
                found.append(Query(f"{path.name}: ${variable['name']}", _label_values(text)))
    return found


def _label_values(text: str) -> str:
    """label_values(metric{...}, label) -> metric{...}: the part that names a metric."""
    match = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", text)
    return match.group(1) if match else text


def queried_metrics() -> dict[str, list[str]]:
    """Metric name -> where it is queried."""
    used: dict[str, list[str]] = {}
    for query in queries():
        for name in metric_names(query.expr):
            used.setdefault(name, []).append(query.where)
    return used


def exported_series(families: dict[str, str]) -> set[str]:
    """Series names a set of metric families exposes, from their names and types."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("", "_sum", "_count", "_created"),
        "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    }
    names = set()
    for family, kind in families.items():
        base = family.removesuffix("_total") if kind == "counter" else family
        for suffix in suffixes.get(kind, ("",)):
            names.add(base + suffix)
    return names


def families_from_exposition(text: str) -> dict[str, str]:
    """`# TYPE name kind` lines of a Prometheus text exposition: name -> kind."""
    families = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            families[name] = kind.strip()
    return families
