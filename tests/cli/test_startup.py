"""Start-up: each command imports only what it uses.

`shsync --version` is answered before click is imported (shsync/entry.py), and so is `--help`
where a page rendered in advance is what click would print (shsync/quickhelp.py); elsewhere
`--help` needs click and nothing heavy; `validate` of a valid file needs the YAML loader, the compiled schema and the
rules, but neither pydantic (a valid org is read as plain data: shsync/model/plain.py) nor
python-jsonschema (it only explains invalid files) nor a database driver nor the plan renderers. Timings are measured by the benchmark (bench/run.py), never asserted here;
what is asserted is which modules a fresh process has loaded when the command ends.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "org.yaml")

PROBE = ("import atexit, sys\n"
         "atexit.register(lambda: print('MODULES', *sorted(sys.modules), file=sys.stderr))\n"
         "from shsync.entry import main\n"
         "main(sys.argv[1:])\n")

HEAVY = ("pydantic", "jsonschema", "psycopg", "sqlite3", "shsync.model.org", "shsync.jobs.app",
         "shsync.core", "shsync.stores", "shsync.render")


def imported(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> set[str]:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                            text=True, timeout=120, env=env, cwd=cwd)
    assert result.returncode in (0, 2), result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of `names` (packages or modules) were imported."""
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


LIGHT_ONLY = (*HEAVY, "yaml", "jsonschema_rs", "shsync.format", "shsync.cli.common",
              "shsync.cli.plan", "shsync.cli.validate")


def test_version_imports_nothing_but_the_version():
    modules = imported("--version")
    assert loaded(modules, ("click", "shsync.cli", *LIGHT_ONLY)) == []


def test_the_early_version_line_is_exactly_what_click_prints():
    from click.testing import CliRunner

    from shsync.cli import cli
    from shsync.entry import VERSION_LINE

    assert CliRunner().invoke(cli, ["--version"]).output == VERSION_LINE
    result = subprocess.run([sys.executable, "-m", "shsync", "--version"], capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    assert (result.returncode, result.stdout, result.stderr) == (0, VERSION_LINE, "")


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["plan", "--help"], ["token", "list", "-h"]])
def test_help_at_a_stored_width_imports_no_click(args):
    # A pipe is 80 columns to click: the page rendered in advance (shsync/quickhelp.py).
    modules = imported(*args, env={**os.environ, "COLUMNS": "80"})
    assert loaded(modules, ("click", "shsync.cli", *LIGHT_ONLY)) == []


def test_help_at_another_width_is_clicks_and_imports_nothing_heavy():
    modules = imported("--help", env={**os.environ, "COLUMNS": "66"})
    assert "click" in modules
    assert loaded(modules, LIGHT_ONLY) == []


def test_validate_of_a_valid_file_needs_no_jsonschema_driver_or_renderer():
    modules = imported("validate", EXAMPLE)
    assert {"yaml", "jsonschema_rs", "shsync.format.rules"} <= modules
    assert loaded(modules, ("pydantic", "shsync.model.org", "jsonschema", "psycopg", "sqlite3",
                            "shsync.render.plan", "shsync.jobs.app", "shsync.stores",
                            "shsync.core", "shsync.format.fastload", "yaml_rs")) == []


def test_validate_of_an_invalid_file_loads_the_explaining_validator(tmp_path):
    bad = tmp_path / "org.yaml"
    bad.write_text("version: 1\nmembers:\n  - email: dana@x.example\n    first_nme: Dana\n")
    result = subprocess.run([sys.executable, "-c", PROBE, "validate", str(bad)],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 1
    assert "error[unknown-key]" in result.stdout
    assert "jsonschema" in result.stderr.split()


def test_plan_on_sqlite_imports_neither_postgres_nor_jsonschema_nor_pydantic(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SHSYNC_BACKEND": f"sqlite:///{tmp_path / 'p.db'}",
           "SHSYNC_NOW": "2026-11-26T12:00:00Z"}
    seeded = subprocess.run([sys.executable, "-m", "shsync", "seed",
                             str(ROOT / "examples" / "practice-snapshot.yaml")],
                            capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert seeded.returncode == 0, seeded.stderr
    modules = imported("plan", EXAMPLE, env=env, cwd=tmp_path)
    assert "shsync.core.planner" in modules and "sqlite3" in modules
    # A valid file is planned from plain data: the models (and pydantic) explain errors only.
    assert loaded(modules, ("jsonschema", "psycopg", "pydantic", "shsync.model.org")) == []


GC_PROBE = ("import atexit, gc, sys\n"
            "atexit.register(lambda: print('GC', gc.isenabled(), file=sys.stderr))\n"
            "from shsync.entry import main\n"
            "main(sys.argv[1:])\n")


def test_a_command_runs_with_the_cyclic_collector_off():
    # One short process that builds no reference cycles (bench/notes.md has the figures).
    result = subprocess.run([sys.executable, "-c", GC_PROBE, "validate", EXAMPLE],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0 and "GC False" in result.stderr


def test_the_server_a_long_lived_process_turns_the_collector_back_on(tmp_path, monkeypatch):
    import gc

    import uvicorn

    from shsync import server

    seen = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.append(gc.isenabled()))
    gc.disable()
    try:
        server.run(f"sqlite:///{tmp_path}/practice.db", "127.0.0.1", 0)
    finally:
        gc.enable()
    assert seen == [True]
