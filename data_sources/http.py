"""HTTP JSON requests for the REST and Opendatasoft sources (standard library only).

Every failure becomes a :class:`SourceError` of the right kind with a French message naming the
source: unreachable, timeout, refused credentials, unreadable answer. Messages never contain the
URL's query string or a header value (an API key may be in them).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from typing import Any

from pilotis.core.freshness import format_moment
from pilotis.core.sources import SourceError

USER_AGENT = "Pilotis/1.0 (portail de données)"
MAX_BYTES = 200 * 1024 * 1024
"""Answers larger than this are refused (a misconfigured export must not fill the memory)."""


def get_json(
    source_id: str,
    url: str,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Any:
    """GET ``url`` with ``params`` and return the decoded JSON."""
    if params:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
    )
    where = _where(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only, checked below
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise _http_error(source_id, where, exc) from None
    except TimeoutError as exc:
        raise SourceError(f"source {source_id} : délai dépassé ({timeout:g} s, {where})", "timeout") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            raise SourceError(f"source {source_id} : délai dépassé ({timeout:g} s, {where})", "timeout") from exc
        raise SourceError(f"source {source_id} injoignable ({where} : {_reason(exc.reason)})", "unreachable") from exc
    except (ConnectionError, OSError) as exc:
        raise SourceError(f"source {source_id} injoignable ({where} : {_reason(exc)})", "unreachable") from exc
    if len(body) > MAX_BYTES:
        raise SourceError(f"source {source_id} : réponse trop volumineuse ({where})", "malformed")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"source {source_id} : réponse illisible, JSON attendu ({where})", "malformed") from exc


def _where(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise SourceError(f"adresse `{parts.scheme}://…` refusée : http ou https seulement", "refused")
    return f"{parts.netloc}{parts.path}"


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(reason, socket.gaierror):
        return "nom d'hôte inconnu"
    return reason.__class__.__name__ if isinstance(reason, BaseException) else str(reason)


def _http_error(source_id: str, where: str, exc: urllib.error.HTTPError) -> SourceError:
    detail = ""
    payload: Any = None
    try:
        payload = json.loads(exc.read(64 * 1024) or b"{}")
        if isinstance(payload, dict):
            detail = str(payload.get("message") or payload.get("error") or "")[:300]
    except (ValueError, OSError):
        pass
    suffix = f" : {detail}" if detail else ""
    if exc.code in (401, 403):
        return SourceError(f"source {source_id} : identifiants refusés (HTTP {exc.code}){suffix}", "auth")
    if exc.code == 404:
        return SourceError(f"source {source_id} : adresse introuvable (HTTP 404, {where})", "unreachable")
    if exc.code == 429:
        reset = quota_reset(exc.headers, payload, time.time())
        if reset is None:
            return SourceError(f"source {source_id} : quota d'appels dépassé (HTTP 429)", "refused")
        day, hour = format_moment(reset)
        return SourceError(
            f"source {source_id} : quota d'appels dépassé (HTTP 429), "
            f"nouvel essai après le {day} à {hour} (heure de Paris)",
            "refused",
            retry_at=reset,
        )
    if exc.code in (408, 504):
        return SourceError(f"source {source_id} : délai dépassé (HTTP {exc.code})", "timeout")
    if exc.code >= 500:
        return SourceError(f"source {source_id} injoignable (HTTP {exc.code}, {where})", "unreachable")
    return SourceError(f"source {source_id} : requête refusée (HTTP {exc.code}){suffix}", "refused")


def quota_reset(headers: Message | None, payload: Any, now: float) -> float | None:
    """When an exhausted quota resets (epoch seconds), as a 429 answer says it, else None.

    Opendatasoft gives it twice: ``X-RateLimit-Reset`` (epoch seconds) and ``reset_time`` in the
    body (ISO 8601); other APIs send ``Retry-After`` (seconds or an HTTP date). A time already
    past or unreadable is ignored.
    """
    candidates: list[float] = []
    header = headers.get("X-RateLimit-Reset") if headers is not None else None
    if header and header.strip().isdigit():
        candidates.append(float(header.strip()))
    body = payload.get("reset_time") if isinstance(payload, dict) else None
    if isinstance(body, str):
        with contextlib.suppress(ValueError):
            moment = dt.datetime.fromisoformat(body.replace("Z", "+00:00"))
            candidates.append((moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp())
    after = headers.get("Retry-After") if headers is not None else None
    if after and after.strip().isdigit():
        candidates.append(now + float(after.strip()))
    elif after:
        with contextlib.suppress(TypeError, ValueError):
            candidates.append(email.utils.parsedate_to_datetime(after).timestamp())
    future = [c for c in candidates if c > now]
    return max(future) if future else None


def json_path(document: Any, path: str) -> Any:
    """The value at a dotted path (``data.items``, ``results.0``); ``""`` is the document."""
    value = document
    for part in [p for p in path.split(".") if p]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
