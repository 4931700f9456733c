"""`calbot doctor`: every check between a config file and a working scan, each failure with
its fix. Nothing here prints; `calbot.cli.google.cmd_doctor` shows the list.

The checks, in order: the config (validated before this runs), any starter placeholder left
(`doctor_source`), the templates, that no calbot module can send (`calbot.usecases.nosend`
over the installed package), that the state dir and the outbox are private (folders 0700,
files 0600: they hold client data); an ICS source's file or URL (`doctor_source`); then —
when the config uses Google at all — the credentials and the reach of each API
(`doctor_google`); last, that no token or client secret was copied into the state dir or the
outbox (`doctor_files`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from calbot.adapters.google.api import GoogleApi, connect
from calbot.adapters.google.scopes import GMAIL_COMPOSE, scopes_for
from calbot.adapters.sqlite.store import DB_NAME, StoreUnreadable, check_store_file
from calbot.config.settings import Settings
from calbot.config.templates import load_templates
from calbot.errors import ConfigError
from calbot.usecases.doctor_check import Check
from calbot.usecases.doctor_files import no_send, private_folder, secrets_copied
from calbot.usecases.doctor_google import google_checks, google_unused
from calbot.usecases.doctor_imap import imap_checks
from calbot.usecases.doctor_source import ics_source, placeholders

__all__ = ["run_checks"]


def run_checks(
    settings: Settings,
    *,
    now: datetime,
    connect: Callable[..., GoogleApi] = connect,
    state_dir: Path | None = None,
) -> list[Check]:
    """Every check, in order. `state_dir` None skips that folder's checks."""
    checks = [Check("config", True, f"{settings.path} is valid")]
    unreplaced = placeholders(settings)
    if unreplaced is not None:
        checks.append(unreplaced)
    checks.append(_templates(settings))
    checks.append(no_send(gmail=GMAIL_COMPOSE in scopes_for(settings)))
    folders = _client_data_folders(settings, state_dir)
    checks.extend(private_folder(name, folder) for name, folder in folders)
    if settings.source.kind == "ics":
        checks.append(ics_source(settings))
    if settings.source.kind == "caldav":  # the CalDAV server's checks (doctor_caldav)
        from calbot.usecases.doctor_caldav import caldav_checks

        caldav_checks(settings, checks)
    if state_dir is not None:
        checks.append(_state_store(state_dir))
    if scopes_for(settings):
        google_checks(settings, now, connect, checks)
    else:
        checks.append(google_unused(settings))
    checks.extend(imap_checks(settings))  # none unless outputs.imap_drafts
    if folders:
        checks.append(secrets_copied(settings, [folder for _, folder in folders]))
    return checks


def _client_data_folders(settings: Settings, state_dir: Path | None) -> list[tuple[str, Path]]:
    """The folders that hold client data, by the name the report gives them."""
    folders = [("state dir", state_dir)] if state_dir is not None else []
    if settings.outputs.outbox:
        folders.append(("outbox", Path(settings.outputs.outbox).expanduser()))
    return folders


def _templates(settings: Settings) -> Check:
    where = settings.outputs.templates_dir or "built-in"
    try:
        load_templates(settings.outputs.templates_dir, settings.path)
    except ConfigError as exc:
        return Check(
            "templates",
            False,
            str(exc),
            'fix the template named above, or set outputs.templates_dir = "" for the built-in ones',
            exit_code=2,
        )
    return Check("templates", True, f"{where} templates load")


def _state_store(state_dir: Path) -> Check:
    """The store file is one calbot can read (the header check every command makes)."""
    path = state_dir / DB_NAME
    try:
        check_store_file(path)
    except StoreUnreadable as exc:
        return Check("state store", False, str(exc), f"mv {path} {path}.broken", exit_code=2)
    return Check("state store", True, f"{path} is readable" if path.exists() else "none yet")
