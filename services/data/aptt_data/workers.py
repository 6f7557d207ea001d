"""The data service's background loops: the import worker.

Every pod with `APTT_BACKGROUND_ENABLED` runs one. It claims a queued import with a lease
(owner and expiry), renews the lease while it works, and takes over a job whose lease ran out
(its pod died): the job goes on from its last committed chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid

from aptt_platform.logging import get_logger
from aptt_platform.mongo import Document, Mongo
from aptt_platform.runtime import Runtime

from aptt_data.service import Config, assessments, imports, roster_import
from aptt_data.store import imports as store

log = get_logger(__name__)
IDLE_SECONDS = 0.5


def _config(runtime: Runtime) -> Config:
    config = runtime.config
    if not isinstance(config, Config):
        config = runtime.settings.config()  # type: ignore[attr-defined]
    assert isinstance(config, Config)
    return config


async def import_worker(runtime: Runtime) -> None:
    """Claim and run imports, one at a time, until cancelled."""
    config = _config(runtime)
    owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    while True:
        try:
            job = await store.claim_job(
                runtime.mongo.db, owner=owner, lease_seconds=config.import_lease_seconds
            )
        except Exception as exc:  # the database may be away for a moment
            log.warning("could not look for imports", error=str(exc)[:300])
            job = None
        if job is None:
            await asyncio.sleep(IDLE_SECONDS)
            continue
        await run_job(runtime.mongo, job, owner=owner, config=config)


async def run_job(mongo: Mongo, job: Document, *, owner: str, config: Config) -> None:
    """Run a claimed job to its end. Validation renews the lease from a side task; each
    applied chunk renews it in its own transaction (a renewal beside it would conflict)."""
    try:
        await _run(mongo, job, owner=owner, config=config)
        log.info("import done", import_id=job["import_id"], kind=job["kind"])
    except imports.ImportFailed as exc:
        await imports.fail(mongo, job, owner=owner, reason=exc.reason, file=exc.file)
        log.info("import failed", import_id=job["import_id"], kind=job["kind"])
        return
    except store.LeaseLost:
        log.warning("lost an import to another worker", import_id=job["import_id"])
        return
    except Exception as exc:
        log.exception("import interrupted", import_id=job["import_id"], error=str(exc)[:300])
        with contextlib.suppress(Exception):
            await imports.release(mongo, job, owner=owner)
        return


async def _run(mongo: Mongo, job: Document, *, owner: str, config: Config) -> None:
    if job["kind"] == "roster":
        validate, phases = roster_import.validate, roster_import.PHASES
    else:
        validate, phases = assessments.validate_results, assessments.RESULT_PHASES
    if job["phase"] == "validate":
        renewing = asyncio.create_task(_renew(mongo, job["import_id"], owner, config))
        began = time.monotonic()
        try:
            await validate(mongo, job, owner=owner, config=config)
            log.info(
                "import phase done",
                import_id=job["import_id"],
                phase="validate",
                seconds=round(time.monotonic() - began, 2),
            )
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        await _renew_once(mongo, job["import_id"], owner, config)
    await imports.run_phases(mongo, job["import_id"], owner=owner, phases=phases, config=config)


async def _renew_once(mongo: Mongo, import_id: str, owner: str, config: Config) -> None:
    await store.renew_lease(
        mongo.db, import_id, owner=owner, lease_seconds=config.import_lease_seconds
    )


async def _renew(mongo: Mongo, import_id: str, owner: str, config: Config) -> None:
    while True:
        await asyncio.sleep(config.import_lease_seconds / 3)
        try:
            if not await store.renew_lease(
                mongo.db, import_id, owner=owner, lease_seconds=config.import_lease_seconds
            ):
                return
        except Exception as exc:
            log.warning("could not renew an import's lease", error=str(exc)[:300])
