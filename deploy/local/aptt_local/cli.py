"""`aptt`: the whole APTT system on one machine, and the helpers to poke at it.

aptt up                      servers, dev token issuer, the four services, demo data
aptt token --role teacher --district demo-district [--subject ID] [--school ID] ...
aptt events aptt.scheduling.meetings.v1 [--from-beginning]
aptt dlq list goals | aptt dlq replay goals
aptt mail | aptt sms         what the mail sink and SMS stand-in received
aptt import roster FILE [--mode bulk|delta] | aptt import results FILE
                             upload to the running data service, follow the job, print the report
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aptt_platform.devissuer import DevIssuer, DevUser, write_users

from aptt_local.process import port_is_free
from aptt_local.servers import LocalStack
from aptt_local.service_process import SERVICES, DevIssuerProcess, ServiceProcess, WebProcess

HOME = Path(os.environ.get("APTT_HOME", ".aptt")).resolve()
STATE = HOME / "state"
RUN_FILE = HOME / "run.json"
ISSUER_KEY = HOME / "dev-issuer.pem"
PREFERRED_PORTS = {
    "issuer": 8900,
    "web": 8000,
    "data": 8001,
    "scheduling": 8002,
    "goals": 8003,
    "notify": 8004,
}
DEMO_DISTRICT = "demo-district"


def _port(name: str) -> int | None:
    """The usual port when it is free, so links stay the same from run to run."""
    port = PREFERRED_PORTS[name]
    return port if port_is_free("127.0.0.1", port) else None


def service_env(stack: LocalStack, issuer_url: str) -> dict[str, str]:
    return {
        **stack.env(),
        "APTT_ENVIRONMENT": "local",
        "APTT_OIDC_ISSUER": issuer_url,
        "APTT_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "APTT_CONSUMER_HEARTBEAT_INTERVAL_MS": "500",
    }


def up(args: argparse.Namespace) -> int:
    # The broker's log lives in the S3 server's memory (it survives a broker restart, not the
    # stack's), so nothing else is kept either: the databases stay consistent with the topics.
    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir(parents=True)
    stack = LocalStack(STATE)
    issuer = DevIssuerProcess(STATE, ISSUER_KEY, port=_port("issuer"))
    services: list[ServiceProcess] = []
    web: WebProcess | None = None
    stopping = threading.Event()

    def on_signal(signum: int, _: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print("starting broker, database, mail sink and SMS stand-in ...", flush=True)
        stack.start()
        if not args.no_demo:
            from aptt_local import demo

            write_users(issuer.users_file, demo.demo_users(demo.demo_roster()))
        issuer.start()
        env = service_env(stack, issuer.url)
        services = [ServiceProcess(s, STATE, env=env, port=_port(s)) for s in SERVICES]
        print("starting the services ...", flush=True)
        # Side by side: most of a service's start-up is waiting for its consumer group.
        with ThreadPoolExecutor(max_workers=len(services)) as pool:
            for future in [pool.submit(s.start) for s in services]:
                future.result()
        web = WebProcess(
            STATE,
            env={**env, "APTT_MONGO_DATABASE": "aptt_web"},
            service_urls={s.service: s.url for s in services},
            port=_port("web"),
        )
        web.start()
        _write_run_file(stack, issuer, services)
        if not args.no_demo:
            from aptt_local import demo

            print("loading demo data ...", flush=True)
            walkthrough = demo.seed(
                {s.service: s.url for s in services},
                issuer_key=ISSUER_KEY,
                issuer_url=issuer.url,
                stack=stack,
            )
        else:
            walkthrough = ""
        print(_summary(stack, issuer, services, walkthrough, web), flush=True)
        stopping.wait()
    finally:
        print("\nstopping ...", flush=True)
        if web is not None:
            web.stop()
        for service in services:
            service.terminate()
        for service in reversed(services):
            service.stop()
        issuer.stop()
        stack.stop()
        RUN_FILE.unlink(missing_ok=True)
        print("stopped; no process left behind.", flush=True)
    return 0


def _write_run_file(
    stack: LocalStack, issuer: DevIssuerProcess, services: list[ServiceProcess]
) -> None:
    RUN_FILE.write_text(
        json.dumps(
            {
                "issuer": issuer.url,
                "services": {s.service: s.url for s in services},
                "kafka": stack.kafka_bootstrap,
                "mongo": stack.mongo_url,
                "maildir": str(stack.maildir),
                "sms_store": str(stack.sms.store),
            },
            indent=2,
        )
        + "\n"
    )


def _summary(
    stack: LocalStack,
    issuer: DevIssuerProcess,
    services: list[ServiceProcess],
    walkthrough: str,
    web: WebProcess,
) -> str:
    lines = ["", "APTT is running. Ctrl-C stops everything.", ""]
    lines += [
        f"  web pages   {web.url}/   (logs: {web.log_path})",
        "              Sign in: press 'Sign in', then pick a demo user on the dev issuer's page:",
    ]
    lines += [f"                - {u.name}" for u in issuer_users(issuer)]
    lines += [""]
    lines += [f"  {s.service:<11} {s.url}/docs   (logs: {s.log_path})" for s in services]
    lines += [
        "",
        f"  kafka       {stack.kafka_bootstrap}   (.venv/bin/aptt events <topic>)",
        f"  mongodb     {stack.mongo_url}",
        f"  smtp sink   {stack.smtp_host}:{stack.smtp_port}   (.venv/bin/aptt mail)",
        f"  sms         {stack.sms_url}   (Twilio Messages API stand-in; aptt sms, .venv/bin/aptt)",
        f"  issuer      {issuer.url}   (dev OIDC issuer)",
        "",
        "  A token:   .venv/bin/aptt token --role district_admin --district " + DEMO_DISTRICT,
        '  Use it:    curl -H "Authorization: Bearer $TOKEN" ' + services[0].url + "/v1/...",
    ]
    if walkthrough:
        lines += ["", walkthrough]
    return "\n".join(lines)


def issuer_users(issuer: DevIssuerProcess) -> list[DevUser]:
    return DevIssuer(issuer.url, ISSUER_KEY, users_file=issuer.users_file).users()


def _run_info() -> dict[str, Any]:
    if not RUN_FILE.exists():
        raise SystemExit("nothing is running here: start it with `make up` (or `aptt up`)")
    info: dict[str, Any] = json.loads(RUN_FILE.read_text())
    return info


def token(args: argparse.Namespace) -> int:
    from aptt_platform.devissuer import DevIssuer

    issuer_url = args.issuer or (
        _run_info()["issuer"]
        if RUN_FILE.exists()
        else f"http://127.0.0.1:{PREFERRED_PORTS['issuer']}"
    )
    issuer = DevIssuer(issuer_url, ISSUER_KEY)
    print(
        issuer.mint(
            subject=args.subject or f"dev-{args.role}",
            district_id=args.district,
            roles=args.role,
            school_ids=args.school,
            student_ids=args.student,
            ttl_seconds=args.ttl,
        )
    )
    return 0


def import_file(args: argparse.Namespace) -> int:
    from aptt_platform.devissuer import DevIssuer

    from aptt_local.imports import run_import

    info = _run_info()
    issuer = DevIssuer(info["issuer"], ISSUER_KEY)
    bearer = issuer.mint(subject="aptt-cli", district_id=args.district, roles=["district_admin"])
    mode = args.mode if args.kind == "roster" else None
    return run_import(
        info["services"]["data"],
        {"Authorization": f"Bearer {bearer}"},
        args.kind,
        Path(args.file),
        mode=mode,
    )


def events(args: argparse.Namespace) -> int:
    from aiokafka import AIOKafkaConsumer

    bootstrap = args.bootstrap or _run_info()["kafka"]

    async def tail() -> None:
        consumer = AIOKafkaConsumer(
            args.topic,
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest" if args.from_beginning else "latest",
        )
        await consumer.start()
        try:
            async for record in consumer:
                headers = {k: v.decode(errors="replace") for k, v in record.headers}
                value = (record.value or b"").decode(errors="replace")
                try:
                    data: Any = json.loads(value)
                except ValueError:
                    data = value
                print(
                    json.dumps(
                        {
                            "partition": record.partition,
                            "offset": record.offset,
                            "type": headers.get("ce_type"),
                            "id": headers.get("ce_id"),
                            "time": headers.get("ce_time"),
                            "subject": headers.get("ce_subject"),
                            "district": headers.get("ce_district"),
                            "data": data,
                            **{k: v for k, v in headers.items() if k.startswith("aptt-")},
                        },
                        ensure_ascii=False,
                    ),
                    flush=True,
                )
        finally:
            await consumer.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(tail())
    return 0


def dlq(args: argparse.Namespace) -> int:
    from aptt_platform import dlq as dead_letters

    os.environ.setdefault("APTT_KAFKA_BOOTSTRAP_SERVERS", _run_info()["kafka"])
    return dead_letters.main([args.action, args.service])


def mail(_: argparse.Namespace) -> int:
    from aptt_local.smtp_sink import read_mail

    for item in read_mail(Path(_run_info()["maildir"])):
        print(f"{', '.join(item.envelope_to)}\t{item.subject}")
    return 0


def sms(_: argparse.Namespace) -> int:
    from aptt_local.sms_standin import read_sms

    for message in read_sms(Path(_run_info()["sms_store"])):
        print(f"{message.get('to')}\t{message.get('body')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="aptt", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("up", help="run everything with demo data until Ctrl-C")
    p.add_argument("--no-demo", action="store_true", help="start empty")
    p.set_defaults(run=up)
    p = commands.add_parser("token", help="print a dev bearer token")
    p.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["district_admin", "school_admin", "teacher", "educator", "guardian"],
    )
    p.add_argument("--district", default=DEMO_DISTRICT)
    p.add_argument("--subject", help="user id: the guardian's or staff member's sourcedId")
    p.add_argument("--school", action="append", default=[])
    p.add_argument("--student", action="append", default=[])
    p.add_argument("--ttl", type=int, default=8 * 3600)
    p.add_argument("--issuer", help="issuer URL (default: the running stack's)")
    p.set_defaults(run=token)
    p = commands.add_parser("events", help="tail a topic, decoding CloudEvents")
    p.add_argument("topic")
    p.add_argument("--from-beginning", action="store_true")
    p.add_argument("--bootstrap")
    p.set_defaults(run=events)
    p = commands.add_parser("dlq", help="list or replay a service's dead letters")
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("service", choices=SERVICES)
    p.set_defaults(run=dlq)
    p = commands.add_parser(
        "import", help="import a roster package or results into the data service"
    )
    p.add_argument("kind", choices=["roster", "results"])
    p.add_argument("file", help="a OneRoster zip (roster), or a results CSV or gradebook zip")
    p.add_argument("--mode", choices=["bulk", "delta"], default="bulk", help="roster imports")
    p.add_argument("--district", default=DEMO_DISTRICT)
    p.set_defaults(run=import_file)
    commands.add_parser("mail", help="mail the SMTP sink received").set_defaults(run=mail)
    commands.add_parser("sms", help="texts the SMS stand-in received").set_defaults(run=sms)
    args = parser.parse_args(argv)
    # `aptt sms | head` should end quietly, as Unix tools do, not with a BrokenPipeError.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
