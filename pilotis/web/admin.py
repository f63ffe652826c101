"""Administration pages (role `admin`): the audit log with filters, pagination and CSV export."""

from __future__ import annotations

import io
from typing import Any

import flask

from pilotis.accounts import audit
from pilotis.accounts.db import get_db
from pilotis.web.auth import roles_required
from pilotis.web.auth_pages import page_context
from pilotis.web.referents_page import admin_notice

bp = flask.Blueprint("pilotis_admin", __name__, url_prefix="/admin", template_folder="templates")
PER_PAGE = 50


def _filters() -> tuple[audit.AuditFilter, dict[str, str], str | None]:
    """Filters from the query string, the query to repeat them in links, and a French error."""
    args = flask.request.args
    event = args.get("event", "").strip()
    user = args.get("user", "").strip()[:150]
    error = None
    try:
        since = audit.parse_day(args.get("since"))
        until = audit.parse_day(args.get("until"))
    except ValueError as exc:
        since = until = None
        error = str(exc)
    filters = audit.AuditFilter(
        event=event if event in audit.EVENTS else None,
        username=user or None,
        since=since,
        until=until,
    )
    query = {
        k: v
        for k, v in (
            ("event", filters.event),
            ("user", filters.username),
            ("since", since and since.isoformat()),
            ("until", until and until.isoformat()),
        )
        if v
    }
    return filters, query, error


@bp.route("/audit")
@roles_required("admin")
def audit_log() -> Any:
    """The audit log, newest first, 50 per page."""
    filters, query, error = _filters()
    try:
        page = int(flask.request.args.get("page", "1"))
    except ValueError:
        page = 1
    result = audit.search(get_db(), filters, page, PER_PAGE)
    return flask.render_template(
        "pilotis/audit.html",
        result=result,
        filters=filters,
        query=query,
        events=audit.EVENTS,
        error=error,
        local_time=audit.local_time,
        **admin_notice(),  # referents whose account was disabled: « référent à désigner »
        **page_context(),
    )


@bp.route("/audit.csv")
@roles_required("admin")
def audit_csv() -> flask.Response:
    """The filtered audit log as CSV (the export itself is audited)."""
    filters, query, _ = _filters()
    buffer = io.StringIO()
    count = audit.write_csv(get_db(), buffer, filters)
    audit.record(
        "audit_export",
        target="/admin/audit.csv",
        detail=f"{count} lignes ; filtres : {query or 'aucun'}",
    )
    response = flask.Response(buffer.getvalue().encode("utf-8-sig"), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=journal-audit.csv"
    return response
