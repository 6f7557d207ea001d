"""Posting an import to the data service and following its job until it ends (used by the
demo seeding and by `aptt import`)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import httpx

Job = dict[str, Any]
ENDED = ("done", "failed")


def post_import(
    http: httpx.Client,
    data_url: str,
    headers: dict[str, str],
    kind: str,
    upload: tuple[str, bytes | IO[bytes], str],
    *,
    mode: str | None = None,
) -> httpx.Response:
    """POST /v1/roster/imports or /v1/assessments/imports (the file is streamed)."""
    path = "/v1/roster/imports" if kind == "roster" else "/v1/assessments/imports"
    return http.post(
        f"{data_url}{path}",
        headers=headers,
        files={"file": upload},
        data={"mode": mode} if mode else None,
    )


def wait_for_import(
    http: httpx.Client,
    data_url: str,
    headers: dict[str, str],
    posted: httpx.Response,
    *,
    timeout: float = 3600.0,
    on_progress: Callable[[Job], None] | None = None,
) -> Job:
    """Follow an accepted import (202, Location) until it is done or failed."""
    posted.raise_for_status()
    location = posted.headers["location"]
    deadline = time.monotonic() + timeout
    while True:
        answer = http.get(f"{data_url}{location}", headers=headers)
        answer.raise_for_status()
        job: Job = answer.json()
        if on_progress is not None:
            on_progress(job)
        if job["status"] in ENDED:
            return job
        if time.monotonic() > deadline:
            raise RuntimeError(f"the import {location} did not end within {timeout:.0f}s")
        time.sleep(0.5)


def progress_line(job: Job, width: int = 30) -> str:
    """One line for a terminal: a bar over the job's phases, and its counts."""
    progress = job["progress"]
    phases = ("queued", "validating", "applying", "done")
    at = phases.index(job["status"]) if job["status"] in phases else len(phases) - 1
    filled = int(width * at / (len(phases) - 1))
    bar = "#" * filled + "-" * (width - filled)
    return (
        f"[{bar}] {job['status']:<10} {job.get('phase') or '':<22} "
        f"read {progress['rows_read']:,}  applied {progress['rows_applied']:,}  "
        f"rejected {progress['rows_rejected']:,}  chunks {progress['chunks_applied']:,}"
    )


def summary(job: Job) -> str:
    if job["status"] == "failed":
        error = job.get("error") or {}
        return f"import {job['import_id']} failed: {error.get('reason')} ({error.get('file')})"
    lines = [f"import {job['import_id']} done"]
    counts = job.get("counts") or {}
    lines.append("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    for kind, by in (job.get("by_kind") or {}).items():
        lines.append(f"  {kind:<11} " + ", ".join(f"{k} {v:,}" for k, v in by.items()))
    rejected = job.get("rejected") or []
    lines.append(f"  rejected {job.get('rejected_count', 0):,} (first ones below)")
    for row in rejected[:10]:
        where = f"{row['file']}:{row['line'] or '-'}:{row['column'] or '-'}"
        lines.append(f"    {where}  {row['reason']}")
    if "warnings" in job:  # roster imports: values read leniently or left out
        lines.append(f"  warnings {job.get('warnings_count', 0):,} (first ones below)")
        for row in (job.get("warnings") or [])[:10]:
            where = f"{row['file']}:{row['line'] or '-'}:{row['column'] or '-'}"
            lines.append(f"    {where}  {row['reason']}")
    return "\n".join(lines)


def run_import(
    data_url: str, headers: dict[str, str], kind: str, file: Path, *, mode: str | None
) -> int:
    """`aptt import`: upload a file, show a progress bar until the job ends, print the report."""
    tty = sys.stdout.isatty()

    def show(job: Job) -> None:
        line = progress_line(job)
        print(f"\r{line}" if tty else line, end="" if tty else "\n", flush=True)

    content_type = "application/zip" if file.suffix.lower() == ".zip" else "text/csv"
    with httpx.Client(timeout=600) as http, file.open("rb") as stream:
        posted = post_import(
            http, data_url, headers, kind, (file.name, stream, content_type), mode=mode
        )
        if posted.status_code != 202:
            print(f"refused ({posted.status_code}): {posted.text}", file=sys.stderr)
            return 1
        job = wait_for_import(http, data_url, headers, posted, on_progress=show)
    if tty:
        print()
    print(summary(job))
    return 0 if job["status"] == "done" else 1
