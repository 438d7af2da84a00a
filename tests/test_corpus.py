"""Hostile and broken input: every corpus file gets its own code, a place, exit 1, no change."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from shsync.stores.sqlite import SqliteBackend
from tests import fault_stats
from tests.conftest import run_cli

HERE = Path(__file__).parent
CORPUS = sorted(p for p in (HERE / "corpus").iterdir() if "--" in p.name)
SUPPORT = HERE / "corpus_support"


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 60


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_each_bad_input_is_refused_with_its_code_and_place(path, tmp_path):
    code = path.name.split("--")[0]
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    name = re.escape(str(copy))
    if path.suffix == ".yaml":
        result = run_cli("validate", copy)
        where = rf"{name}:\d+:\d+: error\[{re.escape(code)}\]"
    elif path.suffix == ".csv":
        result = run_cli("onboard", copy, "-o", tmp_path / "org")
        where = rf"{name}:\d+: error\[{re.escape(code)}\]"
        assert not (tmp_path / "org").exists()
    else:
        db = tmp_path / "live.db"
        seed = run_cli("seed", SUPPORT / "live.yaml", "--backend", f"sqlite:///{db}")
        assert seed.exit_code == 0, seed.output
        before = SqliteBackend(str(db))
        state = before.read()
        before.close()
        result = run_cli("apply", copy, "--backend", f"sqlite:///{db}")
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
