"""`shsync validate` and `shsync schema`: checking files, no store needed."""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from pathlib import Path

import click

from shsync import __version__
from shsync.cli.common import GivenPath, EXIT_ERROR, EXIT_OK, echo_diagnostics, handled, strictly
from shsync.model.diagnostics import Diagnostic, Severity
from shsync.render import annotations as annotation_formats
from shsync.render.escape import visible
from shsync.format import published
from shsync.format.load import Loaded, load_org, load_snapshot

STDIN_NAME = "<stdin>"
#: The most `validate -` reads from standard input (an L practice's org file is ~21 MB).
MAX_STDIN_BYTES = 256 * 1024 * 1024


@click.command()
@click.argument("path", required=False, type=GivenPath(path_type=Path, allow_dash=True))
@click.option("--snapshot", is_flag=True,
              help="Check a practice snapshot (the format of `seed` and `refresh`) instead.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]),
              default="text", show_default=True,
              help="text: FILE:LINE:COL lines; json: the envelope with errors and warnings; "
                   "github: workflow commands that annotate a pull request; sarif: SARIF 2.1.0.")
@handled
def validate(path: Path | None, snapshot: bool, strict: bool, fmt: str) -> None:
    """Check an org file (or a directory of them) against the schema and the practice's rules.

    PATH may be `-` to read one file from standard input. Exit 0 when valid (warnings alone
    pass unless --strict), 1 when not.

    \b
    Examples:
      shsync validate org/
      shsync validate --strict --format github org/       # in a GitHub Action
      shsync validate --format sarif org/ > shsync.sarif  # for code scanning
      cat org.yaml | shsync validate -
      shsync validate --snapshot observed.yaml
    """
    # the planning clock (SHSYNC_NOW): finds access that has ended
    from shsync.cli.common import org_or_config
    from shsync.model.clock import now

    if path is None and snapshot:
        raise click.UsageError("validate --snapshot needs PATH, the snapshot file")
    path = org_or_config(path, "validate")
    loaded = _load(path, snapshot, now())
    diagnostics = strictly(loaded.diagnostics, strict)
    failed = any(d.severity is Severity.ERROR for d in diagnostics)
    shown = STDIN_NAME if str(path) == "-" else visible(str(path))
    if fmt == "github":
        click.echo(annotation_formats.github(diagnostics), nl=False)
    elif fmt == "sarif":
        click.echo(annotation_formats.sarif(diagnostics, __version__), nl=False)
    else:
        echo_diagnostics(diagnostics, fmt)
    if fmt != "json":
        errors = sum(d.severity is Severity.ERROR for d in diagnostics)
        warnings = len(diagnostics) - errors
        if failed:
            click.echo(f"{shown}: {errors} error(s), {warnings} warning(s)", err=True)
        else:
            value = loaded.value
            assert value is not None
            clients = f", {len(value.clients)} clients" if hasattr(value, "clients") else ""
            click.echo(f"{shown}: valid ({len(value.members)} members{clients}"
                       f"{f', {warnings} warning(s)' if warnings else ''})", err=True)
    sys.exit(EXIT_ERROR if failed else EXIT_OK)


def _load(path: Path, snapshot: bool, at: str) -> Loaded:
    def load(where: Path) -> Loaded:
        return load_snapshot(where) if snapshot else load_org(where, at)

    if str(path) != "-":
        return load(path)
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        too_big = Diagnostic(Severity.ERROR, "file-too-large",
                             f"{STDIN_NAME}: more than {MAX_STDIN_BYTES:,} bytes")
        return Loaded(None, (too_big,), (STDIN_NAME,))
    # The loader reads files (it bounds and places what it reads); give it one, then name it
    # as the user did.
    with tempfile.TemporaryDirectory(prefix="shsync-stdin-") as tmp:
        spooled = Path(tmp) / "stdin.yaml"
        spooled.write_bytes(data)
        loaded = load(spooled)
        names = {str(spooled), _relative(spooled)}
    return dataclasses.replace(loaded, diagnostics=tuple(_renamed(d, names)
                                                         for d in loaded.diagnostics),
                               files=(STDIN_NAME,))


def _relative(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _renamed(d: Diagnostic, names: set[str]) -> Diagnostic:
    message = d.message
    for name in names:
        message = message.replace(name, STDIN_NAME)
    location = d.location
    if location is not None and location.file in names:
        location = dataclasses.replace(location, file=STDIN_NAME)
    return dataclasses.replace(d, message=message, location=location)


@click.command()
@click.option("--snapshot", is_flag=True, help="The snapshot format (shsync seed) instead.")
def schema(snapshot: bool) -> None:
    """Print the JSON Schema (Draft 2020-12) of the org file format.

    Editors (yaml-language-server) and CI (check-jsonschema) can use it directly.

    \b
    Examples:
      shsync schema > org.schema.json
      shsync schema --snapshot > snapshot.schema.json
    """
    click.echo(published.text("snapshot" if snapshot else "org"), nl=False)
