"""The fix `team status` shows for a refused login comes from the service that refused it."""

from __future__ import annotations

from calbot.errors import AUTH_FIXES, AuthError, PasswordRefused
from calbot.team.user_scan import DELEGATION_FIX, STORED_TOKEN_FIX, _fix


class ImapRefused(PasswordRefused):
    service = "imap"


def test_a_refused_caldav_or_imap_password_gets_that_services_fix() -> None:
    assert _fix(PasswordRefused("401 from the server"), True, "") == AUTH_FIXES["caldav"]
    assert _fix(ImapRefused("LOGIN failed"), False, "") == AUTH_FIXES["imap"]


def test_google_refusals_get_the_teams_fix_not_calbot_auth() -> None:
    assert _fix(AuthError("revoked"), True, "") == DELEGATION_FIX
    assert _fix(AuthError("revoked"), False, "") == STORED_TOKEN_FIX
