"""Static files (``/assets/…``, ``/_dash-component-suites/…``): cached by the browser for a year
when their address is versioned, revalidated with a 304 otherwise, and sent brotli-compressed
with an ETag that still matches on the next visit.

Before this module a second page load re-downloaded every asset (≈ 600 kB): Dash links
``/assets/x.js?m=<mtime>`` but Flask answered ``Cache-Control: no-cache``, and flask-compress
compresses Flask's streamed file responses without re-evaluating ``If-None-Match`` against the
ETag it rewrites (``"…:zstd"``), so the 304 never came. Dash's lazy chunks (``async-*.js``)
had no Cache-Control at all.

Now, for a GET answered 200:

- versioned addresses: ``/assets/…?m=<mtime>`` (Dash adds it; a changed file changes its
  address) and Dash's fingerprinted component suites (``….v4_4_1m<mtime>.js``) get
  ``Cache-Control: public, max-age=31536000, immutable``: the second load asks nothing;
- other static addresses (lazy chunks ``async-*.js``, fonts, the topojson map, the logo)
  get ``Cache-Control: no-cache`` and a strong ETag: the second load gets 304 answers
  (≈ 0.6 kB each), and a new version of Dash or of a file is picked up at once;
- compressible bodies (JS, CSS, JSON, SVG) are compressed here with brotli when the browser
  accepts it, from a committed ``<file>.br`` when it holds the same bytes
  (scripts/build_plotly_bundle.sh writes one at quality 11: 387 kB instead of 425 kB at 9 and
  ≈ 480 kB with flask-compress's default zstd-3), else once per worker at quality 9 (0.3 s for
  1.4 MB) and kept in memory, then recompressed at quality 11 in a background thread (2 s for
  Dash's 355 kB dcc bundle; 8 % smaller, 29 kB less over Dash's bundles). Keyed by address and
  ETag: a changed file is compressed again. The ETag names the encoding (``W/"<etag>-br"``,
  weak: the q9 and q11 bodies are equivalent, not identical) and ``If-None-Match`` is evaluated
  after compression.
  flask-compress leaves a response that already has a ``Content-Encoding`` alone.

Static files are the same for every user: the compressed-body cache holds nothing per user.
"""

from __future__ import annotations

import threading
import zlib
from pathlib import Path
from typing import Any

import brotli
import flask
from dash.fingerprint import check_fingerprint

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
COMPRESSIBLE = frozenset({"application/javascript", "text/javascript", "text/css", "application/json", "image/svg+xml"})
BROTLI_QUALITY = 9
"""Quality of bodies compressed at request time: 0.3 s for the 1.4 MB plotly bundle, once per worker."""
BROTLI_BEST = 11
"""Quality of the background recompression that replaces them."""
MIN_SIZE = 500
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/")


def cache_control(path: str, args: Any) -> str | None:
    """The Cache-Control of a static address, or None for any other address."""
    if path.startswith("/assets/"):
        return IMMUTABLE if args.get("m") else REVALIDATE
    if path.startswith("/_dash-component-suites/"):
        return IMMUTABLE if check_fingerprint(path)[1] else REVALIDATE
    return None


class StaticBodies:
    """Brotli bodies of static files, shared by the requests of one worker (thread-safe)."""

    def __init__(self, assets_folder: Path) -> None:
        self.assets_folder = assets_folder.resolve()
        self._bodies: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def precompressed(self, path: str, data: bytes) -> bytes | None:
        """The committed ``<file>.br`` of an ``/assets/`` file, when it holds exactly ``data``
        (checked by content, once per version: file times do not survive a git checkout)."""
        if not path.startswith("/assets/"):
            return None
        source = (self.assets_folder / path[len("/assets/") :]).resolve()
        packed = source.with_name(source.name + ".br")
        if not source.is_relative_to(self.assets_folder) or not packed.is_file():
            return None
        body = packed.read_bytes()
        try:
            same = brotli.decompress(body) == data
        except brotli.error:
            same = False
        return body if same else None  # stale: the file was rebuilt without its .br

    def brotli(self, path: str, etag: str, data: bytes) -> bytes:
        """``data`` compressed (once per file and version).

        Keyed by the file's path without its fingerprint: Dash serves a bundle under any
        fingerprint (``….v4_4_1m<anything>.js``), so keying by the address would let anyone fill a
        worker's memory and CPU with one entry and one compression per invented fingerprint."""
        key = (check_fingerprint(path)[0], etag)
        with self._lock:
            found = self._bodies.get(key)
        if found is not None:
            return found
        body = self.precompressed(path, data)
        if body is None:
            body = brotli.compress(data, quality=BROTLI_QUALITY)
            threading.Thread(target=self._recompress, args=(key, data), daemon=True).start()
        with self._lock:
            self._bodies[key] = body
        return body

    def _recompress(self, key: tuple[str, str], data: bytes) -> None:
        body = brotli.compress(data, quality=BROTLI_BEST)
        with self._lock:
            self._bodies[key] = body


def _accepts_brotli(header: str) -> bool:
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() == "br":
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def finish(response: flask.Response, bodies: StaticBodies) -> flask.Response:
    """Cache-Control, brotli body, encoding-aware ETag and 304 of a static file response."""
    request = flask.request
    policy = cache_control(request.path, request.args)
    if policy is None or request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    response.headers["Cache-Control"] = policy
    vary = response.headers.get("Vary", "")
    if "accept-encoding" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    compress = (
        request.method == "GET"
        and response.mimetype in COMPRESSIBLE
        and "Content-Encoding" not in response.headers
        and _accepts_brotli(request.headers.get("Accept-Encoding", ""))
    )
    if compress:
        response.direct_passthrough = False
        original = response.response
        data = response.get_data()
        close = getattr(original, "close", None)
        if close is not None:
            close()  # the file send_file opened: its bytes are read, the body is replaced
        if len(data) >= MIN_SIZE:
            etag, _ = response.get_etag()
            version = etag or f"{zlib.crc32(data):08x}-{len(data)}"
            response.set_data(bodies.brotli(request.path, version, data))
            response.headers["Content-Encoding"] = "br"
            response.set_etag(f"{version}-br", weak=True)
    elif response.is_streamed:
        return response  # a file sent as is: send_file already answered If-None-Match
    elif response.get_etag()[0] is None:
        response.add_etag()
    response.make_conditional(request)  # 304 when If-None-Match names this version and encoding
    return response


def install(server: flask.Flask, assets_folder: Path) -> None:
    """Register the hook; call it after ``Dash(compress=True)`` so that it runs before
    flask-compress's own (Flask runs ``after_request`` functions last registered first)."""
    bodies = StaticBodies(assets_folder)

    @server.after_request
    def static_caching(response: flask.Response) -> flask.Response:
        return finish(response, bodies)
