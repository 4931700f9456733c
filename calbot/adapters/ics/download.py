"""The bytes of a calendar: a local file, or one GET of an http(s)/webcal URL (at most
256 MiB, redirects followed only to http(s)). Every failure is a `SourceError` naming the
location as the caller shows it (`values.redact`: never with its password)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from calbot.adapters.ics.values import reason
from calbot.errors import SourceError

MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024


def is_url(location: str) -> bool:
    """Whether reading `location` is a request (http, https, webcal)."""
    return urllib.parse.urlsplit(location).scheme.lower() in ("http", "https", "webcal")


def read_file(location: str, where: str) -> bytes:
    """The file's bytes; `where` (the location, redacted) names it in errors."""
    if "://" in location:
        raise SourceError(f"{where}: only files and http(s)/webcal URLs can be read")
    path = Path(location).expanduser()
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise SourceError(f"{where}: no such file") from exc
    except IsADirectoryError as exc:
        raise SourceError(f"{where}: is a folder, not a calendar file") from exc
    except OSError as exc:
        raise SourceError(f"{where}: cannot read ({exc.strerror or exc})") from exc


def fetch(location: str, where: str, timeout: float) -> bytes:
    """One GET of an `is_url` location (webcal:// as https://); `where` as for `read_file`."""
    url = location
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    request = urllib.request.Request(  # noqa: S310 - the caller checked the scheme
        url, headers={"User-Agent": "calbot", "Accept": "text/calendar, */*"}
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            data: bytes = response.read(MAX_DOWNLOAD_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise SourceError(f"{where}: HTTP {exc.code} {exc.reason}".rstrip()) from exc
    except urllib.error.URLError as exc:
        raise SourceError(f"{where}: cannot fetch ({reason(exc.reason)})") from exc
    except TimeoutError as exc:
        raise SourceError(f"{where}: timed out after {timeout:g} s") from exc
    except (OSError, ValueError) as exc:
        raise SourceError(f"{where}: cannot fetch ({reason(exc)})") from exc
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise SourceError(f"{where}: larger than {MAX_DOWNLOAD_BYTES // 2**20} MiB")
    return data


class _NoRedirectElsewhere(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s), never to file:// or anything else."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, "redirect to a non-http URL", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    opener = urllib.request.OpenerDirector()
    handlers: list[urllib.request.BaseHandler] = [
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _NoRedirectElsewhere(),
        urllib.request.HTTPErrorProcessor(),
    ]
    for handler in handlers:
        opener.add_handler(handler)
    return opener


_OPENER = _opener()
