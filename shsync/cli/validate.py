"""`shsync validate` and `shsync schema`: checking files, no store needed."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shsync.cli.common import EXIT_ERROR, EXIT_OK, echo_diagnostics, strictly
from shsync.diagnostics import Severity
from shsync.schema import published
from shsync.schema.load import load_org


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="How to print the diagnostics.")
def validate(path: Path, strict: bool, fmt: str) -> None:
    """Check an org file (or a directory of them) against the schema and the practice's rules.

    Exit 0 when valid (warnings alone pass unless --strict), 1 when not.
    """
    loaded = load_org(path)
    diagnostics = strictly(loaded.diagnostics, strict)
    echo_diagnostics(diagnostics, fmt)
    failed = any(d.severity is Severity.ERROR for d in diagnostics)
    if fmt == "text":
        errors = sum(d.severity is Severity.ERROR for d in diagnostics)
        warnings = len(diagnostics) - errors
        if failed:
            click.echo(f"{path}: {errors} error(s), {warnings} warning(s)", err=True)
        else:
            org = loaded.model
            assert org is not None
            click.echo(f"{path}: valid ({len(org.members)} members, {len(org.clients)} clients"
                       f"{f', {warnings} warning(s)' if warnings else ''})", err=True)
    sys.exit(EXIT_ERROR if failed else EXIT_OK)


@click.command()
@click.option("--snapshot", is_flag=True, help="The snapshot format (shsync seed) instead.")
def schema(snapshot: bool) -> None:
    """Print the JSON Schema (Draft 2020-12) of the org file format.

    Editors (yaml-language-server) and CI (check-jsonschema) can use it directly.
    """
    click.echo(published.text("snapshot" if snapshot else "org"), nl=False)
