"""Tables of the application database: users (with roles), their sign-in sessions, departments,
login attempts, audit log, séance snapshots, display links, API tokens, sensor devices, readings
and upload tokens, referent tenures, background jobs and their runs, alerts (states, history,
outbox), access requests, anomaly reports (« Signaler une anomalie »), late-dataset notices.

Size: over 400 lines on purpose: one declarative schema, read as a whole against the migrations
(``tests/test_security.py`` compares them); each table is a short class.

The schema is created and changed by Alembic migrations (``pilotis/migrations/versions``), never
by ``create_all``: a change here needs a new revision (``python -m pilotis db revision "…"``).
Timestamps are naive UTC (see :func:`pilotis.accounts.db.utcnow`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pilotis.accounts.db import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention (stable constraint names for migrations)."""

    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person who signs in; reduced to a :class:`pilotis.core.access.Principal` for decisions."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_auth_source_subject", "auth_source", "external_subject", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    """Identifier typed at login, stored lower-case."""
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    """Where alerts are sent (None: the username when it is an address, else no e-mail)."""
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Direction id from `config/departments.yaml` (None: no direction)."""
    territory: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Row-level restriction such as `epci:200083392` (None: every row)."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    """Created by demo mode with a published password: production refuses to start with one."""
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    """Bumped on password change or deactivation: every open session of the user ends."""
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    auth_source: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """Who vouches for the account: None (local password), an OpenID provider id of
    `config/sso.yaml`, or `ldap`. Single sign-on accounts have no usable password."""
    external_subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    """The account's id at its source (OpenID `sub`, directory user name): how it is found again."""

    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="UserRole.role",
    )

    @property
    def roles(self) -> list[str]:
        """The user's roles, sorted."""
        return [r.role for r in self.role_rows]

    @roles.setter
    def roles(self, values: list[str]) -> None:
        wanted = sorted(set(values))
        self.role_rows = [r for r in self.role_rows if r.role in wanted]
        have = {r.role for r in self.role_rows}
        self.role_rows += [UserRole(role=role) for role in wanted if role not in have]


class UserRole(Base):
    """One role of one user (a user may hold several)."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class UserSession(Base):
    """One sign-in session: what the signed session cookie points at, revocable on the server.

    The cookie carries a random id; only its SHA-256 is stored (``id_hash``), so that a copy of
    this table does not let anyone open the sessions it lists. See :mod:`pilotis.accounts.user_sessions`.
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_id", "user_id"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    """Hex SHA-256 of the random session id the cookie carries (looked up on every request)."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    """Last request, written at most every few minutes (see ``user_sessions.TOUCH_EVERY``)."""
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    """Absolute end, whatever the activity (``created_at`` + ``session_max_hours``)."""
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """Why it ended: `logout`, `signout_everywhere`, `disabled`, `password`, `roles`…"""
    sso_sid: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    """``<provider id>|<sid>``: the provider's session (``sid`` of the ID token) this one was
    opened under, so that the provider's back-channel logout ends exactly it (issue 16)."""


class Department(Base):
    """A direction of the org chart, copied from `config/departments.yaml` at start-up."""

    __tablename__ = "departments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))


