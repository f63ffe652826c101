"""Static files: long browser caching for versioned addresses, 304s that work under compression,
brotli bodies (pilotis/static_cache.py). The browser-side proof (second page load ≤ 50 kB) is
tests/browser/test_frontend_weight_browser.py."""

from __future__ import annotations

import brotli
from flask.testing import FlaskClient

from pilotis.core.settings import ROOT
from pilotis.web import static_cache

BR = {"Accept-Encoding": "gzip, deflate, br, zstd"}
PLOTLY = "/assets/vendor/plotly/plotly-pilotis.min.js"


def test_versioned_asset_is_immutable_compressed_and_revalidates_to_304(client: FlaskClient) -> None:
    first = client.get("/assets/pilotis.css?m=1", headers=BR)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert first.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in first.headers["Vary"]
    assert brotli.decompress(first.data) == (ROOT / "assets" / "pilotis.css").read_bytes()
    etag = first.headers["ETag"]
    again = client.get("/assets/pilotis.css?m=1", headers={**BR, "If-None-Match": etag})
    assert again.status_code == 304, "the browser's copy is confirmed, not sent again"
    assert not again.data


def test_unversioned_asset_and_lazy_chunk_revalidate(client: FlaskClient) -> None:
    for url in ("/assets/logo-mayenne.svg", "/_dash-component-suites/dash/dcc/async-graph.js"):
        first = client.get(url, headers=BR)
        assert first.status_code == 200, url
        assert first.headers["Cache-Control"] == "no-cache", url
        again = client.get(url, headers={**BR, "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, url


def test_plotly_bundle_is_sent_from_its_precompressed_copy(client: FlaskClient) -> None:
    response = client.get(PLOTLY + "?m=2", headers=BR)
    assert response.headers["Content-Encoding"] == "br"
    assert response.data == (ROOT / (PLOTLY.lstrip("/") + ".br")).read_bytes()
    assert brotli.decompress(response.data) == (ROOT / PLOTLY.lstrip("/")).read_bytes()


def test_without_brotli_the_file_is_sent_as_is_and_still_revalidates(client: FlaskClient) -> None:
    identity = {"Accept-Encoding": "identity"}
    with client.get("/assets/pilotis.css?m=1", headers=identity) as first:
        assert "Content-Encoding" not in first.headers
        assert first.data == (ROOT / "assets" / "pilotis.css").read_bytes()
        etag = first.headers["ETag"]
    with client.get("/assets/pilotis.css?m=1", headers={**identity, "If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_invented_bundle_fingerprints_are_compressed_once(client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Dash serves a bundle under any fingerprint, to anyone: five invented fingerprints must not
    cost five compressions (nor five kept bodies) in the worker."""
    calls: list[int] = []
    real = brotli.compress

    def counting(data: bytes, quality: int = 11, **options: object) -> bytes:
        calls.append(quality)
        return real(data, quality=quality, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(static_cache.brotli, "compress", counting)
    for n in range(5):
        url = f"/_dash-component-suites/dash/dcc/dash_core_components.v4_4_1m{1000 + n}.js"
        response = client.get(url, headers=BR)
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"
    assert len([q for q in calls if q == static_cache.BROTLI_QUALITY]) <= 1, calls
