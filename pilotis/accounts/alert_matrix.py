"""Sending one alert message to a Matrix room (Tchap is a Matrix homeserver: the same code).

Plain HTTP with the standard library, like the webhooks, rather than a client library: the only
call needed is ``PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}`` (plus, at
most, resolving an alias and accepting the room's invitation), the outbox drainer is synchronous,
and matrix-nio, the maintained Python client, is built on asyncio and aiohttp (an event loop and
a second HTTP stack for one request). See docs/alertes.md, « Matrix / Tchap ».

Idempotent: the transaction id is derived from the outbox row (:func:`transaction_id`), so a
retry after a time-out (the homeserver did post, the answer was lost) is recognised by the
homeserver as the same request and posts nothing twice.

The outbox row (``channel == "matrix"``) carries in ``body`` the JSON document of
:func:`request_document`: homeserver, room, the NAME of the environment variable holding the
bot's access token (the token itself is read at sending time, never stored), and the content of
the ``m.room.message``.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from pilotis.accounts.models import AlertOutbox

API = "/_matrix/client/v3"


class MatrixError(OSError):
    """A refusal of the homeserver or a missing token, said in a way an administrator can act on."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status of the refusal (0: no answer was involved)."""


def request_document(homeserver: str, room: str, token_env: str, content: dict[str, str]) -> str:
    """The ``body`` of an outbox row for a Matrix room."""
    document = {"homeserver": homeserver, "room": room, "token_env": token_env, "content": content}
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


def transaction_id(row: AlertOutbox) -> str:
    """The ``txnId`` of a row: the same at every attempt; its creation time makes it unique even
    if a restored database gives the same row id again (Synapse keeps transaction ids a day)."""
    return f"pilotis-{row.id}-{int(row.created_at.replace(tzinfo=dt.UTC).timestamp())}"


def send_path(room_id: str, txn_id: str) -> str:
    """The path of the send request (room id and transaction id escaped)."""
    room = urllib.parse.quote(room_id, safe="")
    return f"{API}/rooms/{room}/send/m.room.message/{urllib.parse.quote(txn_id, safe='')}"


def _call(
    homeserver: str, method: str, path: str, token: str, body: dict[str, Any] | None, timeout: float
) -> dict[str, Any]:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        homeserver + path,
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Pilotis-alertes",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (homeserver of the rule)
            found = json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read() or b"{}")
        except ValueError:
            error = {}
        code = error.get("errcode", "")
        raise MatrixError(f"Matrix {exc.code} {code} : {error.get('error', exc.reason)}", exc.code) from None
    except http.client.HTTPException as exc:  # an answer cut short: not an OSError, retried all the same
        raise MatrixError(f"réponse interrompue du serveur Matrix : {type(exc).__name__} {exc}") from None
    return found if isinstance(found, dict) else {}


def send_matrix(row: AlertOutbox, timeout: float = 10.0) -> str:
    """Post the row's message in its room; returns the event id. Raises :class:`MatrixError`
    (an ``OSError``: retried with back-off by the drainer) on a refusal or a missing token."""
    document = json.loads(row.body)
    homeserver, room, name = document["homeserver"], document["room"], document["token_env"]
    token = os.environ.get(name, "").strip()
    if not token:
        raise MatrixError(f"variable d'environnement {name} vide ou absente : le jeton du robot Matrix manque")
    room_id = room
    if room.startswith("#"):  # an alias: the room it names now
        alias = urllib.parse.quote(room, safe="")
        room_id = str(
            _call(homeserver, "GET", f"{API}/directory/room/{alias}", token, None, timeout).get("room_id", "")
        )
        if not room_id:
            raise MatrixError(f"l'alias {room} ne désigne aucun salon")
    path = send_path(room_id, transaction_id(row))
    try:
        answer = _call(homeserver, "PUT", path, token, document["content"], timeout)
    except MatrixError as exc:
        if exc.status != 403:
            raise
        # Not (yet) a member: accept the invitation the room gave the bot, then send again.
        _call(homeserver, "POST", f"{API}/join/{urllib.parse.quote(room_id, safe='')}", token, {}, timeout)
        answer = _call(homeserver, "PUT", path, token, document["content"], timeout)
    return str(answer.get("event_id", ""))
