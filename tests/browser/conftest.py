"""Browser fixtures: the app served by gunicorn as in production, driven in a real Chromium.

- ``live_server``: ``gunicorn app:server -w 2`` (threaded workers: ``gunicorn.conf.py``) on a
  free loopback port, with its own instance folder (database, cache), started once per session
  and always stopped.
- ``browser``: Debian's Chromium (``/usr/bin/chromium``; Playwright cannot download one here).
- ``tab`` / ``mobile_tab``: a new page (1366×768 / 390×844) of one session-wide context signed
  in through the real login form (when the app has one), recording every request and every
  JavaScript error; ``new_tab`` makes a separate context (another user, an anonymous visitor).

Missing Chromium, Playwright or axe-core skips these tests on a developer's machine, and fails
them when ``PILOTIS_REQUIRE_BROWSER`` is set (CI sets it).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pilotis.core.settings import ROOT

CHROMIUM = Path(os.environ.get("PILOTIS_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1366, "height": 768}
MOBILE = {"width": 390, "height": 844}
USER = "president"
"""Demo account used by the browser tests: the `president` role reads every dashboard."""
PASSWORD = "demo-pilotis"
SERVER_START_TIMEOUT = 120.0
"""Seconds for every worker to be ready: about 10 s on an idle 2-core machine, 60 s seen under load."""
WORKERS = 2
READY_LINE = "Worker ready (pid:"
"""Written by ``gunicorn.conf.py`` (``post_worker_init``) when a worker starts taking requests."""


def require(condition: bool, what: str) -> None:
    """Skip (developer machine) or fail (CI sets PILOTIS_REQUIRE_BROWSER) if ``what`` is absent."""
    if condition:
        return
    message = f"{what} — `make browser` installs it"
    if os.environ.get("PILOTIS_REQUIRE_BROWSER"):
        pytest.fail(f"PILOTIS_REQUIRE_BROWSER is set but {message}", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _gunicorn() -> str:
    beside = Path(sys.executable).with_name("gunicorn")
    if beside.exists():
        return str(beside)
    found = shutil.which("gunicorn")
    require(found is not None, "gunicorn is not installed")
    return str(found)


def _answers(url: str) -> bool:
    """True once the server answers anything but a 5xx (a redirect to /login is fine)."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=2) as response:
            return int(response.status) < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (urllib.error.URLError, OSError):
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of the master and workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def server_log(instance: Path, tail: int = 6000) -> str:
    """The end of the gunicorn log of a server started by :func:`serve` (for failure messages)."""
    try:
        return (instance / "gunicorn.log").read_text(errors="replace")[-tail:]
    except OSError as exc:
        return f"(journal illisible : {exc})"


def _workers_ready(log_path: Path) -> int:
    try:
        return log_path.read_text(errors="replace").count(READY_LINE)
    except OSError:
        return 0


