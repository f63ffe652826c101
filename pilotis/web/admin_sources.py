"""« État des sources » (role `admin`): each dataset's source, its last success and last failure,
and a button to refresh it now (clears its cached results on every worker and machine)."""

from __future__ import annotations

from typing import Any

import flask

from pilotis.accounts import audit
from pilotis.core.freshness import SourceStatus, format_moment
from pilotis.core.sources import ERROR_KINDS
from pilotis.ui.portal import Portal
from pilotis.web.auth import roles_required
from pilotis.web.auth_pages import page_context
from pilotis.web.referents_page import admin_notice

bp = flask.Blueprint("pilotis_sources", __name__, url_prefix="/admin/sources", template_folder="templates")


def _portal() -> Portal:
    portal: Portal = flask.current_app.extensions["pilotis"]
    return portal


def _moment(timestamp: float | None) -> str:
    if timestamp is None:
        return "jamais"
    day, time = format_moment(timestamp)
    return f"le {day} à {time}"


def rows(portal: Portal) -> list[dict[str, Any]]:
    """One row per dataset: what the table of the page shows."""
    result = []
    for dataset_id, source in sorted(portal.registry.datasets.items()):
        status: SourceStatus = portal.data.last_status(dataset_id)
        state = "en échec" if status.failing else ("à jour" if status.last_success else "non interrogée")
        result.append(
            {
                "id": dataset_id,
                "title": source.config.title,
                "type": source.type_name,
                "state": state,
                "failing": status.failing,
                "success": _moment(status.last_success),
                "failure": _moment(status.last_failure),
                "kind": ERROR_KINDS.get(status.kind, "") if status.last_failure else "",
                "message": status.message if status.last_failure else "",
            }
        )
    return result


@bp.route("", methods=["GET"])
@roles_required("admin")
def sources() -> Any:
    """The table of every source's status (server-rendered, no JavaScript needed)."""
    refreshed = flask.request.args.get("rafraichi", "")
    portal = _portal()
    if refreshed not in portal.registry.datasets:
        refreshed = ""
    return flask.render_template(
        "pilotis/sources.html", rows=rows(portal), refreshed=refreshed, **admin_notice(), **page_context()
    )


@bp.route("/<dataset_id>/refresh", methods=["POST"])
@roles_required("admin")
def refresh(dataset_id: str) -> Any:
    """Manual refresh of one dataset (POST with the CSRF token, checked by CSRFProtect)."""
    portal = _portal()
    if dataset_id not in portal.registry.datasets:
        flask.abort(404)
    portal.data.refresh(dataset_id)
    audit.record("source_refresh", target=dataset_id)
    return flask.redirect(flask.url_for("pilotis_sources.sources", rafraichi=dataset_id), code=303)
