"""``python -m pilotis users …``, ``db …`` and ``audit export``, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pilotis.accounts import passwords
from pilotis.accounts.db import Database
from pilotis.accounts.models import AuditEvent, User
from pilotis.cli.main import main
from pilotis.core.settings import ROOT
from tests.dbutil import DB_KINDS, database_url

GOOD = "mot-de-passe-robuste-1"


@pytest.fixture(params=DB_KINDS)
def cli_db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """An empty database the command line is pointed at (PILOTIS_DATABASE_URL)."""
    with database_url(request.param, tmp_path) as url:
        monkeypatch.setenv("PILOTIS_DATABASE_URL", url)
        monkeypatch.setenv("PILOTIS_CONFIG_DIR", str(ROOT / "config"))
        db = Database(url)
        yield db
        db.dispose()


def run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(list(argv))


def user(db: Database, name: str) -> User | None:
    with db.session() as session:
        return session.scalar(select(User).where(User.username == name))


def audit_rows(db: Database) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all())


def test_add_and_list(cli_db, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code = run(
        monkeypatch,
        "users",
        "add",
        "Camille.Martin",
        "--name",
        "Camille Martin",
        "--department",
        "solidarites",
        "--roles",
        "agent|manager",
        "--territory",
        "epci:200083392",
        stdin=GOOD + "\n",
    )
    assert code == 0, capsys.readouterr().err
    created = user(cli_db, "camille.martin")
    assert created is not None and created.roles == ["agent", "manager"]
    assert created.territory == "epci:200083392" and not created.demo
    assert passwords.verify(created.password_hash, GOOD)
    assert GOOD not in created.password_hash
    capsys.readouterr()
    assert run(monkeypatch, "users", "list") == 0
    out = capsys.readouterr().out
    assert "camille.martin" in out and "Camille Martin" in out and "agent,manager" in out
    row = audit_rows(cli_db)[-1]
    assert row.event == "user_created" and row.target == "camille.martin" and row.username.startswith("cli:")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--department", "solidarite", "--roles", "agent"], "vouliez-vous dire `solidarites`"),
        (["--roles", "chef"], "rôle `chef` inconnu"),
        (["--roles", "agent", "--territory", "laval"], "territoire `laval` invalide"),
    ],
)
def test_add_refuses_bad_fields(cli_db, monkeypatch, capsys, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    assert run(monkeypatch, "users", "add", "camille", *args, stdin=GOOD + "\n") == 1
    assert message in capsys.readouterr().err
    assert user(cli_db, "camille") is None


def test_add_refuses_weak_password_and_duplicates(cli_db, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(monkeypatch, "users", "add", "camille", "--roles", "agent", stdin="court\n") == 1
    assert "au moins 12 caractères" in capsys.readouterr().err
    assert run(monkeypatch, "users", "add", "camille", "--roles", "agent", stdin=GOOD + "\n") == 0
    assert run(monkeypatch, "users", "add", "CAMILLE", "--roles", "agent", stdin=GOOD + "\n") == 1
    assert "existe déjà" in capsys.readouterr().err


def test_set_password_disable_enable(cli_db, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    run(monkeypatch, "users", "add", "camille", "--roles", "agent", stdin=GOOD + "\n")
    version = user(cli_db, "camille").session_version  # type: ignore[union-attr]
    assert run(monkeypatch, "users", "set-password", "camille", stdin="nouveau-mot-de-passe\n") == 0
    changed = user(cli_db, "camille")
    assert passwords.verify(changed.password_hash, "nouveau-mot-de-passe")  # type: ignore[union-attr]
    assert changed.session_version == version + 1  # type: ignore[union-attr]
    assert run(monkeypatch, "users", "set-password", "personne", stdin="nouveau-mot-de-passe\n") == 1
    assert "inconnu" in capsys.readouterr().err
    assert run(monkeypatch, "users", "disable", "camille") == 0
    assert not user(cli_db, "camille").active  # type: ignore[union-attr]
    capsys.readouterr()
    run(monkeypatch, "users", "list")
    assert "camille" not in capsys.readouterr().out  # disabled accounts need --all
    run(monkeypatch, "users", "list", "--all")
    assert "désactivé" in capsys.readouterr().out
    assert run(monkeypatch, "users", "enable", "camille") == 0
    assert user(cli_db, "camille").active  # type: ignore[union-attr]
    assert [r.event for r in audit_rows(cli_db)] == [
        "user_created",
        "user_password",
        "user_disabled",
        "user_enabled",
    ]


def test_generated_password_is_shown_once(cli_db, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(monkeypatch, "users", "add", "camille", "--roles", "agent", "--generate") == 0
    shown = capsys.readouterr().out.split("une seule fois) : ")[1].strip()
    assert passwords.verify(user(cli_db, "camille").password_hash, shown)  # type: ignore[union-attr]


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",", bom: bool = False) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["username", "display_name", "department", "roles", "territory", "password"])
    writer.writerows(rows)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    return path


def test_import_creates_and_updates(cli_db, monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run(monkeypatch, "users", "add", "existant", "--roles", "agent", stdin=GOOD + "\n")
    old_hash = user(cli_db, "existant").password_hash  # type: ignore[union-attr]
    path = write_csv(
        tmp_path / "agents.csv",
        [
            ["a.dupont", "Alice Dupont", "finances", "agent|manager", "", GOOD],
            ["b.durand", "Bruno Durand", "solidarites", "agent", "epci:200083392", GOOD + "x"],
            [
                "existant",
                "Nom changé",
                "rh",
                "manager",
                "",
                "",
            ],  # no password: keep the current one
        ],
        delimiter=";",
        bom=True,
    )
    assert run(monkeypatch, "users", "import", str(path)) == 0, capsys.readouterr().err
    assert "2 compte(s) créé(s), 1 mis à jour" in capsys.readouterr().out
    alice = user(cli_db, "a.dupont")
    assert alice.roles == ["agent", "manager"] and alice.department == "finances"  # type: ignore[union-attr]
    assert user(cli_db, "b.durand").territory == "epci:200083392"  # type: ignore[union-attr]
    kept = user(cli_db, "existant")
    assert kept.display_name == "Nom changé" and kept.roles == ["manager"]  # type: ignore[union-attr]
    assert kept.password_hash == old_hash  # type: ignore[union-attr]
    events = [(r.event, r.target) for r in audit_rows(cli_db)]
    assert ("user_created", "a.dupont") in events and ("user_updated", "existant") in events


def test_import_is_all_or_nothing_with_line_numbers(cli_db, monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        tmp_path / "agents.csv",
        [
            ["a.dupont", "Alice Dupont", "finances", "agent", "", GOOD],
            ["b.durand", "Bruno", "finance", "agent", "", GOOD],
            ["c.petit", "Chloé", "rh", "stagiaire", "", "court"],
            ["a.dupont", "Alice encore", "rh", "agent", "", GOOD],
            ["d.nouveau", "Sans mot de passe", "rh", "agent", "", ""],
        ],
    )
    assert run(monkeypatch, "users", "import", str(path)) == 1
    err = capsys.readouterr().err
    assert f"{path}:3: direction `finance` inconnue" in err
    assert f"{path}:4: rôle `stagiaire` inconnu" in err and f"{path}:4: le mot de passe doit contenir" in err
    assert f"{path}:5: identifiant `a.dupont` déjà présent ligne 2" in err
    assert f"{path}:6: mot de passe obligatoire" in err
    assert "aucun compte importé" in err
    assert user(cli_db, "a.dupont") is None


def test_import_reports_a_bad_header(cli_db, monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "agents.csv"
    path.write_text("login,nom\nx,y\n", encoding="utf-8")
    assert run(monkeypatch, "users", "import", str(path)) == 1
    assert f"{path}:1: colonne(s) manquante(s)" in capsys.readouterr().err


def test_db_upgrade_and_current(cli_db, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    head = cli_db.head_revision()
    assert run(monkeypatch, "db", "upgrade") == 0
    assert f"révision {head}" in capsys.readouterr().out
    assert run(monkeypatch, "db", "current") == 0
    assert f"révision {head}" in capsys.readouterr().out


def test_audit_export(cli_db, monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run(monkeypatch, "users", "add", "camille", "--roles", "agent", stdin=GOOD + "\n")
    run(monkeypatch, "users", "disable", "camille")
    out = tmp_path / "journal.csv"
    assert run(monkeypatch, "audit", "export", str(out)) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r["evenement"] for r in rows] == ["user_created", "user_disabled"]
    assert rows[0]["libelle"] == "Compte créé" and rows[0]["cible"] == "camille"
    assert (
        run(
            monkeypatch,
            "audit",
            "export",
            str(out),
            "--since",
            "2000-01-01",
            "--event",
            "user_disabled",
        )
        == 0
    )
    assert len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))) == 1
    assert run(monkeypatch, "audit", "export", str(out), "--since", "2999-01-01") == 0
    assert list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))) == []
    assert run(monkeypatch, "audit", "export", str(out), "--since", "hier") == 1
    assert "illisible" in capsys.readouterr().err
    assert audit_rows(cli_db)[-1].event == "audit_export"


def test_the_module_entry_point(tmp_path: Path) -> None:
    """`python -m pilotis users list` works in a fresh process on a fresh database."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PILOTIS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "PILOTIS_INSTANCE_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pilotis", "users", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "0 compte(s)." in result.stdout


