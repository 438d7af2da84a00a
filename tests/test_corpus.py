"""Hostile and broken input: every corpus file gets its own code, a place, exit 1, no change."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from shsync.stores.sqlite import SqliteBackend
from shsync.cli import cli
from tests import fault_stats

HERE = Path(__file__).parent
CORPUS = sorted(p for p in (HERE / "corpus").iterdir() if "--" in p.name)
SUPPORT = HERE / "corpus_support"


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 60


def invoke(*args: str, env: dict[str, str | None] | None = None):
    return CliRunner().invoke(cli, list(args), env={"SHSYNC_ACTOR": None, **(env or {})})


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_each_bad_input_is_refused_with_its_code_and_place(path, tmp_path):
    code = path.name.split("--")[0]
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    name = re.escape(str(copy))
    if path.suffix == ".yaml":
        result = invoke("validate", str(copy))
        where = rf"{name}:\d+:\d+: error\[{re.escape(code)}\]"
    elif path.suffix == ".csv":
        result = invoke("onboard", str(copy), "-o", str(tmp_path / "org"))
        where = rf"{name}:\d+: error\[{re.escape(code)}\]"
        assert not (tmp_path / "org").exists()
    else:
        db = tmp_path / "live.db"
        seed = invoke("seed", str(SUPPORT / "live.yaml"), "--backend", f"sqlite:///{db}")
        assert seed.exit_code == 0, seed.output
        before = SqliteBackend(str(db))
        state = before.read()
        before.close()
        result = invoke("apply", str(copy), "--backend", f"sqlite:///{db}",
                        env={"SHSYNC_NOW": "2026-11-26T12:00:00Z"})
        where = rf"{name}: error\[{re.escape(code)}\]"
        after = SqliteBackend(str(db))
        entries = after.history()
        unchanged = after.read() == state and [e.kind for e in entries] == ["seed"]
        after.close()
        assert fault_stats.compared(unchanged, state, len(entries))
    fault_stats.tried("corpus files")
    assert result.exit_code == 1, result.output
    assert re.search(where, result.output), result.output
    assert "Traceback" not in result.output
