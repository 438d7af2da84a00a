"""The cyclic GC is paused around loading and planning, and always comes back on."""

import gc

import pytest

from shsync.gcpause import paused
from shsync.format import load
from tests.helpers import base_org, write_yaml


def test_the_collector_is_off_inside_and_on_after():
    assert gc.isenabled()
    with paused():
        assert not gc.isenabled()
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block leaves it to the outer one
    assert gc.isenabled()


def test_the_collector_comes_back_after_an_exception():
    with pytest.raises(ValueError), paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_loading_an_org_runs_with_the_collector_paused(tmp_path, monkeypatch):
    seen = []
    check = load.structure.check

    def spy(data, kind="org"):
        seen.append(gc.isenabled())
        return check(data, kind)

    monkeypatch.setattr(load.structure, "check", spy)
    assert load.load_org(write_yaml(tmp_path / "org.yaml", base_org())).ok
    assert seen == [False] and gc.isenabled()
