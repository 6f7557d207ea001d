"""The repository stands alone: its documents link only to files it holds, and no committed
file names a folder of the machine it was written on."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)\s]+)\)")
# A workspace or home folder of a developer's machine; container paths (/tmp, /etc) are fine.
MACHINE_PATH = re.compile(r"(?<![\w.])/(work|home/[a-z][\w-]*|Users/[A-Za-z][\w-]*)/")


def committed(pattern: str) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", pattern], cwd=ROOT, capture_output=True, check=True
    )
    return [ROOT / name for name in listed.stdout.decode().split("\0") if name]


def test_every_relative_link_in_the_documents_reaches_a_file_of_the_repository() -> None:
    documents = committed("*.md")
    assert documents
    broken = []
    for document in documents:
        for target in LINK.findall(document.read_text()):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a web address or an anchor of the same page
            path = (document.parent / target.split("#", 1)[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert broken == []


def test_no_committed_file_names_a_folder_of_a_developers_machine() -> None:
    found = []
    for path in committed("*"):
        if path.suffix in {".png", ".jpg", ".ico", ".woff2"} or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        found += [f"{path.relative_to(ROOT)}: {m[0]}" for m in MACHINE_PATH.finditer(text)]
    assert found == []
