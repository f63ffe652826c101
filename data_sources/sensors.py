"""Sensor readings as a dataset (``type: capteurs``): widgets, maps, indicators, alerts read them
like any other table, through the same queries, row rules and cache.

The readings live in the application database (``POST /capteurs/<source>/releves``,
:mod:`pilotis.accounts.sensor_store`); this source joins them to their devices (label, commune,
coordinates) and exposes one of three views:

- ``latest``: one row per device, its last reading (``valeur``, ``ts``), how old it is
  (``age_min``) and whether it is late (``en_retard``: no reading for twice its interval). Each
  device's last reading is one backward step of the primary key ``(device_id, ts)``: the cost
  does not grow with the table (measured in ``bench/bench_ingest.py``);
- ``raw``: the raw readings of the last ``window`` (a range scan of the same key per device);
- ``hourly``: the hourly aggregates (kept for good), over ``window`` when given.

The aggregate query of a widget runs in the database itself, over that joined view.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from pydantic import field_validator

from data_sources.sql import SqlSource, expand_env
from pilotis.core import forks
from pilotis.core.query import Query, build_select
from pilotis.core.schema import SLUG, DatasetBase, Duration, parse_duration
from pilotis.core.sources import SourceError, register_source

DEVICES = sa.table(
    "sensor_devices",
    *(sa.column(name, sa.String) for name in ("source", "code", "label", "commune", "quantity", "unit")),
    sa.column("id", sa.Integer),
    sa.column("lat", sa.Float),
    sa.column("lon", sa.Float),
    sa.column("interval_s", sa.Integer),
)
READINGS = sa.table(
    "sensor_readings", sa.column("device_id", sa.Integer), sa.column("ts", sa.DateTime), sa.column("value", sa.Float)
)
HOURLY = sa.table(
    "sensor_hourly",
    sa.column("device_id", sa.Integer),
    sa.column("hour", sa.DateTime),
    sa.column("n", sa.Integer),
    sa.column("total", sa.Float),
    sa.column("vmin", sa.Float),
    sa.column("vmax", sa.Float),
)
DEVICE_COLUMNS = {
    "capteur": "VARCHAR",
    "libelle": "VARCHAR",
    "commune": "VARCHAR",
    "lat": "DOUBLE",
    "lon": "DOUBLE",
    "grandeur": "VARCHAR",
    "unite": "VARCHAR",
}
VIEW_COLUMNS = {
    "latest": {"ts": "TIMESTAMP", "valeur": "DOUBLE", "age_min": "DOUBLE", "en_retard": "BIGINT"},
    "raw": {"ts": "TIMESTAMP", "heure": "VARCHAR", "jour": "DATE", "valeur": "DOUBLE"},
    "hourly": {
        "heure": "VARCHAR",
        "jour": "DATE",
        "valeur": "DOUBLE",
        "valeur_min": "DOUBLE",
        "valeur_max": "DOUBLE",
        "nb": "BIGINT",
    },
}
"""The columns of each view (fixed: checked at load time without touching the database)."""


def _text_time(column: Any, dialect: str, minutes: bool) -> sa.ColumnElement[str]:
    """``2026-12-05 14:00`` (UTC) from a timestamp, per dialect."""
    if dialect == "postgresql":
        return sa.func.to_char(column, "YYYY-MM-DD HH24:MI" if minutes else "YYYY-MM-DD HH24:00")
    return sa.func.strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d %H:00", column)


def _day(column: Any, dialect: str) -> sa.ColumnElement[dt.date]:
    if dialect == "postgresql":
        return sa.cast(column, sa.Date)
    return sa.func.date(column, type_=sa.Date)


def _minutes_since(column: Any, now: dt.datetime, dialect: str) -> sa.ColumnElement[Any]:
    moment = sa.bindparam("now_utc", now, type_=sa.DateTime)
    if dialect == "postgresql":
        return sa.extract("epoch", moment - column) / 60.0
    return (sa.func.julianday(moment) - sa.func.julianday(column)) * 1440.0


@register_source
class SensorReadings(SqlSource):
    """Readings of a sensor source (`config/sensors/<id>.yaml`), from the application database."""

    type_name = "capteurs"

    class Config(DatasetBase):
        """A dataset of sensor readings."""

        type: Literal["capteurs"] = "capteurs"
        """Type de source : `capteurs`."""
        source: str
        """Identifiant de la source de capteurs (nom du fichier `config/sensors/<source>.yaml`)."""
        view: Literal["latest", "raw", "hourly"] = "latest"
        """`latest` (dernier relevé de chaque capteur, son âge `age_min` et `en_retard`), `raw` (relevés bruts de la
        fenêtre `window`) ou `hourly` (moyennes, minimums et maximums horaires, gardés sans limite)."""
        window: Duration = 0
        """Seuls les relevés de cette durée passée (`24h`, `7j`) ; `0` : tous (`raw` : ceux encore conservés)."""
        database: str = ""
        """URL SQLAlchemy de la base des relevés ; vide : la base de l'application (`PILOTIS_DATABASE_URL`)."""
        timeout: Duration = 10
        """Délai maximal de connexion et de requête (`10s`)."""

        @field_validator("source")
        @classmethod
        def _slug(cls, value: str) -> str:
            if not re.match(SLUG, value):
                raise ValueError("identifiant de source invalide (nom du fichier de config/sensors/, sans `.yaml`)")
            return value

        @field_validator("window", "timeout", mode="before")
        @classmethod
        def _durations(cls, value: str | int) -> int:
            return parse_duration(value)

    @property
    def engine(self) -> sa.Engine:
        """The pool of the readings' database (the application database unless told otherwise)."""
        with self._lock:
            if self._engine is None:
                cfg: Any = self.config
                url = expand_env(cfg.database) if cfg.database else self.app_database
                if not url:
                    raise SourceError(f"source {self.id} : base de l'application inconnue", "refused")
                args: dict[str, object] = {"timeout": cfg.timeout} if url.startswith("sqlite") else {}
                if url.startswith("postgresql"):  # keep the URL's own options (a search_path)
                    own = str(sa.engine.make_url(url).query.get("options", ""))
                    timeout = f"-c statement_timeout={cfg.timeout * 1000}"
                    args = {"connect_timeout": cfg.timeout, "options": f"{own} {timeout}".strip()}
                self._engine = forks.sqlalchemy_engine(sa.create_engine(url, pool_pre_ping=True, connect_args=args))
            return self._engine

    def sensor_source(self) -> str | None:
        return str(self.config.source)  # type: ignore[attr-defined]

    def schema(self) -> dict[str, str]:
        """Fixed columns: the device's, then the view's."""
        return {**DEVICE_COLUMNS, **VIEW_COLUMNS[self.config.view]}  # type: ignore[attr-defined]

    def view(self, dialect: str, now: dt.datetime) -> sa.Subquery:
        """The joined view this dataset exposes, as a subquery (the widget's query runs over it)."""
        cfg: Any = self.config
        since = now - dt.timedelta(seconds=cfg.window) if cfg.window else None
        device_cols = [
            DEVICES.c.code.label("capteur"),
            DEVICES.c.label.label("libelle"),
            DEVICES.c.commune.label("commune"),
            DEVICES.c.lat.label("lat"),
            DEVICES.c.lon.label("lon"),
            DEVICES.c.quantity.label("grandeur"),
            DEVICES.c.unit.label("unite"),
        ]
        if cfg.view == "hourly":
            mean = (HOURLY.c.total / HOURLY.c.n).label("valeur")
            cols = [
                _text_time(HOURLY.c.hour, dialect, False).label("heure"),
                _day(HOURLY.c.hour, dialect).label("jour"),
                mean,
                HOURLY.c.vmin.label("valeur_min"),
                HOURLY.c.vmax.label("valeur_max"),
                HOURLY.c.n.label("nb"),
            ]
            join = DEVICES.join(HOURLY, HOURLY.c.device_id == DEVICES.c.id)
            conditions = [HOURLY.c.hour >= since] if since else []
        else:
            cols = [READINGS.c.ts.label("ts")]
            if cfg.view == "raw":
                cols += [
                    _text_time(READINGS.c.ts, dialect, True).label("heure"),
                    _day(READINGS.c.ts, dialect).label("jour"),
                ]
            cols.append(READINGS.c.value.label("valeur"))
            on = READINGS.c.device_id == DEVICES.c.id
            if cfg.view == "latest":
                inner = READINGS.alias("r2")
                last = sa.select(sa.func.max(inner.c.ts)).where(inner.c.device_id == DEVICES.c.id).scalar_subquery()
                on = sa.and_(on, READINGS.c.ts == last)
                age = _minutes_since(READINGS.c.ts, now, dialect)
                cols += [
                    age.label("age_min"),
                    sa.case((age > DEVICES.c.interval_s * 2 / 60.0, 1), else_=0).label("en_retard"),
                ]
            join = DEVICES.join(READINGS, on)
            conditions = [READINGS.c.ts >= since] if since else []
        stmt = sa.select(*device_cols, *cols).select_from(join).where(DEVICES.c.source == cfg.source, *conditions)
        return stmt.subquery("releves")

    def run(self, query: Query) -> pd.DataFrame:
        self.check_columns(query, self.schema())
        dialect = self.engine.dialect.name
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        stmt = build_select(query, self.view(dialect, now), dialect)  # type: ignore[arg-type]
        try:
            with self.engine.connect() as con:
                return pd.read_sql(stmt, con)
        except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, sa.exc.SQLAlchemyError) else exc
            raise self._error(cause, "requête sur") from exc
