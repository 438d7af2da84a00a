"""The access review of one store: read it once, check its hash chain, build the review."""

from __future__ import annotations

from shsync.audit.chain import verify_chain
from shsync.core.review import Review, build
from shsync.model.clock import now_real
from shsync.stores.base import Backend


def review(backend: Backend, *, since: str, now: str) -> Review:
    state = backend.read()
    entries = backend.history()
    return build(state, entries, practice=backend.practice, source=backend.display_url,
                 since=since, now=now, chain_problem=verify_chain(entries),
                 steps=backend.runbook_steps(), judged_at=now_real())
