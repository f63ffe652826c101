"""Peer « stack floor »: the Dash + pandas peer plus the libraries Pilotis is built on, used minimally.

Not a product: a lower bound for start-up and worker memory. Pilotis must run on Dash, Dash
Bootstrap Components, plotly, pandas, Flask-Login, SQLAlchemy (a real SQL database for accounts)
and PyYAML (declarative dashboards). Any app on that stack imports them and opens its database at
start, whatever its own code does. This app is ``dash_pandas_app`` (same layout, same callbacks,
same numbers) and, on top of it, only that:

- the layout wrapped in a Bootstrap container (``dash_bootstrap_components``);
- its title read from a YAML text (``yaml.safe_load``);
- a users table in SQLite through SQLAlchemy Core (created at start if missing, one user, one
  query), and Flask-Login's manager loading a signed-in user from it (no page requires one:
  the filter changes are the peer's, unauthenticated);
- with ``FLOOR_DUCKDB=1``, also DuckDB (Pilotis's query engine, a choice rather than a
  requirement): one in-memory connection and one query at start on the peer's Parquet file.

``FLOOR_DB`` (default: a file in the temporary folder) is the SQLite file. Run:
``gunicorn bench.peers.stack_floor_app:server -w 2`` from the repository root.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dash_bootstrap_components as dbc
import flask_login
import sqlalchemy as sa
import yaml

from bench.peers import dash_pandas_app as peer

CONFIG = yaml.safe_load("title: Observatoire du RSA\nfilters: [territory, year]\n")
DATABASE = Path(os.environ.get("FLOOR_DB", Path(tempfile.gettempdir()) / "stack-floor.db"))

metadata = sa.MetaData()
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(150), unique=True, nullable=False),
    sa.Column("department", sa.String(64)),
)
engine = sa.create_engine(f"sqlite:///{DATABASE}")
metadata.create_all(engine)
with engine.begin() as connection:
    if connection.execute(sa.select(sa.func.count()).select_from(users)).scalar_one() == 0:
        connection.execute(users.insert().values(username="president", department="direction"))


class User(flask_login.UserMixin):
    """A signed-in user, as read from the table."""

    def __init__(self, row: sa.Row) -> None:
        self.id = str(row.id)
        self.department = row.department


server = peer.server
login_manager = flask_login.LoginManager(server)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session cookie, or None."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.id == int(user_id))).first()
    return None if row is None else User(row)


peer.app.title = CONFIG["title"]
peer.app.layout = dbc.Container(peer.app.layout, fluid=True)

if os.environ.get("FLOOR_DUCKDB") == "1":
    import duckdb

    DUCKDB = duckdb.connect(":memory:")
    DUCKDB.execute("SELECT epci_siren, max(date) FROM read_parquet(?) GROUP BY 1", [str(peer.data.DATA)]).fetchall()
