"""``python -m pilotis``: each command imports only what it needs, and every command is reachable."""

from __future__ import annotations

import argparse
import importlib

import pytest

from pilotis.cli.main import COMMANDS, OWN_COMMANDS, build_parser
from tests.cli_run import run_cli


def commands(parser: argparse.ArgumentParser) -> set[str]:
    """The sub-command names of ``parser``."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(action.choices)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_listed_module_registers_exactly_its_command(name: str) -> None:
    """The table is what makes loading lazy: a module renamed or a command renamed fails here."""
    parser = argparse.ArgumentParser()
    importlib.import_module(COMMANDS[name]).register(parser.add_subparsers())
    assert commands(parser) == {name}


def test_a_command_registers_only_its_own_module() -> None:
    everything = set(OWN_COMMANDS) | set(COMMANDS)
    assert commands(build_parser()) == everything
    assert commands(build_parser(["users", "list"])) == {*OWN_COMMANDS, "users"}
    assert commands(build_parser(["display-link", "revoke", "-abc"])) == {*OWN_COMMANDS, "display-link"}
    assert commands(build_parser(["check"])) == {"check"}
    assert commands(build_parser(["--help"])) == everything
    assert commands(build_parser(["usres", "list"])) == everything  # argparse lists every choice


def test_an_unknown_command_lists_every_choice() -> None:
    result = run_cli(["usres", "list"])
    assert result.returncode == 2
    assert "invalid choice: 'usres'" in result.stderr or "choix invalide" in result.stderr
    for name in [*OWN_COMMANDS, *COMMANDS]:
        assert name in result.stderr
