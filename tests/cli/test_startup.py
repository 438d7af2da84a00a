"""Start-up: each command imports only what it uses.

`shsync --version` is answered before click is imported (shsync/entry.py). `shsync --help` needs
click and the lazy group (shsync/cli/__init__.py), which lists the commands from its tables and
imports none of their modules; `shsync COMMAND --help` imports that command's module and no
other, and never a database driver, a concrete store, the server or python-jsonschema;
`validate` of a valid file needs the YAML loader, the compiled schema and the rules, but neither
pydantic (a valid org is read as plain data: shsync/model/plain.py) nor python-jsonschema (it
only explains invalid files) nor a database driver nor the plan renderers. Timings are measured
by the benchmark (bench/startup.py, bench/run.py), never asserted here; what is asserted is
which modules a fresh process has loaded when the command ends.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shsync.cli import COMMANDS
from tests.conftest import NOW, run_cli

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
    from shsync.entry import VERSION_LINE

    assert run_cli("--version").output == VERSION_LINE
    result = subprocess.run([sys.executable, "-m", "shsync", "--version"], capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    assert (result.returncode, result.stdout, result.stderr) == (0, VERSION_LINE, "")


#: The modules of the commands, each imported only by its own command (or its help).
COMMAND_MODULES = tuple(sorted({path.split(":")[0] for path in COMMANDS.values()}))
#: What no help page needs: a database driver, a concrete store, the server and its stack, the
#: HTTP client, python-jsonschema (it explains invalid files).
NEVER_FOR_HELP = ("jsonschema", "psycopg", "sqlite3", "shsync.stores.sql", "shsync.stores.sqlite",
                  "shsync.stores.postgres", "shsync.stores.remote", "shsync.server", "fastapi",
                  "uvicorn", "httpx")


def started_with() -> set[str]:
    """The modules a bare interpreter of this environment has loaded (site, .pth finders)."""
    result = subprocess.run([sys.executable, "-c", "import sys; print(*sys.modules)"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    return set(result.stdout.split())


@pytest.mark.parametrize("args", [["--help"], ["-h"]])
@pytest.mark.parametrize("columns", [None, "80", "66"])
def test_help_imports_click_and_the_lazy_group_and_no_command(args, columns):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    modules = imported(*args, env=env if columns is None else {**env, "COLUMNS": columns})
    assert "click" in modules and "shsync.cli" in modules
    assert {m for m in modules if m.split(".")[0] == "shsync"} <= {
        "shsync", "shsync.entry", "shsync.cli", "shsync.errors"}
    # Beside click, nothing but the standard library (and what the interpreter started with).
    added = {m.split(".")[0] for m in modules - started_with()}
    assert added - set(sys.stdlib_module_names) <= {"click", "shsync"}
    assert loaded(modules, (*COMMAND_MODULES, *LIGHT_ONLY)) == []


@pytest.mark.parametrize("args", [*([name, "--help"] for name in COMMANDS),
                                  ["token", "list", "-h"]], ids=" ".join)
def test_a_commands_help_imports_its_own_module_and_nothing_heavy(args):
    modules = imported(*args)
    own = COMMANDS[args[0]].split(":")[0]
    assert own in modules
    assert loaded(modules, tuple(m for m in COMMAND_MODULES if m != own)) == []
    assert loaded(modules, NEVER_FOR_HELP) == []


@pytest.mark.parametrize("name", COMMANDS)
def test_a_commands_help_imports_no_pydantic(name):
    assert loaded(imported(name, "--help"), ("pydantic", "shsync.model.org")) == []


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
           "SHSYNC_NOW": NOW}
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
