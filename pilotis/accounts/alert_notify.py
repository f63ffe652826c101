"""Who is told about the transitions of one evaluation, and the outbox rows that tell them.

Written in the transaction of the transitions (:mod:`pilotis.accounts.alert_engine`): a
transition is recorded together with its messages or not at all. One e-mail per recipient per
evaluation (every instance that changed, grouped), one webhook call per address, one message per
Matrix room (:mod:`pilotis.accounts.alert_matrix` sends it).

A recipient sees only what :func:`pilotis.core.access.may_see_alert_rule` and
:func:`~pilotis.core.access.can_receive_alert` allow: a user restricted to a territory is never
told about an instance outside it. Addresses written in the rule (``emails``) are the on-call
duty's and receive everything.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pilotis.accounts.alert_matrix import request_document
from pilotis.accounts.db import utcnow
from pilotis.accounts.models import AccessRequest, AlertOutbox, AlertSilence, User
from pilotis.accounts.users import principal_of
from pilotis.core.access import Grant, Principal, can_receive_alert, may_see_alert_rule
from pilotis.core.alert_messages import Notice, html_body, matrix_content, subject, text_body, webhook_body
from pilotis.core.alert_rules import AlertRule, MatrixRoom, Recipients
from pilotis.core.alert_states import Event
from pilotis.core.cron import parse_cron
from pilotis.core.territory import Territory, TerritoryIndex

if TYPE_CHECKING:
    from pilotis.core.registry import Registry

ACK_SALT = "pilotis-alert-ack"
ACK_MAX_AGE = 7 * 24 * 3600
"""An acknowledgement link is valid a week (and once: see :mod:`pilotis.accounts.alert_actions`)."""
ACKABLE = ("firing", "worse", "reminder", "escalation")
Item = tuple[Notice, str | None]
"""A notice and its instance's territory (``commune:53130``; None: unknown)."""


@dataclass(frozen=True)
class AlertOptions:
    """What the evaluation needs besides the data: the secret signing acknowledgement links and
    webhooks, the portal's public address, who is evaluating."""

    secret: str
    base_url: str = "http://127.0.0.1:8050"
    worker: str = field(default_factory=lambda: f"{os.uname().nodename}:{os.getpid()}")
    webhook_secret: str = ""
    """Signs the webhooks (PILOTIS_ALERTS_WEBHOOK_SECRET); empty: ``secret``."""

    @classmethod
    def from_env(cls, secret: str, **overrides: str) -> AlertOptions:
        """``PILOTIS_BASE_URL`` and ``PILOTIS_ALERTS_WEBHOOK_SECRET`` from the environment."""
        values = {
            "secret": secret,
            "base_url": os.environ.get("PILOTIS_BASE_URL", "http://127.0.0.1:8050").rstrip("/"),
            "webhook_secret": os.environ.get("PILOTIS_ALERTS_WEBHOOK_SECRET", ""),
        }
        values.update(overrides)
        return cls(**values)

    @property
    def signing_secret(self) -> str:
        return self.webhook_secret or self.secret


@dataclass(frozen=True)
class Recipient:
    """An address, and the principal whose access decides what it may be told (None: an address
    written in the rule, told everything)."""

    email: str
    principal: Principal | None


def visible_to(
    principal: Principal | None, rule: AlertRule, registry: Registry, index: TerritoryIndex, items: list[Item]
) -> list[Notice]:
    """The notices of ``items`` that ``principal`` may be told about (None: everything)."""
    return [
        notice
        for notice, territory in items
        if principal is None
        or (may_see_alert_rule(principal, rule, registry) and can_receive_alert(principal, territory, index))
    ]


def ack_token(secret: str, rule: str, instance: str, episode: int) -> str:
    """A signed token naming one alert episode of one instance."""
    return URLSafeTimedSerializer(secret, salt=ACK_SALT).dumps([rule, instance, episode])


def read_ack_token(secret: str, token: str, now: dt.datetime | None = None) -> tuple[str, str, int] | None:
    """``(rule, instance, episode)`` of a valid token, None for a forged or expired one."""
    serializer = URLSafeTimedSerializer(secret, salt=ACK_SALT)
    try:
        rule, instance, episode = serializer.loads(token, max_age=ACK_MAX_AGE)
    except (BadSignature, ValueError, TypeError):
        return None
    return str(rule), str(instance), int(episode)


def _grants(session: Session, user_ids: list[int], now: dt.datetime) -> dict[int, tuple[Grant, ...]]:
    """The dashboards granted to each of these accounts and not ended at ``now`` (one query)."""
    found: dict[int, list[Grant]] = {}
    if user_ids:
        rows = session.execute(
            select(AccessRequest.user_id, AccessRequest.dashboard, AccessRequest.ends_at)
            .where(AccessRequest.user_id.in_(user_ids), AccessRequest.status == "granted")
            .where(AccessRequest.ends_at > now)
            .order_by(AccessRequest.dashboard)
        )
        for user_id, dashboard, ends_at in rows:
            if ends_at is not None:  # always set on a granted request (the query asks ends_at > now)
                found.setdefault(user_id, []).append(Grant(dashboard, ends_at.replace(tzinfo=dt.UTC)))
    return {user_id: tuple(grants) for user_id, grants in found.items()}


