"""`calbot auth`: Google's installed-app OAuth flow, with a local browser or (`--no-browser`)
by pasting the address the browser ends on. It asks for exactly `scopes_for(settings)`,
says why for each, and writes the token file (`auth.write_private_json`, mode 0600) with
the scopes Google granted and the time of consent.

No token, refresh token or client secret ever appears in a message from this module:
oauthlib's errors are reduced to their OAuth error code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from calbot.adapters.google.auth import check_private, iso_z, write_private_json
from calbot.adapters.google.scopes import GMAIL_COMPOSE, scope_reasons, scopes_for
from calbot.config.settings import Settings
from calbot.errors import AuthError, ServiceError, TokenFileError, UsageError

__all__ = ["NO_BROWSER_REDIRECT", "install_client_secret", "run_auth_flow"]

# Where a pasted redirect goes: a loopback port nothing listens on. A "Desktop app" OAuth
# client accepts any loopback port; the browser shows an error page whose address the user
# copies back into the terminal.
NO_BROWSER_REDIRECT = "http://localhost:1/"


def run_auth_flow(
    settings: Settings,
    *,
    client_secret: Path | None,
    no_browser: bool,
    input: Callable[[str], str] = input,
    out: Callable[[str], None] = print,
    open_browser: bool = True,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    config_flag: str = "",
) -> Path:
    """Google's installed-app flow; writes the token file (0600) and returns its path.
    `config_flag` (" --config PATH" or "") goes into the next commands it suggests."""
    if settings.google.service_account_file:
        raise UsageError(
            "[google] service_account_file is set: a service account needs no `calbot auth` "
            "— remove it from the config to use your own account instead"
        )
    scopes = scopes_for(settings)
    if not scopes:
        raise UsageError(
            'source.kind = "ics": this config uses no Google account, so there is nothing to '
            "authorize (Gmail drafts, calendar notes and the review calendar need source.kind "
            '= "google")'
        )
    secret_path = Path(settings.google.client_secret_file).expanduser()
    if client_secret is not None:
        secret_path = install_client_secret(client_secret, secret_path)
        out(f"Copied the OAuth client to {secret_path} (mode 0600).")
    config = _read_client_secret(secret_path)
    _explain_scopes(settings, out)

    from google_auth_oauthlib.flow import InstalledAppFlow  # here: `calbot --help` stays fast

    flow = InstalledAppFlow.from_client_config(config, scopes=scopes)
    if no_browser:
        token = _paste_flow(flow, input, out)
    else:
        token = _local_server_flow(flow, open_browser, out)
    info = _token_info(config, token, scopes, now())
    path = Path(settings.google.token_file).expanduser()
    write_private_json(path, info)
    granted = set(info["scopes"])
    out(f"Saved the token to {path} (mode 0600).")
    missing = [s for s in scopes if s not in granted]
    if missing:
        out(
            "Google did not grant: " + ", ".join(missing) + " — calbot will not be able to "
            "do that part; run `calbot auth` again and tick every box to grant it."
        )
    out(f"Next: `calbot doctor{config_flag}`, then `calbot scan{config_flag} --dry-run`.")
    return path


def install_client_secret(source: Path, target: Path) -> Path:
    """Copy the downloaded client secret to the config folder, mode 0600 (browsers save
    downloads 0644). `target` is the configured client_secret_file path."""
    source = source.expanduser()
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--client-secret: no such file {source}") from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise UsageError(
            f"--client-secret: {source} is not the JSON file Google lets you download"
        ) from None
    _client_config_of(data, str(source))
    if target.is_dir():
        target = target / "client_secret.json"
    if source.resolve() != target.resolve():
        write_private_json(target, data)
    else:
        target.chmod(0o600)
    return target


def _read_client_secret(path: Path) -> dict[str, Any]:
    _check_private_secret(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"no OAuth client at {path} — download it from the Google Cloud console "
            "(Credentials → your Desktop app client → Download JSON) and run "
            "`calbot auth --client-secret FILE`"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise UsageError(f"{path} is not the JSON file Google lets you download") from None
    return _client_config_of(data, str(path))


def _check_private_secret(path: Path) -> None:
    try:
        check_private(path, "OAuth client secret")
    except TokenFileError as exc:
        raise UsageError(str(exc)) from None


def _client_config_of(data: Any, where: str) -> dict[str, Any]:
    """Check it is a "Desktop app" client config; return it unchanged."""
    if isinstance(data, dict) and "installed" in data:
        client = data["installed"]
        needed = ("client_id", "client_secret", "auth_uri", "token_uri")
        if isinstance(client, dict) and all(client.get(k) for k in needed):
            return data
        raise UsageError(f"{where}: the OAuth client lacks client_id/secret or its Google URLs")
    if isinstance(data, dict) and "web" in data:
        raise UsageError(
            f'{where} is a "Web application" OAuth client — create one of type '
            '"Desktop app" in the Google Cloud console and download that'
        )
    raise UsageError(f'{where} is not an OAuth client file (no "installed" section)')


def _explain_scopes(settings: Settings, out: Callable[[str], None]) -> None:
    out("calbot asks Google for these permissions:")
    for scope, why in scope_reasons(settings).items():
        out(f"  - {scope}: {why}")
    if GMAIL_COMPOSE in scopes_for(settings):
        out(
            "gmail.compose is a restricted scope: Google lets it also send mail, but calbot "
            "never sends — it only leaves drafts."
        )
    if not settings.google.app_published:
        out(
            'While your OAuth app is in "Testing" status, Google expires its refresh tokens '
            "7 days after you consent: calbot warns a day ahead; run `calbot auth` again "
            "then, or publish the app (see the README, Connect Google)."
        )


def _paste_flow(flow: Any, input: Callable[[str], str], out: Callable[[str], None]) -> Any:
    """Headless: print the URL, take back the redirect address (or just the code)."""
    flow.redirect_uri = NO_BROWSER_REDIRECT
    url, state = flow.authorization_url(prompt="consent", access_type="offline")
    out("Open this address in a browser on any machine and allow access:")
    out(f"  {url}")
    out(
        "Google then sends the browser to a localhost page that will not load: copy that "
        "page's whole address (or just its code=... value) and paste it here."
    )
    try:
        answer = input("Address or code: ").strip()
    except EOFError:
        # stdin closed or not a terminal (cron, a pipe): nothing can ever be pasted
        raise UsageError(
            "auth --no-browser reads the pasted address from stdin, which is closed — "
            "run it in a terminal"
        ) from None
    if not answer:
        raise AuthError("no address or code pasted — run `calbot auth --no-browser` again")
    code = answer
    if "://" in answer or answer.startswith(("/?", "?")):
        query = parse_qs(urlsplit(answer).query)
        if "error" in query:
            raise AuthError(
                f"Google did not grant access ({query['error'][0]}) — run `calbot auth` again"
            )
        if query.get("state", [state])[0] != state:
            raise AuthError(
                "the pasted address belongs to another sign-in attempt (state mismatch) — "
                "run `calbot auth --no-browser` again and paste the newest address"
            )
        if "code" not in query:
            raise AuthError("the pasted address has no code=... in it — paste the whole address")
        code = query["code"][0]
    return _fetch(flow, lambda: flow.fetch_token(code=code))


def _local_server_flow(flow: Any, open_browser: bool, out: Callable[[str], None]) -> Any:
    out("Opening your browser to sign in with Google…")

    def run() -> Any:
        flow.run_local_server(
            port=0,
            open_browser=open_browser,
            prompt="consent",
            access_type="offline",
            authorization_prompt_message="If no browser opened, visit this address:\n{url}",
            success_message="calbot is connected. You can close this tab.",
        )
        return flow.oauth2session.token

    return _fetch(flow, run)


def _fetch(flow: Any, fetch: Callable[[], Any]) -> Any:
    """Run the token exchange; returns the token dict. A user who unticked a scope makes
    oauthlib raise a Warning that carries the token: keep it, and report the gap later."""
    try:
        result = fetch()
    except Warning as w:
        token = getattr(w, "token", None)
        if token is None:
            raise
        return token
    except OSError as exc:
        # requests' connection errors and timeouts are OSErrors: Google was not reached,
        # so it refused nothing
        raise ServiceError(
            f"could not reach Google to finish the sign-in ({type(exc).__name__}) — check "
            "this machine's network and run `calbot auth` again"
        ) from None
    except Exception as exc:
        # oauthlib's errors carry the OAuth error code in `.error`; never echo bodies.
        code = getattr(exc, "error", None) or type(exc).__name__
        raise AuthError(f"Google refused the sign-in ({code}) — run `calbot auth` again") from None
    return result if isinstance(result, Mapping) else flow.oauth2session.token


def _token_info(
    config: Mapping[str, Any], token: Mapping[str, Any], asked: list[str], now: datetime
) -> dict[str, Any]:
    client = config["installed"]
    if not token.get("refresh_token"):
        raise AuthError(
            "Google sent no refresh token — remove calbot's access at "
            "https://myaccount.google.com/permissions and run `calbot auth` again"
        )
    scope = token.get("scope", asked)
    granted = scope.split() if isinstance(scope, str) else list(scope)
    expiry = None
    if token.get("expires_at"):
        expiry = datetime.fromtimestamp(float(token["expires_at"]), UTC)
    elif token.get("expires_in"):
        expiry = now + timedelta(seconds=float(token["expires_in"]))
    return {
        "token": token["access_token"],
        "refresh_token": token["refresh_token"],
        "token_uri": client["token_uri"],
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "scopes": granted,
        "expiry": iso_z(expiry),
        "consented_at": iso_z(now),
    }
