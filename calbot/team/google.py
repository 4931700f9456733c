"""Google clients for one team user's scan: that user's credentials (delegated service
account, else their stored OAuth token), each API over its own HTTP connection, every API
request taking a token from the shared Redis budgets first (token requests do not count)."""

from __future__ import annotations

import time
from typing import Any

from calbot.adapters.google.api import GoogleApi
from calbot.adapters.google.scopes import scopes_for
from calbot.adapters.google.transport import new_http
from calbot.config.settings import Settings
from calbot.team.budgets import BudgetedHttp, Budgets
from calbot.team.credentials import ServiceAccountKey, TokenVault, oauth_for_user
from calbot.team.secrets import SecretBox


def user_credentials(
    settings: Settings, *, key: ServiceAccountKey | None, vault: TokenVault, box: SecretBox | None
) -> Any:
    """The user's own stored token when they have one (a user outside the Workspace
    domain; re-saved encrypted after each refresh), else delegated credentials acting as
    the user from the team's service account."""
    email = settings.user.email
    if vault.load_token(email) is None and key is not None:
        return key.for_user(email, scopes_for(settings))
    if box is None:
        from calbot.errors import ConfigError

        raise ConfigError("team config", "team.secret_key_file", "required to open stored tokens")
    return oauth_for_user(email, vault, box)


def team_api(settings: Settings, creds: Any, budgets: Budgets | None) -> GoogleApi:
    """The user's Calendar (and Gmail) clients, as `calbot.adapters.google.api.connect`
    builds them but with these credentials and, when given, the shared budgets."""
    import google_auth_httplib2  # type: ignore[import-untyped]
    from googleapiclient.discovery import build

    timeout = settings.limits.http_timeout_seconds
    root = settings.google.api_root
    user = settings.user.email

    def client(api: str, version: str, endpoint: str) -> Any:
        http: Any = google_auth_httplib2.AuthorizedHttp(creds, http=new_http(timeout))
        if budgets is not None:
            http = BudgetedHttp(http, budgets, user, timeout=settings.limits.retry_budget_seconds)
        options = {"api_endpoint": endpoint} if root else None
        return build(
            api,
            version,
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
        )

    return GoogleApi(
        calendar=client("calendar", "v3", root + "calendar/v3/"),
        gmail=client("gmail", "v1", root) if settings.outputs.gmail_drafts else None,
        retry_budget_seconds=settings.limits.retry_budget_seconds,
        sleep=time.sleep,
        credentials=creds,
        http_timeout=float(timeout),
    )
