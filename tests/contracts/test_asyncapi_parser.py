"""The AsyncAPI document parses with the official AsyncAPI parser, as outside tools read it.

The parser is the npm package `@asyncapi/parser`, pinned in contracts/asyncapi-check's lock;
`npm ci` runs once per lock (a stamp in node_modules remembers which lock it installed).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
import yaml
from aptt_contracts import generate

CHECK = generate.ROOT / "asyncapi-check"
STAMP = CHECK / "node_modules" / ".aptt-installed-lock"


@pytest.fixture(scope="session")
def parser_check() -> Path:
    """The check script, with its npm dependencies installed from the committed lock."""
    lock = hashlib.sha256((CHECK / "package-lock.json").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != lock:
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=CHECK,
            check=True,
            timeout=240,
        )
        STAMP.write_text(lock)
    return CHECK / "check.mjs"


def parse(script: Path, document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(script), str(document)],
        cwd=CHECK,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_committed_document_parses_with_the_official_parser(parser_check: Path) -> None:
    result = parse(parser_check, generate.ASYNCAPI)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no errors" in result.stdout


def test_a_payload_ref_the_document_cannot_resolve_fails_the_check(
    parser_check: Path, tmp_path: Path
) -> None:
    # The shape the generator once wrote: a payload-local `$defs` ref, resolved from the root.
    document = generate.asyncapi()
    message = document["components"]["messages"]["data_skill_defined_v1"]
    items = message["payload"]["schema"]["properties"]["benchmarks"]["items"]
    items["$ref"] = "#/$defs/GradeBenchmark"
    broken = tmp_path / "asyncapi.yaml"
    broken.write_text(yaml.safe_dump(document, sort_keys=False))
    result = parse(parser_check, broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "invalid-ref" in result.stdout
    assert "#/$defs/GradeBenchmark" in result.stdout
