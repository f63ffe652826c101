"""The sample files of deploy/ are valid as shipped: nginx accepts the site configuration, the
gunicorn configuration selects gthread workers, the systemd units run what exists."""

from __future__ import annotations

import runpy
import subprocess
from pathlib import Path

import pytest

from tests.deploy_stack import NGINX, ROOT, need

DEPLOY = ROOT / "deploy"


def test_nginx_accepts_the_site_configuration(tmp_path: Path) -> None:
    need(NGINX.exists(), f"nginx absent ({NGINX}) : apt-get install nginx")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert]
        + ["-subj", "/CN=pilotis.example.fr", "-days", "1"],
        check=True,
        capture_output=True,
    )
    site = (DEPLOY / "nginx" / "pilotis.conf").read_text()
    for shipped, here in {
        "/etc/ssl/pilotis/fullchain.pem": cert,
        "/etc/ssl/pilotis/privkey.pem": key,
        "/etc/nginx/pilotis_proxy.conf": DEPLOY / "nginx" / "pilotis_proxy.conf",
        "/var/cache/nginx/pilotis": tmp_path / "cache",
        "/var/log/nginx/": f"{tmp_path}/",
    }.items():
        assert shipped in site
        site = site.replace(shipped, str(here))
    (tmp_path / "site.conf").write_text(site)
    main = f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
    main += f"http {{ include {tmp_path}/site.conf; }}\n"
    (tmp_path / "nginx.conf").write_text(main)
    checked = subprocess.run(
        [NGINX, "-t", "-p", tmp_path, "-c", tmp_path / "nginx.conf"], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr


def test_gunicorn_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PILOTIS_BIND", "127.0.0.1:8002")
    monkeypatch.setenv("PILOTIS_LOG_FORMAT", "json")
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["worker_class"] == "gthread" and config["wsgi_app"] == "app:server"
    assert config["bind"] == ["127.0.0.1:8002"]
    assert config["accesslog"] is None  # JSON: the app writes the access line with the request id


def test_systemd_units_run_what_the_checkout_has() -> None:
    instance = (DEPLOY / "systemd" / "pilotis@.service").read_text()
    worker = (DEPLOY / "systemd" / "pilotis-worker@.service").read_text()
    assert "gunicorn -c deploy/gunicorn.conf.py" in instance and (DEPLOY / "gunicorn.conf.py").exists()
    assert "PROMETHEUS_MULTIPROC_DIR=/run/pilotis/metrics-%i" in instance
    assert "-m pilotis worker" in worker and "KillSignal=SIGTERM" in worker
    for unit in (instance, worker):
        assert "EnvironmentFile=/etc/pilotis/pilotis.env" in unit
