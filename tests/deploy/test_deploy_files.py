"""Static facts about the images and the observability sources, checked without any tool."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from aptt_contracts.catalogue import SERVICES

ROOT = Path(__file__).resolve().parents[2]


APPS = (*SERVICES, "web")


def test_one_dockerfile_builds_every_app_from_the_lock_and_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert not [p for p in ROOT.glob("*/**/Dockerfile") if ".venv" not in p.parts]
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?", text, flags=re.MULTILINE)
    assert [name for _, name in stages] == ["uv", "build", "runtime"]
    assert all(":" in image and not image.endswith(":latest") for image, _ in stages)
    assert 'uv sync --frozen --no-dev --no-editable --package "aptt-$APP"' in text
    # uv needs every member's pyproject.toml to read the workspace, whichever app is built.
    for app in APPS:
        folder = "web" if app == "web" else f"services/{app}"
        assert f"source={folder}/pyproject.toml" in text, app
    runtime = text.split(" AS runtime", 1)[1]
    assert "ARG APP" in runtime
    assert "APP_MODULE=aptt_${APP}" in runtime
    assert "uv" not in re.findall(r"COPY --from=(\w+)", runtime)
    assert "COPY --from=build" in runtime
    assert "/app/.venv" in runtime
    assert re.search(r"^USER 10001:10001$", runtime, flags=re.MULTILINE)
    assert 'exec python -m \\"$APP_MODULE\\"' in runtime
    assert "STOPSIGNAL SIGTERM" in runtime


def test_dockerignore_keeps_the_context_small() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert next(line for line in lines if not line.startswith("#")) == "*"
    assert "!uv.lock" in lines
    # The web's templates, static files and catalogues are inside its package directory.
    assert {"!web/pyproject.toml", "!web/aptt_web/"} <= set(lines)


def test_dashboards_have_stable_uids_and_a_datasource_variable() -> None:
    uids = set()
    for path in sorted((ROOT / "deploy" / "observability" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"] == path.stem
        uids.add(dashboard["uid"])
        names = [v["name"] for v in dashboard["templating"]["list"]]
        assert "datasource" in names
    assert {"aptt-overview", "aptt-events", "aptt-messages"} <= uids


def test_every_alert_has_a_runbook_and_a_test() -> None:
    alerts_dir = ROOT / "deploy" / "observability" / "alerts"
    rules = yaml.safe_load((alerts_dir / "aptt.rules.yaml").read_text())
    tests = (alerts_dir / "aptt.rules.test.yaml").read_text()
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert "docs/operations.md#" in rule["annotations"]["runbook_url"]
            assert f"alertname: {rule['alert']}" in tests
