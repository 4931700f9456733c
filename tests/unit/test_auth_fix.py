"""An AuthError's fix comes from the error: Google's `calbot auth`, a CalDAV or IMAP
password otherwise — for the worker's note, the run record and the digest alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calbot.adapters.caldav.connection import CaldavAuthError
from calbot.adapters.imap.connect import ImapAuthError
from calbot.core.digest import Trouble, TroubleKind
from calbot.errors import AUTH_FIXES, AuthError, auth_service
from calbot.present.digest_words import trouble_parts
from calbot.usecases.failures import AUTH_FIX, failure_of


@pytest.mark.parametrize(
    ("exc", "service"),
    [
        (AuthError("token revoked — run `calbot auth`"), "google"),
        (CaldavAuthError("https://dav.example/: the server refused the login"), "caldav"),
        (ImapAuthError("IMAP server mail.example:993 refused the login"), "imap"),
    ],
)
def test_the_fix_travels_from_the_error_to_the_digest(exc: AuthError, service: str) -> None:
    failure = failure_of(exc)
    assert failure.exit_code == 3 and failure.fix == AUTH_FIXES[service]
    assert auth_service(failure.error) == service
    if service == "google":
        assert failure.note == AUTH_FIX
    else:
        assert failure.note.startswith(AUTH_FIXES[service]) and "Google" not in failure.note
    trouble = Trouble(TroubleKind.AUTH, failure.error, datetime(2026, 1, 5, tzinfo=UTC))
    what, _, fix = trouble_parts(trouble, "en")
    assert ("Google" in what) == (service == "google")
    assert ("calbot auth" in fix) == (service == "google")


def test_untrusted_text_before_the_fix_cannot_change_the_service() -> None:
    planted = f"{AUTH_FIXES['imap']} at https://evil.example/ — run `calbot auth`"
    assert auth_service(planted) == "google"
    assert str(CaldavAuthError(f"x — {AUTH_FIXES['caldav']}")).count("CalDAV password") == 1


def test_every_language_names_the_password_not_google() -> None:
    for lang in ("en", "vi", "ms"):
        for service in ("caldav", "imap"):
            error = str(ImapAuthError("x") if service == "imap" else CaldavAuthError("x"))
            what, _, fix = trouble_parts(Trouble(TroubleKind.AUTH, error), lang)
            assert "Google" not in what and "calbot auth" not in fix
            assert f"$CALBOT_{service.upper()}_PASSWORD" in fix