def test_import_refuses_unknown_and_extra_columns(cli_db, monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "agents.csv"
    path.write_text(
        "username,display_name,department,roles,territory,password,email\n"
        f"a.dupont,Alice,finances,agent,,{GOOD},alice@example.org\n",
        encoding="utf-8",
    )
    assert run(monkeypatch, "users", "import", str(path)) == 1
    err = capsys.readouterr().err
    assert f"{path}:1: colonne `email` inconnue" in err
    assert user(cli_db, "a.dupont") is None
    # one line with more values than the header (a comma inside an unquoted name)
    path.write_text(
        "username,display_name,department,roles,territory,password\n"
        f"a.dupont,Alice,finances,agent,,{GOOD}\n"
        f"b.durand,Durand, Bruno,rh,agent,,{GOOD}\n",
        encoding="utf-8",
    )
    assert run(monkeypatch, "users", "import", str(path)) == 1
    err = capsys.readouterr().err
    assert f"{path}:3: 1 valeur(s) en trop" in err and "guillemets" in err
    assert user(cli_db, "a.dupont") is None  # all or nothing


def test_import_refuses_unknown_territory_codes(cli_db, monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        tmp_path / "agents.csv",
        [
            ["a.dupont", "Alice", "finances", "agent", "epci:200083392", GOOD],  # Laval Agglomération
            ["b.durand", "Bruno", "rh", "agent", "epci:200083393", GOOD],  # one digit off
            ["c.petit", "Chloé", "rh", "agent", "commune:99999", GOOD],
            ["d.martin", "Denis", "rh", "agent", "departement:53", GOOD],
        ],
    )
    assert run(monkeypatch, "users", "import", str(path)) == 1
    err = capsys.readouterr().err
    assert f"{path}:3: territoire `epci:200083393` inconnu" in err
    assert f"{path}:4: territoire `commune:99999` inconnu" in err
    assert f"{path}:2:" not in err and f"{path}:5:" not in err
    assert user(cli_db, "a.dupont") is None


def test_import_locates_a_bad_utf8_byte_on_its_line(cli_db, monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "agents.csv"
    lines = [
        "username,display_name,department,roles,territory,password",
        f"a.dupont,Alice,finances,agent,,{GOOD}",
        f"c.petit,Chlo\xe9,rh,agent,,{GOOD}",  # saved in Latin-1 by a spreadsheet
    ]
    path.write_bytes("\n".join(lines).encode("latin-1"))
    assert run(monkeypatch, "users", "import", str(path)) == 1
    err = capsys.readouterr().err
    assert f"{path}:3: octet invalide en UTF-8 (colonne 13)" in err, err
    assert "enregistrez le fichier en UTF-8" in err
