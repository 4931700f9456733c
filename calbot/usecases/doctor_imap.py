"""`calbot doctor`'s IMAP checks, when `outputs.imap_drafts` is on: the login (over a
verified TLS connection), the Drafts folder (`drafts_folder`, else SPECIAL-USE `\\Drafts`,
else one named Drafts) and whether calbot may APPEND there, and the Sent folder it reads
to tell a sent draft from a deleted one. Read-only: nothing is appended to try.

The APPEND right: with the ACL extension, MYRIGHTS on Drafts must hold `i` (insert); without
it, Drafts must open READ-WRITE (a read-only folder refuses APPEND).
"""

from __future__ import annotations

import imaplib
from collections.abc import Mapping
from typing import Any

from calbot.adapters.imap.connect import Session
from calbot.adapters.imap.sink import DRAFTS, SENT
from calbot.config.settings import Settings
from calbot.errors import AuthError, CalbotError
from calbot.usecases.doctor_check import Check

__all__ = ["imap_checks"]

DOCTOR_RETRY_BUDGET = 10.0  # seconds: doctor answers quickly rather than riding out an outage


def imap_checks(settings: Settings, *, env: Mapping[str, str] | None = None) -> list[Check]:
    """The IMAP lines of the report; none when the IMAP sink is off."""
    if not settings.outputs.imap_drafts:
        return []
    imap = settings.imap
    session = Session(
        imap,
        env=env,
        timeout=settings.limits.http_timeout_seconds,
        retry_budget=DOCTOR_RETRY_BUDGET,
    )
    where = session.where
    try:
        client = session.run("LOGIN", lambda c: c)
    except AuthError as exc:
        what = str(exc).removesuffix(f" — {exc.fix}")  # the fix has its own place
        return [Check("IMAP login", False, what, exc.fix, exit_code=3)]
    except CalbotError as exc:
        fix = "set [imap] ca_file" if "certificate" in str(exc) else "check [imap] host and port"
        return [Check("IMAP login", False, str(exc), fix, exit_code=exc.exit_code)]
    checks = [Check("IMAP login", True, f"{imap.username} on {where} ({imap.security})")]
    try:
        listed = client.list_folders()
        checks.append(_drafts(settings, client, listed))
        checks.append(_sent(listed))
    except imaplib.IMAP4.error as exc:
        checks.append(Check("IMAP folders", False, f"{where}: {exc}", "check the mailbox"))
    finally:
        session.close()
    return checks


def _folder_names(listed: list[tuple[tuple[bytes, ...], bytes, str]]) -> dict[str, set[bytes]]:
    return {str(name): set(flags) for flags, _, name in listed}


def _drafts(
    settings: Settings, client: Any, listed: list[tuple[tuple[bytes, ...], bytes, str]]
) -> Check:
    folders = _folder_names(listed)
    configured = settings.imap.drafts_folder
    if configured:
        name: str | None = configured if configured in folders else None
        how = "[imap] drafts_folder"
    else:
        marked = [n for n, flags in folders.items() if DRAFTS in flags]
        name = marked[0] if marked else ("Drafts" if "Drafts" in folders else None)
        how = "marked \\Drafts" if marked else "named Drafts"
    if name is None:
        return Check(
            "IMAP Drafts",
            False,
            f"no Drafts folder ({configured!r} not found)" if configured else "no Drafts folder",
            'set [imap] drafts_folder to the folder your mail program keeps drafts in (or "")',
            exit_code=2,
        )
    ok, detail = _may_append(client, name)
    fix = "" if ok else "give the account the right to add messages to that folder"
    return Check("IMAP Drafts", ok, f"{name!r} ({how}): {detail}", fix)


def _may_append(client: Any, name: str) -> tuple[bool, str]:
    if client.has_capability("ACL"):
        # MYRIGHTS (RFC 4314): our own rights only; imapclient has no method for it
        answer = client._command_and_check("myrights", client._normalise_folder(name))
        text = b" ".join(a if isinstance(a, bytes) else str(a).encode() for a in answer)
        granted = text.rsplit(b" ", 1)[-1].decode(errors="replace")
        return "i" in granted, f"rights {granted!r} (APPEND needs i)"
    info = client.select_folder(name)
    writable = b"READ-WRITE" in info
    # Left selected, never CLOSEd: CLOSE would expunge the user's \Deleted messages; the
    # LOGOUT that follows expunges nothing.
    return writable, "opens read-write (APPEND allowed)" if writable else "opens read-only"


def _sent(listed: list[tuple[tuple[bytes, ...], bytes, str]]) -> Check:
    folders = _folder_names(listed)
    marked = [n for n, flags in folders.items() if SENT in flags]
    name = marked[0] if marked else ("Sent" if "Sent" in folders else None)
    if name is None:
        return Check(
            "IMAP Sent",
            True,
            "no Sent folder found: drafts that leave Drafts count as deleted, never as sent",
            warning=True,
        )
    return Check("IMAP Sent", True, f"{name!r}: tells a sent draft from a deleted one")
