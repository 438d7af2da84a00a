"""Where the store is (shsync/jobs/config.py): the flag, then the environment, then the
repository's shsync.toml, then the default local store, which only a person at a terminal gets;
and a shsync.toml never holds a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from shsync.errors import InvalidInput, UserError
from shsync.jobs import config

PG = "postgresql://shsync@db.internal/practices"


def repo(tmp_path: Path, toml: str | None = None) -> Path:
    (tmp_path / ".git").mkdir(parents=True, exist_ok=True)
    if toml is not None:
        (tmp_path / "shsync.toml").write_text(toml)
    return tmp_path


def test_the_flag_wins_then_the_environment_then_the_file(tmp_path):
    found = config.load(repo(tmp_path, f'backend = "{PG}"\n') / "shsync.toml")
    env = {"SHSYNC_BACKEND": "sqlite:///env.db"}
    assert config.store("sqlite:///flag.db", environ=env, config=found) == config.Store(
        "sqlite:///flag.db", "--backend")
    assert config.store(None, environ=env, config=found).url == "sqlite:///env.db"
    assert config.store(None, environ={}, config=found) == config.Store(PG, str(found.path))


def test_the_default_store_is_only_for_a_person_at_a_terminal(tmp_path):
    assert config.store(None, environ={}, at_terminal=True) == config.Store(
        config.DEFAULT_URL, "the default")
    for environ, terminal, why in (({}, False, "standard input is not a terminal"),
                                   ({"CI": "true"}, True, "CI is set")):
        with pytest.raises(UserError) as refused:
            config.store(None, environ=environ, at_terminal=terminal)
        assert refused.value.code == "no-backend"
        said = str(refused.value)
        assert why in said
        for way in ("--backend URL", "SHSYNC_BACKEND", "shsync.toml", "shsync init"):
            assert way in said
    # CI=false is a person's shell saying it is not CI.
    assert config.store(None, environ={"CI": "false"}, at_terminal=True).source == "the default"


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_shsync_backend_is_an_error_even_with_a_file_and_a_terminal(tmp_path, value):
    found = config.load(repo(tmp_path, f'backend = "{PG}"\n') / "shsync.toml")
    with pytest.raises(UserError) as refused:
        config.store(None, environ={"SHSYNC_BACKEND": value}, config=found, at_terminal=True)
    assert refused.value.code == "no-backend" and "set but empty" in str(refused.value)


def test_the_practice_comes_from_the_environment_or_the_file(tmp_path):
    found = config.load(repo(tmp_path, f'backend = "{PG}"\npractice = "north"\n')
                        / "shsync.toml")
    assert config.store(None, environ={}, config=found).url == PG + "?practice=north"
    assert config.store(None, environ={"SHSYNC_PRACTICE": "south"}, config=found).url == (
        PG + "?practice=south")
    # A URL the flag or the environment gives keeps the practice it names.
    assert config.store(PG + "?practice=east", environ={}, config=found).url == (
        PG + "?practice=east")
    # A server's practice is in its path.
    served = config.load(repo(tmp_path, 'backend = "https://shsync.example"\npractice = "north"\n')
                         / "shsync.toml")
    assert config.store(None, environ={}, config=served).url == (
        "https://shsync.example/practices/north")
    with pytest.raises(UserError, match="set but empty"):
        config.store(PG, environ={"SHSYNC_PRACTICE": ""})


def test_one_file_naming_two_practices_is_refused(tmp_path):
    found = config.load(repo(tmp_path, f'backend = "{PG}?practice=a"\npractice = "b"\n')
                        / "shsync.toml")
    with pytest.raises(UserError, match="names two practices"):
        config.store(None, environ={}, config=found)


def test_the_file_is_found_upward_and_never_above_the_repository(tmp_path):
    root = repo(tmp_path / "checkout", 'org = "org"\n')
    (root / "org" / "members").mkdir(parents=True)
    assert config.find(root / "org" / "members") == root / "shsync.toml"
    found = config.nearest(root / "org")
    assert found is not None and found.org == root / "org"
    # A shsync.toml above the checkout (a runner's home, /tmp) is not this repository's.
    (tmp_path / "shsync.toml").write_text(f'backend = "{PG}"\n')
    (root / "shsync.toml").unlink()
    assert config.find(root / "org") is None


def test_a_relative_sqlite_store_is_relative_to_the_file(tmp_path):
    root = repo(tmp_path, 'backend = "sqlite:///.shsync/practice.db?practice=north"\n')
    found = config.load(root / "shsync.toml")
    assert found.backend == f"sqlite:///{root.absolute()}/.shsync/practice.db?practice=north"
    absolute = config.load(repo(tmp_path, 'backend = "sqlite:////srv/p.db"\n') / "shsync.toml")
    assert absolute.backend == "sqlite:////srv/p.db"


@pytest.mark.parametrize("toml, code, said, line", [
    ('backend = "postgresql://shsync:hunter2@db/p"\n', "secret-in-config",
     "`backend` holds a password", 1),
    ('org = "org"\nbackend = "postgresql://db/p?password=hunter2"\n', "secret-in-config",
     "`backend` holds a `password` parameter", 2),
    ('org = "org"\n\ntoken = "hunter2"\n', "secret-in-config", "set SHSYNC_TOKEN", 3),
    ('backnd = "sqlite:///p.db"\n', "bad-config", "unknown key `backnd`; did you mean `backend`?",
     1),
    ('backend = 3\n', "bad-config", "`backend` must be a non-empty string", 1),
    ('backend = "sqlite:///p.db\n', "bad-config", "not TOML", 1),
])
def test_a_file_shsync_cannot_use_is_refused_at_its_line_and_no_secret_is_shown(
        tmp_path, toml, code, said, line):
    path = repo(tmp_path, toml) / "shsync.toml"
    with pytest.raises(InvalidInput) as refused:
        config.load(path)
    (diagnostic,) = refused.value.diagnostics
    assert (diagnostic.code, diagnostic.location.line) == (code, line)
    assert said in diagnostic.message
    assert "hunter2" not in diagnostic.render()


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    path = repo(tmp_path, 'password = "x"\nbackend = ""\nfoo = 1\n') / "shsync.toml"
    with pytest.raises(InvalidInput) as refused:
        config.load(path)
    assert [(d.code, d.location.line) for d in refused.value.diagnostics] == [
        ("secret-in-config", 1), ("bad-config", 3), ("bad-config", 2)]


def test_init_writes_a_file_that_reads_back_and_keeps_the_store_out_of_git(tmp_path):
    root = repo(tmp_path)
    (root / ".gitignore").write_text("*.pyc")  # no newline at the end: one is added first
    written = config.init(root, backend=None, practice="north", org="org")
    assert written.ignored == "/.shsync/"
    assert (root / ".gitignore").read_text().splitlines()[0] == "*.pyc"
    assert "/.shsync/" in (root / ".gitignore").read_text().splitlines()
    found = config.load(root / "shsync.toml")
    assert (found.practice, found.org) == ("north", root / "org")
    # Twice: refused without --force; with it, the .gitignore line is not added again.
    with pytest.raises(UserError) as exists:
        config.init(root, backend=None, practice=None, org="org")
    assert exists.value.code == "output-exists"
    again = config.init(root, backend=PG, practice=None, org="org", force=True)
    assert again.ignored is None and (root / ".gitignore").read_text().count("/.shsync/") == 1
    with pytest.raises(UserError) as leaked:
        config.init(root, backend="postgresql://u:hunter2@db/p", practice=None, org="org",
                    force=True)
    assert leaked.value.code == "secret-in-config" and "hunter2" not in str(leaked.value)
    assert config.load(root / "shsync.toml").backend == PG  # the refused one wrote nothing


def test_outside_a_repository_only_the_working_directorys_file_is_read(tmp_path):
    """No .git above: a shsync.toml in a parent (/tmp, a runner's home, anyone's to write) is
    never read, whatever server it names."""
    (tmp_path / "shsync.toml").write_text('backend = "http://127.0.0.1:9/practices/x"\n')
    (tmp_path / "project").mkdir()
    assert config.find(tmp_path / "project") is None
    assert config.find(tmp_path) == tmp_path / "shsync.toml"


@pytest.mark.parametrize("make", ["dir", "fifo", "link", "broken-link"])
def test_a_shsync_toml_that_is_not_a_file_is_refused_never_passed_over(tmp_path, make):
    import os

    path = repo(tmp_path) / "shsync.toml"
    if make == "dir":
        path.mkdir()
    elif make == "fifo":
        os.mkfifo(path)
    elif make == "link":
        (tmp_path / "real.toml").write_text('org = "org"\n')
        path.symlink_to(tmp_path / "real.toml")
    else:
        path.symlink_to(tmp_path / "missing.toml")
    assert config.find(tmp_path) == path
    with pytest.raises(InvalidInput) as refused:
        config.load(path)
    assert refused.value.diagnostics[0].code == "bad-config"


@pytest.mark.parametrize("toml, said", [
    ("a=" + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ('org = "/etc"\n', "`org` is a path inside this folder"),
    ('org = "../elsewhere"\n', "`org` is a path inside this folder"),
])
def test_a_file_that_is_hostile_is_refused_with_a_code(tmp_path, toml, said):
    with pytest.raises(InvalidInput) as refused:
        config.load(repo(tmp_path, toml) / "shsync.toml")
    assert said in refused.value.diagnostics[0].message


@pytest.mark.parametrize("url", ["host=h password=s3cr3t", "postgresql://u:s3cr3t@[::1/db",
                                 "postgresql:/u:s3cr3t@h/db", "postgresql:///db#password=s3cr3t",
                                 "postgresql://h/db?x=1;password=s3cr3t",
                                 "postgresql://h/db?pass%77ord=s3cr3t"])
def test_every_spelling_of_a_password_is_a_secret_in_config(tmp_path, url):
    assert config.secret_in_url(url) is not None
    with pytest.raises(InvalidInput) as refused:
        config.load(repo(tmp_path, f"backend = {url!r}\n".replace("'", '"')) / "shsync.toml")
    assert refused.value.diagnostics[0].code == "secret-in-config"
    assert "s3cr3t" not in refused.value.diagnostics[0].render()
    with pytest.raises(UserError) as init:
        config.init(tmp_path, backend=url, practice=None, org="org", force=True)
    assert init.value.code == "secret-in-config" and "s3cr3t" not in str(init.value)


def test_shsync_practice_with_a_control_character_is_refused():
    with pytest.raises(UserError) as refused:
        config.store(PG, environ={"SHSYNC_PRACTICE": "a\x1b]0;x\x07b"})
    assert refused.value.code == "invalid-setting"


def test_init_writes_no_file_through_a_link(tmp_path):
    root = repo(tmp_path / "r")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (root / "shsync.toml").symlink_to(victim)
    with pytest.raises(UserError, match="a link or not a file"):
        config.init(root, backend=None, practice=None, org="org", force=True)
    (root / "shsync.toml").unlink()
    (root / ".gitignore").symlink_to(victim)
    with pytest.raises(UserError, match="a link or not a file"):
        config.init(root, backend=None, practice=None, org="org")
    assert victim.read_text() == "keep me\n" and not (root / "shsync.toml").exists()