def recipients(session: Session, group: Recipients, now: dt.datetime | None = None) -> list[Recipient]:
    """Active accounts named by ``group`` (with an address), then its external addresses.

    Each account is judged as when it signs in: with the dashboards granted to it at ``now``
    (naive UTC; default: the current time), so a person granted a dashboard is told about its
    alerts like its regular readers, and no longer once the grant has ended."""
    conditions = []
    if group.users:
        conditions.append(User.username.in_([u.lower() for u in group.users]))
    if group.departments:
        conditions.append(User.department.in_(group.departments))
    found: dict[str, Recipient] = {}
    users = session.scalars(select(User).where(User.active.is_(True))).all() if group.roles or conditions else []
    chosen = [
        user
        for user in users
        if (user.email or "@" in user.username)
        and (
            user.username in [u.lower() for u in group.users]
            or user.department in group.departments
            or bool(set(user.roles) & set(group.roles))
        )
    ]
    grants = _grants(session, [user.id for user in chosen], now or utcnow())
    for user in chosen:
        address = user.email or user.username
        found.setdefault(address.lower(), Recipient(address, principal_of(user, grants.get(user.id, ()))))
    for address in group.emails:
        found.setdefault(address.lower(), Recipient(address, None))
    return list(found.values())


def muted(session: Session, rule: AlertRule, instance: str, now: dt.datetime) -> str | None:
    """Why nothing is sent for ``instance`` now (a silence, a maintenance window), or None."""
    silence = session.scalar(
        select(AlertSilence)
        .where(AlertSilence.rule == rule.id, AlertSilence.starts_at <= now, AlertSilence.ends_at > now)
        .where(or_(AlertSilence.instance.is_(None), AlertSilence.instance == instance))
        .limit(1)
    )
    if silence is not None:
        return f"silence : {silence.reason}"[:200]
    aware = now.replace(tzinfo=dt.UTC)
    for window in rule.maintenance:
        start = parse_cron(window.cron).previous(aware)
        if aware < start + dt.timedelta(seconds=window.duration):
            return f"maintenance ({window.cron})"
    return None


def place_of(rule: AlertRule, instance: str, territory: str | None, index: TerritoryIndex) -> str:
    """How an instance is named in messages: the territory's name, or the instance and its commune."""
    name = ""
    if territory and ":" in territory:
        level, _, code = territory.partition(":")
        name = index.name(Territory(level, code))
    if rule.indicator is not None:
        return name or instance
    return f"{instance} ({name})" if name and name != instance else instance


@dataclass
class Outbox:
    """The messages of one evaluation of one rule, written to ``alert_outbox``."""

    session: Session
    rule: AlertRule
    registry: Registry
    index: TerritoryIndex
    options: AlertOptions
    now: dt.datetime

    def notice(self, instance: str, event: Event, territory: str | None, episode: int) -> Notice:
        url = ""
        if event.kind in ACKABLE:
            token = ack_token(self.options.secret, self.rule.id, instance, episode)
            url = f"{self.options.base_url}/alertes/acquitter/{token}"
        return Notice(instance, place_of(self.rule, instance, territory, self.index), event, url)

    def write(self, items: list[Item]) -> int:
        """Outbox rows for ``items`` (each a notice and its instance's territory); returns how many."""
        escalations = [item for item in items if item[0].event.kind == "escalation"]
        others = [item for item in items if item[0].event.kind != "escalation"]
        count = 0
        if others:
            count += self._emails(self.rule.recipients, others)
            if "webhook" in self.rule.channels:
                for url in self.rule.webhooks:
                    self._add("webhook", url, subject(self.rule, [n for n, _ in others]), self._json(others), "")
                    count += 1
            if "matrix" in self.rule.channels:
                count += sum(self._matrix(room, others) for room in self.rule.matrix)
        if escalations and self.rule.escalation is not None:
            count += self._emails(self.rule.escalation.recipients, escalations)
        return count

    def _json(self, items: list[Item]) -> str:
        return webhook_body(self.rule, [n for n, _ in items], self.now)

    def _links(self) -> tuple[str, str]:
        """The addresses of the rule's dashboard (empty: none) and of /alertes."""
        base = self.options.base_url
        found = self.registry.dashboards.get(self.rule.dashboard or "")
        return (f"{base}{found.spec.url}" if found is not None else ""), f"{base}/alertes"

    def _matrix(self, room: MatrixRoom, items: list[Item]) -> int:
        """One message for ``room``: every notice, or those inside its ``territory``."""
        visible = [notice for notice, _ in items]
        if room.territory is not None:  # judged as an agent restricted to that territory would be
            scope = Principal(f"matrix:{room.room}", territory=room.territory)
            visible = [notice for notice, territory in items if can_receive_alert(scope, territory, self.index)]
        if not visible:
            return 0
        dashboard, alerts = self._links()
        content = matrix_content(self.rule, visible, dashboard, alerts, room.lang)
        target = f"{room.room} ({room.homeserver})"[:500]
        title = subject(self.rule, visible, room.lang)
        self._add("matrix", target, title, request_document(room.homeserver, room.room, room.token_env, content), "")
        return 1

    def _emails(self, group: Recipients, items: list[Item]) -> int:
        if "email" not in self.rule.channels:
            return 0
        count = 0
        for person in recipients(self.session, group, self.now):
            visible = visible_to(person.principal, self.rule, self.registry, self.index, items)
            if not visible:
                continue
            dashboard, alerts = self._links()
            self._add(
                "email",
                person.email,
                subject(self.rule, visible),
                text_body(self.rule, visible, dashboard, alerts),
                html_body(self.rule, visible, dashboard, alerts),
            )
            count += 1
        return count

    def _add(self, channel: str, recipient: str, title: str, body: str, html: str) -> None:
        self.session.add(
            AlertOutbox(
                created_at=self.now,
                rule=self.rule.id,
                channel=channel,
                recipient=recipient,
                subject=title[:300],
                body=body,
                html=html,
                status="pending",
                attempts=0,
                next_attempt_at=self.now,
            )
        )