@contextmanager
def serve(instance: Path, extra_env: dict[str, str] | None = None, ready_path: str = "/") -> Iterator[str]:
    """Run ``gunicorn app:server -w 2`` on a free loopback port with its own instance folder
    (database, cache) and extra environment; yield its base URL once **every** worker is ready;
    stop it afterwards.

    Ready means: each worker has logged that it takes requests (``gunicorn.conf.py``), and
    ``ready_path`` then ``/readyz`` answer. Returning at the first answer, as before, let a test
    run while the second worker was still importing and building the app on the same two CPUs
    and the same database (a wall-screen test failed once in CI that way). Its log is
    ``instance/gunicorn.log`` (:func:`server_log`)."""
    port = _free_port()
    env = dict(os.environ, PILOTIS_INSTANCE_DIR=str(instance), **(extra_env or {}))
    env.pop("PILOTIS_DEBUG", None)
    log_path = instance / "gunicorn.log"
    command = [
        _gunicorn(),
        "app:server",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "2",
        "--no-control-socket",
        "--pid",
        str(instance / "gunicorn.pid"),
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not (_workers_ready(log_path) >= WORKERS and _answers(base + ready_path) and _answers(base + "/readyz")):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"gunicorn on {base}: {_workers_ready(log_path)} of {WORKERS} workers ready within "
                    f"{SERVER_START_TIMEOUT:.0f} s (exit status {process.poll()}):\n{server_log(instance, 4000)}",
                    pytrace=False,
                )
            time.sleep(0.2)
        yield base
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the app run by gunicorn (2 workers) on its own database; stopped afterwards."""
    with serve(tmp_path_factory.mktemp("browser-instance")) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, shared by the session."""
    require(CHROMIUM.exists(), f"Chromium is missing ({CHROMIUM})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "Playwright for Python is not installed")
        raise
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's browser bundle (npm, pinned in package.json)."""
    require(AXE.exists(), f"axe-core is missing ({AXE.relative_to(ROOT)})")
    return AXE


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder of screenshots and axe reports (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def login_page_exists(base: str) -> bool:
    """True once the app has a /login page (authentication installed)."""
    try:
        with urllib.request.urlopen(base + "/login", timeout=5) as response:
            return int(response.status) == 200
    except urllib.error.HTTPError:
        return False


def sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form, as a person would."""
    page.goto(base + "/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    assert "/login" not in page.url, f"sign-in of {username} failed: {page.url}"


@dataclass
class Tab:
    """One browser page with what it requested, the JavaScript errors it raised, its console
    messages and the requests that failed or were answered 4xx/5xx (:meth:`report`)."""

    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    pending: dict[Any, str] = field(default_factory=dict)
    """Requests sent and not answered yet (an answer that never comes: a server that hangs)."""

    def report(self) -> str:
        """What the page went through, for a failure message: its address, its errors, the
        console, failed or refused requests, and how many requests it made."""
        try:
            url = self.page.url
        except Exception as exc:  # noqa: BLE001 - a closed page still gets a report
            url = f"(page fermée : {exc})"
        parts = [
            f"page: {url}",
            f"JavaScript errors: {self.errors[-10:]}",
            f"console: {self.console[-20:]}",
            f"failed or refused requests: {self.failures[-20:]}",
            f"{len(self.requests)} requests, last: {self.requests[-5:]}",
            f"not answered: {sorted(url[:200] for url in self.pending.values())}",
        ]
        return "\n".join(parts)

    def open(self, path: str) -> Any:
        """Load ``path`` and wait for Dash to have rendered the page's content."""
        response = self.page.goto(self.base + path)
        self.page.wait_for_selector("#page > *", timeout=30_000)
        return response

    def screenshot(self, name: str) -> Path:
        """A full-page PNG in test-artifacts/."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def external_requests(self) -> list[str]:
        """Requests that left the machine (anything but the loopback server)."""
        local = (self.base + "/", "data:", "blob:")
        return sorted({url for url in self.requests if not url.startswith(local)})


def _context(browser: Any, viewport: dict[str, int], state: dict[str, Any] | None = None) -> Any:
    context = browser.new_context(viewport=viewport, locale="fr-FR", storage_state=state, timezone_id="Europe/Paris")
    context.set_default_timeout(30_000)
    return context


def _recording(page: Any, base: str) -> Tab:
    tab = Tab(page=page, base=base)
    page.on("request", lambda request: (tab.requests.append(request.url), tab.pending.update({request: request.url})))
    page.on("requestfinished", lambda request: tab.pending.pop(request, None))
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    page.on("console", lambda message: tab.console.append(f"{message.type}: {message.text[:300]}"))
    page.on(
        "requestfailed",
        lambda request: (
            tab.failures.append(f"{request.url[:200]}: {request.failure}"),
            tab.pending.pop(request, None),
        ),
    )
    page.on(
        "response",
        lambda response: (
            tab.failures.append(f"{response.url[:200]}: HTTP {response.status}") if response.status >= 400 else None
        ),
    )
    return tab


def new_tab(
    browser: Any, base: str, state: dict[str, Any] | None, viewport: dict[str, int] = DESKTOP
) -> tuple[Any, Tab]:
    """A fresh context (own cookies, cache and session storage) with a recording page."""
    context = _context(browser, viewport, state)
    return context, _recording(context.new_page(), base)


@pytest.fixture(scope="session")
def signed_in(browser: Any, live_server: str) -> Iterator[Any]:
    """One browser context signed in as `president` through the login form (when there is one).

    Shared by the tests so that plotly.js (4.8 MB) is downloaded and compiled once, as in a real
    browser; each test still gets its own page, hence its own sessionStorage (filter values).
    """
    context = _context(browser, DESKTOP)
    try:
        if login_page_exists(live_server):
            page = context.new_page()
            sign_in(page, live_server, USER)
            page.close()
        yield context
    finally:
        context.close()


@pytest.fixture
def tab(signed_in: Any, live_server: str) -> Iterator[Tab]:
    """A signed-in desktop page (1366×768)."""
    page = signed_in.new_page()
    try:
        yield _recording(page, live_server)
    finally:
        page.close()


@pytest.fixture
def mobile_tab(signed_in: Any, live_server: str) -> Iterator[Tab]:
    """A signed-in phone-sized page (390×844)."""
    page = signed_in.new_page()
    page.set_viewport_size(MOBILE)
    try:
        yield _recording(page, live_server)
    finally:
        page.close()


@pytest.fixture
def anonymous_tab(browser: Any, live_server: str) -> Iterator[Tab]:
    """A page of a visitor who has not signed in."""
    context, opened = new_tab(browser, live_server, None)
    try:
        yield opened
    finally:
        context.close()


def write_json(name: str, value: Any) -> None:
    """A JSON report in test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    with contextlib.suppress(OSError):
        (ARTIFACTS / name).write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
