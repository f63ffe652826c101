"""A report's content (:mod:`pilotis.core.report_content`) as an accessible PDF: HTML and CSS
(``report_templates/``, Jinja2) laid out by WeasyPrint.

Accessibility choices (docs/reports.md): PDF/UA-1 (tagged: structure tree, ``/MarkInfo``),
``lang`` of the document, its title shown by readers (``DisplayDocTitle``), bookmarks from the
h1–h2 headings, a table of contents with page numbers, real text everywhere, charts as vector SVG
with a text alternative followed by their data table (header cells marked), page numbers and
« Données au … — Sources … » at the foot of every page, the repository's fonts embedded
(``assets/fonts``, DejaVu Sans). Nothing is fetched from the network while rendering:
:class:`LocalFetcher` refuses any address outside ``assets/fonts``.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

import jinja2

from pilotis.core.formatting import format_date
from pilotis.core.i18n import t
from pilotis.core.report_content import ReportContent

log = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
TEMPLATES = Path(__file__).resolve().parent / "report_templates"
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined)


def _weasyprint() -> Any:
    """WeasyPrint, imported on the first PDF: it takes seconds to import (pango through cffi,
    fonttools), which the app's start-up, the worker's and every command would pay otherwise."""
    import weasyprint  # noqa: PLC0415 (third-party, deliberately late)
    import weasyprint.urls  # noqa: PLC0415

    return weasyprint


class LocalFetcher:
    """WeasyPrint's resource fetcher (``url_fetcher``) limited to files under ``allowed`` (the
    fonts): any other address — http(s), ftp, a file elsewhere — is refused and recorded in
    ``refused``; WeasyPrint then leaves the resource out and goes on."""

    _fail_on_errors = False
    """Read by WeasyPrint: a refused resource is skipped, not fatal."""

    def __init__(self, allowed: Path) -> None:
        self.allowed = allowed.resolve()
        self.refused: list[str] = []

    def __call__(self, url: str) -> Any:
        return self.fetch(url)

    def fetch(self, url: str, headers: Any = None) -> Any:
        """The file at ``url`` (a ``URLFetcherResponse``) when it lies under ``allowed``; raises
        ``ValueError`` otherwise."""
        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None
        if path is None or not path.is_relative_to(self.allowed) or not path.is_file():
            self.refused.append(url)
            log.warning("rapport PDF : ressource refusée (hors des polices locales) : %s", url[:200])
            raise ValueError(f"ressource refusée : {url[:200]}")
        return _weasyprint().urls.URLFetcherResponse(path.as_uri(), path.read_bytes())


def _css_string(text: str) -> str:
    """``text`` inside a CSS double-quoted string."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3C ")


def report_html(content: ReportContent, lang: str = "fr") -> str:
    """The HTML the PDF is laid out from (also handy to look at in a browser)."""
    moment = content.generated.astimezone(PARIS)
    day = format_date(content.data_date, lang) if content.data_date else "–"
    footer = t("report_footer", lang, day=day, sources=", ".join(content.sources) or "–")
    generated = t(
        "report_generated",
        lang,
        day=format_date(moment.date(), lang),
        time=moment.strftime("%H:%M"),
        user=content.user or "Pilotis",
    )
    return _ENV.get_template("report.html").render(
        report=content,
        lang=lang,
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        footer_css=_css_string(footer),
        generated=generated,
        author=content.user or "Pilotis",
        t=lambda key, **values: t(key, lang, **values),
    )


def render_pdf(content: ReportContent, assets: Path, lang: str = "fr", fetcher: LocalFetcher | None = None) -> bytes:
    """The PDF/UA-1 document of ``content``; ``assets`` is the folder holding ``fonts/``."""
    html = report_html(content, lang)
    fetcher = fetcher or LocalFetcher(assets / "fonts")
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode()
    document = _weasyprint().HTML(string=html, base_url=assets.resolve().as_uri() + "/", url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=identifier)
    return pdf
