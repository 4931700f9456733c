"""The fake OAuth 2.0 endpoints: /token (refresh and authorization-code grants, client
credentials in the form or as HTTP Basic; and the service-account grant of domain-wide
delegation) and /auth (redirects straight back with a code). Mixed into FakeGoogle; runs
under its lock.

The service-account grant (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, RFC
7523) is checked as Google checks it: an RS256 JWT whose signature verifies with the public
half of a key made by `write_service_account` (its `kid` that key's id), `iss` that
account's e-mail, `aud` Google's token endpoint (google-auth always puts
https://oauth2.googleapis.com/token there, whatever `token_uri` it posts to), `iat`/`exp` a
live window of at most an hour, and `scope` within what the domain's admin delegated. The
access token it issues acts as `sub` (recorded in `token_subjects`); `revoke_delegation(sub)`
makes the next grant for that user fail as Google's does (401 `unauthorized_client`).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import discovery
from .errors import ApiError, Reply

Query = dict[str, list[str]]
TOKEN_LIFETIME = 3600
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# What Google accepts as a grant JWT's audience (google-auth sends the first).
GOOGLE_TOKEN_AUDIENCES = (
    "https://oauth2.googleapis.com/token",
    "https://accounts.google.com/o/oauth2/token",
)
CLOCK_SKEW = 60  # seconds of `iat` in the future that Google tolerates
DEFAULT_DELEGATED = (
    "calendar.events",
    "gmail.compose",
    "calendar.freebusy",
    "calendar.app.created",
)


@dataclass
class ServiceAccount:
    client_email: str
    key_id: str
    public_key: rsa.RSAPublicKey
    scopes: frozenset[str]  # what the Workspace admin delegated to its client id
    revoked: set[str] = field(default_factory=set)  # users whose delegation was withdrawn


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

    # --- service accounts, test side ----------------------------------------------------
    # (state made on first use: FakeGoogle's __init__ belongs to the single-user fake)

    @property
    def service_accounts(self) -> dict[str, ServiceAccount]:
        return self.__dict__.setdefault("_service_accounts", {})  # type: ignore[no-any-return]

    @property
    def token_subjects(self) -> dict[str, str]:
        """Access token → the user it acts as (delegated grants, owned refresh tokens)."""
        return self.__dict__.setdefault("_token_subjects", {})  # type: ignore[no-any-return]

    @property
    def refresh_owners(self) -> dict[str, str]:
        """Refresh token → its user (per-user OAuth tokens in team mode)."""
        return self.__dict__.setdefault("_refresh_owners", {})  # type: ignore[no-any-return]

    def write_service_account(
        self,
        path: str | Path,
        *,
        client_email: str = "calbot@calbot-fake.iam.gserviceaccount.com",
        delegated: Sequence[str] = DEFAULT_DELEGATED,
        key_size: int = 2048,
    ) -> ServiceAccount:
        """A new RSA key pair: its private half written as a Google JSON key file (mode
        0600, token_uri this fake's), its public half kept to verify grants."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        key_id = hashlib.sha1(str(next(self._counter)).encode()).hexdigest()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        account = ServiceAccount(
            client_email,
            key_id,
            key.public_key(),
            frozenset(discovery.full_scope(s) for s in delegated),
        )
        with self._lock:  # type: ignore[attr-defined]
            self.service_accounts[client_email] = account
        info = {
            "type": "service_account",
            "project_id": "calbot-fake",
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": client_email,
            "client_id": "1" + key_id[:20],
            "auth_uri": getattr(self, "auth_uri", ""),
            "token_uri": getattr(self, "token_uri", ""),
        }
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(info))
        target.chmod(0o600)
        return account

    def revoke_delegation(self, user: str) -> None:
        """The admin withdrew domain-wide delegation for `user`: grants for them fail, and
        the access tokens issued for them answer 401."""
        with self._lock:  # type: ignore[attr-defined]
            for account in self.service_accounts.values():
                account.revoked.add(user)
            for token, subject in list(self.token_subjects.items()):
                if subject == user:
                    self.access_tokens.pop(token, None)  # type: ignore[attr-defined]

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
        if f.get("grant_type") == JWT_BEARER:  # a service account: no client id or secret
            return self._jwt_grant(f.get("assertion", ""))
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
            if rt in self.refresh_owners:
                self.token_subjects[access] = self.refresh_owners[rt]
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

    def _jwt_grant(self, assertion: str) -> Reply:
        try:
            head_b64, body_b64, sig_b64 = assertion.split(".")
            header = json.loads(_unb64(head_b64))
            claims = json.loads(_unb64(body_b64))
            signature = _unb64(sig_b64)
        except ValueError:
            return _jwt_refused("Invalid JWT: not a signed JWT.")
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return _jwt_refused("Invalid JWT: not a signed JWT.")
        account = self.service_accounts.get(str(claims.get("iss", "")))
        if account is None:
            return Reply(401, {"error": "invalid_client", "error_description": "Unknown issuer."})
        if header.get("alg") != "RS256" or header.get("kid") != account.key_id:
            return _jwt_refused("Invalid JWT Signature.")
        try:
            account.public_key.verify(
                signature,
                f"{head_b64}.{body_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return _jwt_refused("Invalid JWT Signature.")
        if claims.get("aud") not in (*GOOGLE_TOKEN_AUDIENCES, getattr(self, "token_uri", None)):
            return _jwt_refused("Invalid JWT audience.")
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if (
            not isinstance(iat, int | float)
            or not isinstance(exp, int | float)
            or exp <= now
            or iat > now + CLOCK_SKEW
            or exp - iat > TOKEN_LIFETIME
        ):
            return _jwt_refused(
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim."
            )
        wanted = {discovery.full_scope(s) for s in str(claims.get("scope", "")).split()}
        subject = str(claims.get("sub") or account.client_email)
        if not wanted:
            return Reply(400, {"error": "invalid_scope", "error_description": "Empty scope."})
        if not wanted <= account.scopes or subject in account.revoked:
            return Reply(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Client is unauthorized to retrieve access tokens "
                    "using this method, or client not authorized for any of the scopes "
                    "requested.",
                },
            )
        access = self._new_access(frozenset(wanted))
        self.token_subjects[access] = subject
        return Reply(
            200, {"access_token": access, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"}
        )

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


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jwt_refused(description: str) -> Reply:
    return Reply(400, {"error": "invalid_grant", "error_description": description})
