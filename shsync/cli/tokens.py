"""`shsync token create|list|revoke`: API tokens for `shsync serve`, made by the operator.

Only someone holding the store's credentials runs these (they open the store directly), so only
the operator creates tokens; a token can never make another. The token is printed once, on
standard output alone, and the store keeps only its hash.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import click

from shsync.jobs import app
from shsync.cli.common import GIVEN, backend_option, changed, envelope, handled
from shsync.render.escape import visible


def _store(stack: ExitStack, flag: str | None, practice: str | None, *,
           create: bool = False) -> Any:
    from shsync.cli.common import open_url, store_url
    from shsync.stores.url import with_practice

    url = store_url(flag)

    if url.startswith(("http://", "https://")):
        raise app.UserError("tokens are made with the store's own credentials: use "
                            "--backend sqlite:///... or postgresql://..., not a server's URL",
                            "usage")
    backend = open_url(stack, with_practice(url, practice) if practice else url, create=create)
    if not hasattr(backend, "add_token"):
        raise app.UserError(f"{backend.display_url} does not keep tokens", "usage")
    return backend


def _expires(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A length shsync does not take is a mistake in the command line (exit 64), found
    before the store is opened."""
    from shsync.core import tokens

    try:
        tokens.expiry(value, datetime.now(UTC))
    except app.UserError as exc:
        raise click.BadParameter(str(exc).removeprefix(f"--expires {value[:40]!r}").lstrip(": ")
                                 or str(exc)) from None
    return value


@click.group("token", invoke_without_command=False)
def token() -> None:
    """Create, list and revoke API tokens for `shsync serve`.

    A token belongs to one practice and acts as one member (their own rights, as `--actor`
    gives), or with --operator as a named service with the operator's rights. Its scope bounds
    what it may ask for: read < plan < apply < admin. Only the operator, holding the store's
    credentials, runs these commands.

    \b
    Examples:
      shsync token create --practice riverbend \\
          --actor dana.ortiz@riverbend.example --scope apply
      shsync token create --practice riverbend --operator ci-plans \\
          --scope plan --expires 30d   # CI: a service, not a member
      shsync token list --practice riverbend
      shsync token revoke 3f9c2a1b7d4e5f60 --practice riverbend
    """


@token.command("create")
@click.option("--practice", metavar="NAME", help="The practice (default: the one --backend names).")
@click.option("--actor", type=GIVEN, metavar="EMAIL", help="The member the token acts as.")
@click.option("--operator", "operator", metavar="NAME",
              help="Instead of --actor: a service acting with the operator's rights, recorded "
                   "in the audit log under NAME.")
@click.option("--scope", type=click.Choice(["read", "plan", "apply", "admin"]), default="plan",
              show_default=True, help="What the token may ask for (each includes the ones before).")
@click.option("--expires", default="90d", show_default=True, type=GIVEN, metavar="90d|12h|never",
              help="How long it works.", callback=_expires)
@backend_option
@handled
def create(practice: str | None, actor: str | None, operator: str | None, scope: str,
           expires: str, backend_url: str | None) -> None:
    """Create a token and print it once (the store keeps only its hash).

    \b
    Examples:
      shsync token create --practice riverbend \\
          --actor dana.ortiz@riverbend.example --scope apply
      shsync token create --practice riverbend --operator ci-deploy \\
          --scope apply --expires 30d
    """
    from shsync.core import tokens

    if (actor is None) == (operator is None):
        raise app.UserError("give exactly one of --actor EMAIL or --operator NAME", "usage")
    if practice is not None:  # checked before a store is opened, or made
        tokens.check_practice_name(practice)
    with ExitStack() as stack:
        # Only a service's token may come before the practice (it can seed it, remotely); a
        # member's needs the member, so the practice is there already.
        store = _store(stack, backend_url, practice, create=operator is not None)
        text, record = tokens.create(store, actor=actor or operator or "",
                                     operator=operator is not None, scope=scope,
                                     expires=expires, created_by=app.actor(None).name,
                                     now=datetime.now(UTC))
    changed(f"token {record.id} created",
            f"Its secret was never shown: revoke it (`shsync token revoke {record.id}`) and "
            "create another")
    click.echo(text)
    ends = f"until {record.expires_at}" if record.expires_at else "with no end"
    click.echo(visible(f"Created token {record.id} for {record.actor} in practice "
                       f"{record.practice!r}, scope {record.scope}, valid {ends}. It is shown "
                       "only now: keep it in a secret store (SHSYNC_TOKEN)."), err=True)


@token.command("list")
@click.option("--practice", metavar="NAME", help="The practice (default: the one --backend names).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: every field but the hash.")
@backend_option
@handled
def list_tokens(practice: str | None, fmt: str, backend_url: str | None) -> None:
    """List a practice's tokens: id, who, scope, expiry, revocation. Never a secret.

    \b
    Examples:
      shsync token list --practice riverbend
      shsync token list --practice riverbend --format json
    """
    now = app.now_real()
    with ExitStack() as stack:
        found = _store(stack, backend_url, practice).tokens()
    if fmt == "json":
        click.echo(envelope(True, tokens=[t.public(now) for t in found]), nl=False)
        return
    if not found:
        click.echo("No tokens.")
    for t in found:
        who = f"operator {t.actor}" if t.operator else t.actor
        ends = t.expires_at or "never"
        revoked = (f", revoked {t.revoked_at}" + (f": {t.revoked_reason}" if t.revoked_reason
                                                  else "")) if t.revoked_at else ""
        click.echo(visible(f"{t.id}  {t.status(now):7}  {t.scope:5}  {who}  created "
                           f"{t.created_at} by {t.created_by}, expires {ends}{revoked}"))


@token.command("revoke")
@click.argument("token_id", metavar="ID")
@click.option("--practice", metavar="NAME", help="The practice (default: the one --backend names).")
@backend_option
@handled
def revoke(token_id: str, practice: str | None, backend_url: str | None) -> None:
    """Revoke a token at once: every request with it fails from now on.

    \b
    Examples:
      shsync token revoke 3f9c2a1b7d4e5f60 --practice riverbend
    """
    with ExitStack() as stack:
        store = _store(stack, backend_url, practice)
        if not store.revoke_token(token_id, app.now_real(),
                                  f"revoked by {app.actor(None).name}"):
            raise app.UserError(f"no token {token_id[:40]!r} in practice {store.practice!r} "
                                "(`shsync token list` shows them)", "unknown-token")
        changed(f"token {token_id} revoked")
    click.echo(visible(f"Revoked token {token_id} in practice {store.practice!r}."))
