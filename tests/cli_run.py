"""``python -m pilotis ARGS`` run inside the test process, with its exit code and its output.

A new interpreter pays every import again (pandas, Dash, SQLAlchemy, pydantic…): about 2 s on a
quiet machine and 6 to 8 s on a busy CI runner, for each command a test runs. What most CLI tests
check is the command's behaviour (its exit code, what it prints, what it writes), which is the same
through :func:`pilotis.cli.main` in this process, where everything is already imported. The
process entry point itself (``python -m pilotis``, ``app.py``, ``import app`` under gunicorn) keeps
one real subprocess test per command family: ``test_users_cli.py::test_the_module_entry_point``,
``test_config_errors.py`` (``check`` on the shipped configuration, ``app.py``) and
``test_security.py`` (the gunicorn entry point).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pilotis.cli.main import main


@dataclass(frozen=True)
class CliResult:
    """What a finished command gave, as ``subprocess.run(..., capture_output=True)`` would."""

    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(env: Mapping[str, str], cwd: Path | str | None) -> Iterator[None]:
    """The process environment as a fresh process started by a test would see it: no inherited
    ``PILOTIS_*`` variable, ``env`` added, ``cwd`` as working directory; all restored after."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    try:
        for name in [n for n in os.environ if n.startswith("PILOTIS_")]:
            del os.environ[name]
        os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def run_cli(args: Sequence[str], cwd: Path | str | None = None, env: Mapping[str, str] | None = None) -> CliResult:
    """Run ``python -m pilotis *args`` in this process; argparse's own exits (usage errors, 2)
    are caught like the exit code of a process."""
    out, err = io.StringIO(), io.StringIO()
    with _environment(env or {}, cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliResult(code, out.getvalue(), err.getvalue())
