"""The command line: parse, call the library, render, exit code. Nothing else imports click."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from shsync import __version__
from shsync.diagnostics import Diagnostic, Severity
from shsync.schema import published
from shsync.schema.load import load_org

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow"}


def _echo_diagnostics(diagnostics: Sequence[Diagnostic], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps([d.as_dict() for d in diagnostics], indent=2))
        return
    for d in diagnostics:
        text = d.render()
        click.echo(click.style(text, fg=_COLOURS[d.severity]) if sys.stdout.isatty() else text)


def _strictly(diagnostics: Sequence[Diagnostic], strict: bool) -> tuple[Diagnostic, ...]:
    return tuple(d.promoted() if strict else d for d in diagnostics)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="shsync")
def cli() -> None:
    """Run a group therapy practice's organization as code.

    Declare members, roles, supervision and client access in YAML; validate it, plan it against
    the live practice, and apply the plan safely, all or nothing.
    """


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="How to print the diagnostics.")
def validate(path: Path, strict: bool, fmt: str) -> None:
    """Check an org file (or a directory of them) against the schema and the practice's rules.

    Exit 0 when valid (warnings alone pass unless --strict), 1 when not.
    """
    loaded = load_org(path)
    diagnostics = _strictly(loaded.diagnostics, strict)
    _echo_diagnostics(diagnostics, fmt)
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


@cli.command()
@click.option("--snapshot", is_flag=True, help="The snapshot format (shsync seed) instead.")
def schema(snapshot: bool) -> None:
    """Print the JSON Schema (Draft 2020-12) of the org file format.

    Editors (yaml-language-server) and CI (check-jsonschema) can use it directly.
    """
    click.echo(published.text("snapshot" if snapshot else "org"), nl=False)


def main() -> None:
    cli(prog_name="shsync")
