"""The data service's background loops: the import worker and the roster sync schedule.

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

from aptt_platform.auth import Principal
from aptt_platform.errors import Conflict
from aptt_platform.logging import get_logger
from aptt_platform.mongo import Document, Mongo
from aptt_platform.runtime import Runtime

from aptt_data.service import Config, assessments, imports, roster_import, roster_sync
from aptt_data.store import imports as store
from aptt_data.store import sync as sync_store

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
        if job.get("source") == "rest":
            await roster_sync.record_success(mongo, job)
    except roster_sync.ProviderUnreachable as exc:
        log.warning("roster sync provider away", import_id=job["import_id"], error=str(exc))
        with contextlib.suppress(Exception):
            if job.get("attempts", 0) >= imports.MAX_ATTEMPTS:
                reason = f"{exc} (tried {imports.MAX_ATTEMPTS} times)"
                await imports.fail(mongo, job, owner=owner, reason=reason, file=None)
            else:
                await imports.release(mongo, job, owner=owner)
        # The provider gets a moment before the job is claimed again.
        await asyncio.sleep(config.import_lease_seconds / 3)
        return
    except imports.ImportFailed as exc:
        await imports.fail(mongo, job, owner=owner, reason=exc.reason, file=exc.file)
        log.info("import failed", import_id=job["import_id"], kind=job["kind"])
        return
    except store.LeaseLost:
        log.warning("lost an import to another worker", import_id=job["import_id"])
        return
    except Exception as exc:
        # The traceback says where; a message (a row's validation error) may quote a name.
        log.exception("import interrupted", import_id=job["import_id"], error=type(exc).__name__)
        with contextlib.suppress(Exception):
            await imports.release(mongo, job, owner=owner)
        return


async def _run(mongo: Mongo, job: Document, *, owner: str, config: Config) -> None:
    if job["kind"] == "roster":
        validate, phases = roster_import.validate, roster_import.PHASES
    else:
        validate, phases = assessments.validate_results, assessments.RESULT_PHASES
    if job["phase"] == "fetch":
        renewing = asyncio.create_task(_renew(mongo, job["import_id"], owner, config))
        try:
            await roster_sync.fetch(mongo, job, owner=owner, config=config)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        job = await store.reload_job(mongo.db, job["import_id"])
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


async def roster_sync_schedule(runtime: Runtime) -> None:
    """Start a delta sync for every district with a OneRoster provider, every
    `APTT_ROSTER_SYNC_INTERVAL_SECONDS` (off when 0)."""
    interval = float(getattr(runtime.settings, "roster_sync_interval_seconds", 0.0))
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            districts = await sync_store.provider_districts(runtime.mongo.db)
        except Exception as exc:
            log.warning("could not list roster providers", error=type(exc).__name__)
            continue
        for district_id in districts:
            try:
                await runtime.mongo.run(
                    roster_sync.start_sync,
                    district_id=district_id,
                    by=Principal(
                        subject="roster-sync-schedule",
                        district_id=district_id,
                        roles=frozenset({"district_admin"}),
                    ),
                    origin="schedule",
                )
            except Conflict:
                continue  # the last sync is still under way
            except Exception as exc:
                log.warning("could not start a roster sync", error=type(exc).__name__)
