"""The fake OAuth 2.0 endpoints: /token (refresh and authorization-code grants, client
credentials in the form or as HTTP Basic) and /auth (redirects straight back with a code).
Mixed into FakeGoogle; runs under its lock."""

from __future__ import annotations

import base64
import hashlib
import itertools
from typing import Any
from urllib.parse import unquote, urlencode

from . import discovery
from .errors import ApiError, Reply

Query = dict[str, list[str]]
TOKEN_LIFETIME = 3600


class OAuthMixin:
    client_id: str
    client_secret: str
    refreshes: int
    _refresh_tokens: dict[str, frozenset[str]]
    _codes: dict[str, dict[str, Any]]
    _counter: itertools.count[int]

    def _new_access(self, scopes: frozenset[str], *, expired: bool = False) -> str:
        raise NotImplementedError

    def _take_fault(self, route: str) -> ApiError | None:
        raise NotImplementedError

    # --- OAuth endpoints --------------------------------------------------------------

    def _token(self, form: dict[str, Any]) -> Reply:
        fault = self._take_fault("oauth.token")
        if fault is not None:
            return Reply(
                fault.status,
                {"error": fault.reason, "error_description": fault.message},
                fault.headers,
            )
        f = {k: (v[0] if isinstance(v, list) else v) for k, v in form.items()}
        if f.get("client_id") != self.client_id or f.get("client_secret") != self.client_secret:
            return Reply(
                401,
                {"error": "invalid_client", "error_description": "The OAuth client was not found."},
            )
        grant = f.get("grant_type")
        if grant == "refresh_token":
            rt = f.get("refresh_token", "")
            granted = self._refresh_tokens.get(rt)
            if granted is None:
                return invalid_grant()
            wanted = {discovery.full_scope(s) for s in (f.get("scope") or "").split()}
            scopes = frozenset(granted & wanted) if wanted and wanted <= granted else granted
            self.refreshes += 1
            access = self._new_access(scopes)
            return Reply(
                200,
                {
                    "access_token": access,
                    "expires_in": TOKEN_LIFETIME,
                    "scope": " ".join(sorted(scopes)),
                    "token_type": "Bearer",
                },
            )
        if grant == "authorization_code":
            code = self._codes.pop(f.get("code", ""), None)
            if code is None or code["redirect_uri"] != f.get("redirect_uri"):
                return Reply(
                    400, {"error": "invalid_grant", "error_description": "Malformed auth code."}
                )
            challenge = code.get("code_challenge")
            if challenge:
                verifier = f.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                expect = (
                    base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                    if code.get("code_challenge_method", "plain") == "S256"
                    else verifier
                )
                if expect != challenge:
                    return Reply(
                        400,
                        {"error": "invalid_grant", "error_description": "Invalid code verifier."},
                    )
            scopes = frozenset(code["scopes"])
            refresh = f"refresh-{next(self._counter):06d}"
            self._refresh_tokens[refresh] = scopes
            access = self._new_access(scopes)
            return Reply(
                200,
                {
                    "access_token": access,
                    "expires_in": TOKEN_LIFETIME,
                    "refresh_token": refresh,
                    "scope": " ".join(sorted(scopes)),
                    "token_type": "Bearer",
                },
            )
        return Reply(400, {"error": "unsupported_grant_type"})

    def _auth(self, method: str, query: Query) -> Reply:
        q = {k: v[0] for k, v in query.items()}
        redirect = q.get("redirect_uri", "")
        if method != "GET" or q.get("client_id") != self.client_id:
            return Reply(400, b"invalid_client", {"Content-Type": "text/plain"})
        if not redirect.startswith(("http://localhost", "http://127.0.0.1")):
            return Reply(400, b"redirect_uri_mismatch", {"Content-Type": "text/plain"})
        if q.get("response_type") != "code":
            return Reply(400, b"unsupported_response_type", {"Content-Type": "text/plain"})
        scopes = [discovery.full_scope(s) for s in q.get("scope", "").split()]
        code = f"4/fake-code-{next(self._counter):06d}"
        self._codes[code] = {
            "redirect_uri": redirect,
            "scopes": scopes,
            "code_challenge": q.get("code_challenge"),
            "code_challenge_method": q.get("code_challenge_method", "plain"),
        }
        back = {"state": q["state"]} if "state" in q else {}
        sep = "&" if "?" in redirect else "?"
        location = redirect + sep + urlencode({**back, "code": code, "scope": " ".join(scopes)})
        return Reply(302, b"", {"Location": location})


def basic_auth(header: str) -> dict[str, str]:
    """Client credentials sent as HTTP Basic (requests-oauthlib does that)."""
    if not header.lower().startswith("basic "):
        return {}
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return {}
    return {"client_id": unquote(user), "client_secret": unquote(password)}


def invalid_grant() -> Reply:
    return Reply(
        400,
        {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )
