"""A local SMTP server that delivers nothing: every message lands as a file in a maildir.

Run:   python -m aptt_local.smtp_sink --port 2525 --maildir .aptt/mail
Read:  python -m aptt_local.smtp_sink --list .aptt/mail      (or `read_mail()` in code)

Each message is `<arrival ns>-<seq>.eml` (names sort by arrival) and gets one line in
`index.jsonl` with the SMTP envelope, which a message's own headers do not reliably carry
(Bcc recipients, bounce address). The .eml is renamed into place before its index line is
written, so a reader never finds an index line without its file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

INDEX_FILE = "index.jsonl"


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the sink received it."""

    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage
    path: Path
    received_at: datetime
    auth_login: str | None = None

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def body(self, subtype: str = "plain") -> str | None:
        """The text/<subtype> part (the preferred one of a multipart/alternative), if any."""
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None or not isinstance(part, EmailMessage):
            return None
        content = part.get_content()
        return content if isinstance(content, str) else None


def read_mail(maildir: str | Path) -> list[ReceivedMail]:
    """Every message in `maildir`, oldest first; an absent maildir holds no mail."""
    root = Path(maildir)
    try:
        lines = (root / INDEX_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    parser = BytesParser(policy=policy.default)
    mails: list[ReceivedMail] = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # the sink is writing this line right now
        path = root / entry["file"]
        # The .eml keeps SMTP's CRLF line ends; text parts read back with Python's "\n".
        message = parser.parsebytes(path.read_bytes().replace(b"\r\n", b"\n"))
        assert isinstance(message, EmailMessage)  # guaranteed by policy.default
        mails.append(
            ReceivedMail(
                envelope_from=entry["envelope_from"],
                envelope_to=list(entry["envelope_to"]),
                message=message,
                path=path,
                received_at=datetime.fromisoformat(entry["received_at"]),
                auth_login=entry.get("auth_login"),
            )
        )
    return mails


class MaildirHandler:
    """aiosmtpd handler: accept every message and write it to the maildir."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.maildir.mkdir(parents=True, exist_ok=True)
        self._seq = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self._seq += 1
        name = f"{time.time_ns():020d}-{self._seq:06d}.eml"
        tmp = self.maildir / f".{name}.tmp"
        tmp.write_bytes(content)
        os.replace(tmp, self.maildir / name)
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        entry = {
            "file": name,
            "envelope_from": envelope.mail_from or "",
            "envelope_to": list(envelope.rcpt_tos),
            "received_at": datetime.now(UTC).isoformat(),
            "peer": str(session.peer),
            "auth_login": login.decode("utf-8", "replace") if login is not None else None,
            "size": len(content),
        }
        # One write per line keeps lines whole for readers polling the index.
        with (self.maildir / INDEX_FILE).open("a", encoding="utf-8") as index:
            index.write(json.dumps(entry) + "\n")
        return "250 Message accepted for delivery"


def _accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    # Services configured with SMTP credentials must work locally too; the login is recorded.
    return AuthResult(success=True, auth_data=auth_data)


async def serve(host: str, port: int, maildir: Path) -> None:
    """Serve until SIGTERM or SIGINT."""
    handler = MaildirHandler(maildir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="aptt-smtp-sink",
            enable_SMTPUTF8=True,
            authenticator=_accept_any_login,
            auth_require_tls=False,
            loop=loop,
        ),
        host=host,
        port=port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"smtp sink listening on {host}:{port}, maildir {maildir}", flush=True)
    await stop.wait()
    server.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), timeout=2.0)
    print("smtp sink stopped", flush=True)


def print_summary(maildir: Path) -> None:
    mails = read_mail(maildir)
    for mail in mails:
        stamp = mail.received_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        to = ", ".join(mail.envelope_to)
        print(f"{stamp}  {mail.envelope_from} -> {to}  {mail.subject!r}  ({mail.path.name})")
    print(f"{len(mails)} message(s) in {maildir}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aptt_local.smtp_sink",
        description="Local SMTP sink: stores every message as .eml in a maildir.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--maildir", type=Path, help="where to store received messages")
    parser.add_argument("--list", type=Path, metavar="MAILDIR", help="summarize MAILDIR, exit")
    args = parser.parse_args(argv)
    if args.list is not None:
        print_summary(args.list)
        return 0
    if args.maildir is None:
        parser.error("--maildir is required to serve")
    asyncio.run(serve(args.host, args.port, args.maildir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
