"""shsync.jobs.outfile: every output is written whole or not at all, and never replaced by surprise."""

from __future__ import annotations

import os

import pytest

from shsync.jobs import outfile


def test_a_file_is_written_and_no_temporary_file_stays(tmp_path):
    outfile.write_text(tmp_path / "out.yaml", "a: 1\n")
    assert (tmp_path / "out.yaml").read_text() == "a: 1\n"
    assert os.listdir(tmp_path) == ["out.yaml"]


def test_refusing_to_overwrite_holds_even_if_the_file_appears_meanwhile(tmp_path, monkeypatch):
    target = tmp_path / "out.yaml"
    real_mkstemp = outfile.tempfile.mkstemp

    def mkstemp(**kwargs):  # someone writes the target between the check and the rename
        target.write_text("theirs")
        return real_mkstemp(**kwargs)

    monkeypatch.setattr(outfile.tempfile, "mkstemp", mkstemp)
    with pytest.raises(outfile.OutputExists):
        outfile.write_text(target, "ours", overwrite=False)
    assert target.read_text() == "theirs"
    assert os.listdir(tmp_path) == ["out.yaml"]


def test_writing_through_a_symlink_keeps_the_link(tmp_path):
    (tmp_path / "real.yaml").write_text("old")
    (tmp_path / "link.yaml").symlink_to("real.yaml")
    outfile.write_text(tmp_path / "link.yaml", "new")
    assert (tmp_path / "link.yaml").is_symlink()
    assert (tmp_path / "real.yaml").read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["link.yaml", "real.yaml"]


def test_a_tree_goes_into_an_empty_or_missing_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    for name in ("empty", "new"):
        outfile.write_tree(tmp_path / name, {"org.yaml": "a\n", "members/x.yaml": "b\n"})
        assert (tmp_path / name / "members" / "x.yaml").read_text() == "b\n"
    assert sorted(os.listdir(tmp_path)) == ["empty", "new"]


def test_a_failed_swap_puts_the_old_directory_back(tmp_path, monkeypatch):
    old = tmp_path / "org"
    old.mkdir()
    (old / "org.yaml").write_text("old\n")
    real_replace = os.replace
    calls = {"n": 0}

    def replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:  # the new directory cannot be moved in
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(outfile.os, "replace", replace)
    with pytest.raises(outfile.OutputFailed) as info:
        outfile.write_tree(old, {"org.yaml": "new\n"}, replace=True)
    assert str(info.value) == f"cannot write {old}: no space left on device"
    assert (old / "org.yaml").read_text() == "old\n"
    assert os.listdir(tmp_path) == ["org"]
