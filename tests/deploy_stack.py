"""The production layout on loopback, for tests/test_deploy.py: nginx in front of two gunicorn
instances (deploy/gunicorn.conf.py, deploy/nginx/pilotis_proxy.conf as shipped), two workers,
PostgreSQL and Redis shared by all. Every process has its own folder, port and log; everything
started is stopped at the end (process groups, bounded waits)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
NGINX = Path(os.environ.get("PILOTIS_NGINX", "/usr/sbin/nginx"))
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def need(condition: bool, message: str) -> None:
    """Skip on a developer's machine, fail when CI requires the deployment test."""
    if condition:
        return
    if os.environ.get("PILOTIS_REQUIRE_DEPLOY"):
        pytest.fail(f"PILOTIS_REQUIRE_DEPLOY est défini mais {message}", pytrace=False)
    pytest.skip(message)


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()  # state, ppid, pgrp, …


def group_members(pgid: int) -> list[int]:
    """Pids of the process group ``pgid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[2] == str(pgid):
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Some thread of the process is still running. Not just « the leader is not a zombie »: the
    leader of a multi-threaded process shows as a zombie while its other threads, which share
    its open files (the listening socket), are still exiting."""
    fields = _stat(pid)
    if fields is None:
        return False
    try:
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return False
    return fields[0] not in ("Z", "X") or threads > 1


def refuses(port: int) -> bool:
    """Nothing accepts connections on ``port`` any more."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


@dataclass
class Process:
    """A started process (its own process group) and its log."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0
    """The port it listens on (0: none): killed means that port refuses connections."""

    def kill(self) -> None:
        """SIGKILL the whole group, as a crash or the OOM killer would; return once every process
        of the group is dead (gone or a zombie: its sockets are closed), not just its leader."""
        if self.popen.poll() is not None:
            return
        members = group_members(self.popen.pid)
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in members) or (self.port and not refuses(self.port)):
            assert time.monotonic() < deadline, f"{self.name} : processus encore vivants après SIGKILL"
            time.sleep(0.005)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@dataclass
class Stack:
    """What the test drives: nginx's URL, the processes, the job log."""

    url: str
    instances: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)
    nginx: Process | None = None
    job_log: Path = Path()
    folder: Path = Path()
    database_url: str = ""

    def nginx_access(self) -> str:
        log = self.folder / "nginx-access.log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        return "\n".join(line for line in lines if " 200 " not in line)[-3000:]

    def nginx_errors(self) -> str:
        log = self.folder / "nginx-error.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def _start(name: str, command: list[str], env: dict[str, str], folder: Path) -> Process:
    log = folder / f"{name}.log"
    with open(log, "wb") as out:
        popen = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Process(name, popen, log)


def _wait_http(process: Process, url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if process.popen.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{process.name} ne répond pas sur {url}:\n{process.tail()}", pytrace=False)
        time.sleep(0.2)


NGINX_CONF = """
daemon off;
worker_processes 1;
user root;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format timed '$msec "$request" $status $upstream_addr $upstream_status $request_time';
    access_log {tmp}/nginx-access.log timed;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream pilotis {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{ include {root}/deploy/nginx/pilotis_proxy.conf; }}
    }}
}}
"""


def nginx_conf(tmp: Path, port: int, upstream_ports: list[int]) -> str:
    """nginx's configuration: listen on ``port``, proxy (deploy/nginx/pilotis_proxy.conf as shipped)
    to the instances on ``upstream_ports``; pid and logs in ``tmp``. Also used by bench/bench_nginx.py."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in upstream_ports)
    return NGINX_CONF.format(tmp=tmp, port=port, servers=servers, root=ROOT)


@contextmanager
def stack(tmp: Path, database_url: str, redis_url: str, job_env: dict[str, str]) -> Iterator[Stack]:
    """Start everything (instances and workers migrate the empty schema at the same time)."""
    need(NGINX.exists(), f"nginx absent ({NGINX}) : apt-get install nginx")
    base_env = {
        **os.environ,
        "PILOTIS_MODE": "demo",
        "PILOTIS_HOST": "127.0.0.1",
        "PILOTIS_SECRET_KEY": "cle-de-test-du-deploiement-" + "x" * 32,
        "PILOTIS_DATABASE_URL": database_url,
        "PILOTIS_CACHE_URL": redis_url,
        "PILOTIS_CACHE_PREFIX": f"pilotis-deploy-{tmp.name}:",
        "PILOTIS_PROXIES": "1",
        "PILOTIS_LOG_FORMAT": "json",
        "PILOTIS_METRICS_TOKEN": "jeton-deploiement",
        "PYTHONPATH": str(ROOT),
        **job_env,
    }
    base_env.pop("PILOTIS_DEBUG", None)
    with ExitStack() as stop:
        result = Stack(url="", folder=tmp, database_url=database_url)
        ports = [free_port(), free_port()]
        for number, port in enumerate(ports, 1):
            folder = tmp / f"instance{number}"
            folder.mkdir()
            env = {
                **base_env,
                "PILOTIS_INSTANCE_DIR": str(folder),
                "PILOTIS_BIND": f"127.0.0.1:{port}",
                "PILOTIS_WORKERS": "1",
                "PILOTIS_THREADS": "4",
                "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
            }
            gunicorn = Path(sys.executable).with_name("gunicorn")
            command = [str(gunicorn), "-c", "deploy/gunicorn.conf.py", "--pid", str(folder / "gunicorn.pid")]
            process = _start(f"instance{number}", command, env, tmp)
            process.port = port
            stop.callback(process.stop)
            result.instances.append(process)
        for number in (1, 2):
            folder = tmp / f"worker{number}"
            folder.mkdir()
            env = {**base_env, "PILOTIS_INSTANCE_DIR": str(folder)}
            command = [sys.executable, "-m", "pilotis", "worker", "--jobs", "tests.worker_jobs", "--poll", "0.2"]
            process = _start(f"worker{number}", command, env, tmp)
            stop.callback(process.stop)
            result.workers.append(process)
        port = free_port()
        conf = tmp / "nginx.conf"
        conf.write_text(nginx_conf(tmp, port, ports))
        nginx = _start("nginx", [str(NGINX), "-p", str(tmp), "-c", str(conf)], dict(os.environ), tmp)
        stop.callback(nginx.stop)
        result.nginx = nginx
        for process, instance_port in zip(result.instances, ports, strict=True):
            _wait_http(process, f"http://127.0.0.1:{instance_port}/readyz")
        result.url = f"http://127.0.0.1:{port}"
        _wait_http(nginx, result.url + "/healthz")
        result.job_log = Path(job_env["PILOTIS_TEST_JOB_LOG"])
        yield result