class LoginAttempt(Base):
    """One login attempt; failures within a window lock the account name and the address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_created_at", "username", "created_at"),
        Index("ix_login_attempts_ip_created_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    username: Mapped[str] = mapped_column(String(150))
    """The name typed (normalised), whether or not such a user exists."""
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEvent(Base):
    """One line of the audit log."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_created_at", "created_at"),
        Index("ix_audit_events_event_created_at", "event", "created_at"),
        Index("ix_audit_events_username_created_at", "username", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    """Event type, see :data:`pilotis.accounts.audit.EVENTS`."""
    username: Mapped[str | None] = mapped_column(String(150), nullable=True)
    """Who acted (for a failed login: the name typed), `cli:<account>` for the command line."""
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target: Mapped[str | None] = mapped_column(String(300), nullable=True)
    """What the event is about: a page path, a dashboard id, the user administered…"""
    detail: Mapped[str] = mapped_column(Text, default="")


class SeanceSnapshot(Base):
    """A frozen séance (« instantané »): the figures and texts shown, as canonical JSON.

    Rendered from ``content`` only, never by querying again, so that the same address shows the
    same figures later (minutes, délibération). ``sha256`` is the hash of the uncompressed JSON.
    """

    __tablename__ = "seance_snapshots"
    __table_args__ = (Index("ix_seance_snapshots_seance_created_at", "seance", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """Random, unguessable identifier (in the address `/seance/<séance>/instantane/<id>`)."""
    seance: Mapped[str] = mapped_column(String(160))
    """Key of the séance frozen: its id, or `@<dashboard>` for a dashboard presented alone."""
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    author: Mapped[str | None] = mapped_column(String(150), nullable=True)
    dashboards: Mapped[str] = mapped_column(Text, default="")
    """Ids of the dashboards shown, space-separated: access requires every one of them."""
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    """The canonical JSON of what was shown, zlib-compressed."""
    scope: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """Row scope it was rendered with (`epci:200083392`, see ``access.recorded_scope``); NULL: every row
    of the département (also snapshots frozen before migration 0003). Opens only for a scope covering it."""


class DisplayLink(Base):
    """A signed link that lets a wall screen show one séance without anyone signing in."""

    __tablename__ = "display_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """Token id (carried by the signed token; revoking it refuses the token)."""
    seance: Mapped[str] = mapped_column(String(160))
    label: Mapped[str] = mapped_column(String(200), default="")
    """Where the screen is (« écran du hall »), for the administrators."""
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(150), nullable=True)


class ApiToken(Base):
    """A bearer token of the JSON API (``/api/v1``): a user's personal token, or a service account.

    Only the SHA-256 of the secret is stored (``token_hash``): see :mod:`pilotis.accounts.api_tokens`
    for why a fast hash is right for a 256-bit random secret. ``prefix`` (the first characters of
    the token) lets its holder recognise it in lists and in the audit log.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """Hex SHA-256 of the whole token (looked up on every API request)."""
    prefix: Mapped[str] = mapped_column(String(24))
    """The token's first characters (`pilotis_Ab12Cd34`), shown to identify it."""
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    """`personal` (acts as ``user_id``, with that account's current rights) or `service`."""
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Service account: its direction (as a user's)."""
    roles: Mapped[str] = mapped_column(String(200), default="")
    """Service account: its roles, space-separated."""
    territory: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Service account: row-level restriction (`epci:200083392`), None: every row."""
    rate_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Requests allowed per minute (None: the portal's PILOTIS_API_RATE_PER_MINUTE)."""
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    rate_window: Mapped[int] = mapped_column(Integer, default=0)
    """The minute (since the epoch) that ``rate_count`` counts requests of."""
    rate_count: Mapped[int] = mapped_column(Integer, default=0)


# --------------------------------------------------------------------------- sensor readings (issue 14)
# Raw readings are narrow on purpose (an integer device id, a naive UTC timestamp, a float): 10 M
# rows stay a few hundred MB. Their primary key ``(device_id, ts)`` is the only index: it refuses
# duplicates (``ON CONFLICT DO NOTHING``) and answers both hot questions by an index range scan —
# the last value of a device (backward scan, one row) and one device's last 24 h. No foreign key on
# ``device_id``: one lookup less per inserted row, and devices are never deleted.


class SensorDevice(Base):
    """A device of `config/sensors/<source>.yaml`, copied at start-up (readings name its id)."""

    __tablename__ = "sensor_devices"
    __table_args__ = (Index("ix_sensor_devices_source_code", "source", "code", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    commune: Mapped[str] = mapped_column(String(5), default="")
    lat: Mapped[float] = mapped_column(Float, default=0.0)
    lon: Mapped[float] = mapped_column(Float, default=0.0)
    quantity: Mapped[str] = mapped_column(String(64), default="")
    unit: Mapped[str] = mapped_column(String(32), default="")
    interval_s: Mapped[int] = mapped_column(Integer, default=900)
    """Expected seconds between two readings (late after twice this)."""


class SensorReading(Base):
    """One raw reading, kept `raw_days` days (see :func:`pilotis.accounts.sensor_store.purge`)."""

    __tablename__ = "sensor_readings"

    device_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    """When it was measured, naive UTC."""
    value: Mapped[float] = mapped_column(Float)


class SensorHourly(Base):
    """Hourly aggregate of a device's readings, kept for good (see ``rollup``)."""

    __tablename__ = "sensor_hourly"

    device_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    """First instant of the hour, naive UTC."""
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    vmin: Mapped[float] = mapped_column(Float)
    vmax: Mapped[float] = mapped_column(Float)


class SensorToken(Base):
    """An upload token of a sensor source: stored hashed (SHA-256), revocable, write-only."""

    __tablename__ = "sensor_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ReferentTenure(Base):
    """Who held a referent role when (:mod:`pilotis.accounts.referent_history`): one row per
    person and position, opened when ``config/referents.yaml`` names them, closed when it no
    longer does."""

    __tablename__ = "referent_tenures"
    __table_args__ = (Index("ix_referent_tenures_subject_ended_at", "subject", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    """The role's subject: `dataset:rsa_communes`, `theme:rsa`, `indicator:rsa.foyers_allocataires`…"""
    position: Mapped[str] = mapped_column(String(16))
    """`holder` (titulaire) or `deputy` (suppléant)."""
    name: Mapped[str] = mapped_column(String(200))
    account: Mapped[str | None] = mapped_column(String(150), nullable=True)
    service: Mapped[str | None] = mapped_column(String(64), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """`replaced` (another person named), `removed` (the role is no longer declared)."""
    vacant_since: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    """When the holder's account was found disabled or deleted (the administrators were told then)."""


class Job(Base):
    """A job the workers know (kind + key): its schedule as last planned, for the operators."""

    __tablename__ = "jobs"

    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True, default="")
    """``""`` for a job that exists once; a dataset id for ``source_refresh``…"""
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    """Latest due time a worker planned (UTC): a run may exist for it in ``job_runs``."""
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class JobRun(Base):
    """One scheduled run of a job, inserted by the worker that claims it.

    The unique ``(kind, key, due_at)`` is the claim: of several workers inserting the same run,
    exactly one succeeds (``INSERT … ON CONFLICT DO NOTHING``). ``lease_until`` is pushed forward
    while the job runs; once past, another worker takes the run over (``attempt`` + 1, fencing
    the late writes of the first one). See :mod:`pilotis.accounts.jobs`.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("kind", "key", "due_at", name="uq_job_runs_kind_key_due_at"),
        Index("ix_job_runs_status_lease_until", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(160), default="")
    due_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    """`running`, `done` or `failed`."""
    worker: Mapped[str] = mapped_column(String(120))
    """Who holds (or last held) the run: `host:pid`."""
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    """1, then + 1 at each takeover after an expired lease."""
    claimed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    lease_until: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")


# --------------------------------------------------------------------------- alerts (migration 0008)


class AlertClock(Base):
    """The last evaluation slot claimed for a rule: the claim is an UPDATE of this row, so two
    evaluators never run the same slot, nor an older slot after a newer one."""

    __tablename__ = "alert_clocks"

    rule: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class AlertRun(Base):
    """One evaluation of one rule for one slot (unique: a slot is evaluated once)."""

    __tablename__ = "alert_runs"
    __table_args__ = (UniqueConstraint("rule", "due_at", name="uq_alert_runs_rule_due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(DateTime)
    worker: Mapped[str] = mapped_column(String(100), default="")
    ran_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    instances: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class AlertState(Base):
    """The current state of one instance of a rule (see ``pilotis.core.alert_states``)."""

    __tablename__ = "alert_states"

    rule: Mapped[str] = mapped_column(String(100), primary_key=True)
    instance: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="normal")
    since: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    fired_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    episode: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    data_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    territory: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class AlertTransition(Base):
    """History: every transition and reminder of every instance, with whether it was notified."""

    __tablename__ = "alert_transitions"
    __table_args__ = (Index("ix_alert_transitions_rule_at", "rule", "at"), Index("ix_alert_transitions_at", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(100))
    instance: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(20))
    before: Mapped[str] = mapped_column(String(20))
    after: Mapped[str] = mapped_column(String(20))
    level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    territory: Mapped[str | None] = mapped_column(String(64), nullable=True)
    muted: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """Why it was not notified (silence, maintenance window), None when it was."""
    detail: Mapped[str] = mapped_column(Text, default="")


class AlertSilence(Base):
    """A one-off silence: no notification for a rule (or one instance) until ``ends_at``."""

    __tablename__ = "alert_silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(100))
    instance: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """None: every instance of the rule."""
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AlertOutbox(Base):
    """A message to deliver, written in the transaction of the transitions it tells about."""

    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    rule: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    """`email`, `webhook` or `matrix`."""
    recipient: Mapped[str] = mapped_column(String(500))
    """An e-mail address, the webhook's URL, or the Matrix room and its homeserver."""
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    """Plain text (e-mail), the JSON document (webhook) or the Matrix request (room, name of the
    token's variable, message: :func:`pilotis.accounts.alert_matrix.request_document`)."""
    html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    """`pending`, `sent` or `failed` (given up after the last attempt)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """A file sent with the e-mail (a scheduled report's PDF, :mod:`pilotis.accounts.report_jobs`)."""
    attachment_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """Its file name (``.pdf``: sent as ``application/pdf``)."""


class AccessRequest(Base):
    """A person's request to open a dashboard they may not see, and its decision (issue 17).

    Granted, it opens the dashboard until ``ends_at`` (:attr:`pilotis.core.access.Principal.grants`,
    loaded with the session or the API token); ``ix_access_requests_user_id_status`` answers the
    per-request question « which dashboards are granted to this account now ».
    """

    __tablename__ = "access_requests"
    __table_args__ = (Index("ix_access_requests_user_id_status", "user_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    dashboard: Mapped[str] = mapped_column(String(64))
    """The dashboard's id."""
    reason: Mapped[str] = mapped_column(String(500))
    """Why the person needs it (their words)."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """`pending`, `granted` or `refused`."""
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    decision_reason: Mapped[str] = mapped_column(String(500), default="")
    """Why it was refused (or a note with a grant)."""
    ends_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    """Granted: when the access ends by itself (naive UTC)."""


class AnomalyReport(Base):
    """« Signaler une anomalie » on a widget (issue 17): what the sender saw (page, filters,
    values) and wrote, the role it went to, and its follow-up (:mod:`pilotis.accounts.anomaly_reports`)."""

    __tablename__ = "anomaly_reports"
    __table_args__ = (
        Index("ix_anomaly_reports_user_id", "user_id"),
        Index("ix_anomaly_reports_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    dashboard: Mapped[str] = mapped_column(String(64))
    widget: Mapped[str] = mapped_column(String(64))
    page: Mapped[str] = mapped_column(String(500))
    """The page's address with the filters (``/rsa?territoire=commune:53130&annee=2019``)."""
    filters: Mapped[str] = mapped_column(Text, default="")
    """The filters in words (« Territoire : Laval ; Année : 2019 »)."""
    shown: Mapped[str] = mapped_column(Text, default="")
    """The values the widget showed the sender (a text table, cut)."""
    message: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(200))
    """The role it went to (``dataset:rsa_communes``), or ``admin`` when no role answers."""
    status: Mapped[str] = mapped_column(String(16), default="received")
    """`received`, `in_progress`, `resolved` or `rejected`."""
    reply: Mapped[str] = mapped_column(Text, default="")
    handled_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LateDatasetNotice(Base):
    """A late dataset whose referent was told (:mod:`pilotis.accounts.late_datasets`): one row per
    dataset and last period received — the unique pair is the claim, so each late period is
    e-mailed once whatever the number of workers."""

    __tablename__ = "late_dataset_notices"
    __table_args__ = (UniqueConstraint("dataset", "last_period", name="uq_late_dataset_notices_dataset_last_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(100))
    last_period: Mapped[str] = mapped_column(String(20))
    """The last period present when it was found late (``2024-06-01``)."""
    notified_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recipients: Mapped[str] = mapped_column(Text, default="")


class SsoLogoutToken(Base):
    """A back-channel logout token already used (its ``jti``, issuer-scoped): refused if replayed.

    Kept :data:`pilotis.accounts.sso_logout.KEEP` (longer than a token is accepted), then deleted.
    """

    __tablename__ = "sso_logout_tokens"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    """Hex SHA-256 of ``<issuer>\n<jti>`` (bounded size, whatever the provider sends)."""
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
