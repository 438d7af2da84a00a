"""Where the store is, and which practice: the `--backend` flag, the environment
(SHSYNC_BACKEND, SHSYNC_PRACTICE), the repository's `shsync.toml`, then the default, in that
order (docs/getting-started.md#where-the-store-is-shsynctoml).

The default local store is for a person at a terminal. In CI, or with no terminal on standard
input, a store that no one named would be a new, empty one in the runner's checkout: a job
"applied" there changes nothing anyone keeps, and exits 0. So there it is `error[no-backend]`,
as is an empty SHSYNC_BACKEND (a secret that is not set in CI) everywhere.

Light on purpose: `validate` reads the org path from here and must start fast.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NoReturn
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from shsync.errors import InvalidInput, ShsyncError, UserError
from shsync.model.diagnostics import Diagnostic, Location, Severity

CONFIG_NAME = "shsync.toml"
DEFAULT_URL = "sqlite:///.shsync/practice.db"
BACKEND_ENV = "SHSYNC_BACKEND"
PRACTICE_ENV = "SHSYNC_PRACTICE"
KEYS = ("backend", "practice", "org")
MAX_CONFIG_BYTES = 64 * 1024
# Keys people reach for that would put a secret in git, and where the secret goes instead.
_SECRET_KEYS = {"token": "SHSYNC_TOKEN", "password": "PGPASSWORD (or ~/.pgpass)",
                "secret": "SHSYNC_TOKEN", "notify_secret": "SHSYNC_NOTIFY_SECRET"}
_WAYS = ("name one with --backend URL, the SHSYNC_BACKEND environment variable, or `backend` in "
         f"a {CONFIG_NAME} at the repository's root (`shsync init` writes one)")


@dataclass(frozen=True)
class RepoConfig:
    """A `shsync.toml`: each setting None where the file leaves it out. `org` is resolved
    against the file's folder, so a command run in a subfolder finds the same files."""

    path: Path
    backend: str | None = None
    practice: str | None = None
    org: Path | None = None


@dataclass(frozen=True)
class Store:
    """The store a command opens, and where that was decided (for messages)."""

    url: str
    source: str


def find(start: Path | None = None) -> Path | None:
    """The nearest `shsync.toml` from `start` (the working directory) up to the repository's
    root (the folder holding `.git`). Outside a repository only the working directory's own is
    read: a file in a parent (a runner's home, /tmp, a folder anyone may write to) is never
    read, whatever it names. Anything there by that name counts, so one that is not a file is
    an error, never passed over."""
    here = (start or Path.cwd()).absolute()
    folders = [here, *here.parents]
    root = next((i for i, f in enumerate(folders) if (f / ".git").exists()), None)
    for folder in folders[:1] if root is None else folders[:root + 1]:
        candidate = folder / CONFIG_NAME
        if candidate.is_symlink() or candidate.exists():
            return candidate
    return None


def load(path: Path) -> RepoConfig:
    """Read one `shsync.toml`. Its problems are reported together, each at its line
    (`shsync.toml:3:1: error[secret-in-config]: ...`), as InvalidInput."""
    where = _shown(path)
    try:
        if path.is_symlink() or not stat.S_ISREG(os.stat(path).st_mode):
            _refuse(where, 1, "bad-config", "is not a regular file (a link, a folder, a FIFO "
                    "or a device): shsync.toml is read only as a file of its own")
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        _refuse(where, 1, "bad-config", f"cannot be read ({exc.strerror or type(exc).__name__})")
    if len(raw) > MAX_CONFIG_BYTES:
        _refuse(where, 1, "bad-config", f"larger than {MAX_CONFIG_BYTES // 1024} KiB; a "
                "shsync.toml holds three settings")
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        _refuse(where, 1, "bad-config", "not UTF-8 text")
    except RecursionError:
        _refuse(where, 1, "bad-config", "nested too deeply to be a shsync.toml")
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        said = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        _refuse(where, int(at.group(1)) if at else 1, "bad-config", f"not TOML: {_plain(said)}",
                int(at.group(2)) if at else 1)
    problems: list[Diagnostic] = []

    def problem(key: str, code: str, message: str) -> None:
        line = next((n for n, row in enumerate(text.splitlines(), 1)
                     if re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", row)), 1)
        problems.append(Diagnostic(Severity.ERROR, code, message, Location(where, line, 1)))

    for key in data:
        if key in KEYS:
            continue
        if key.lower() in _SECRET_KEYS:
            problem(key, "secret-in-config", f"`{_plain(key)}` would put a secret in git; set "
                    f"{_SECRET_KEYS[key.lower()]} in the environment instead")
            continue
        guess = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.6)
        hint = f"; did you mean `{guess[0]}`?" if guess else f" (it takes {', '.join(KEYS)})"
        problem(key, "bad-config", f"unknown key `{_plain(key)}`{hint}")
    values: dict[str, str] = {}
    for key in KEYS:
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            problem(key, "bad-config", f"`{key}` must be a non-empty string")
        elif any(ord(c) < 32 or ord(c) == 127 for c in value):
            problem(key, "bad-config", f"`{key}` holds a control character")
        elif key == "org" and _outside(path.parent, value.strip()):
            problem(key, "bad-config", "`org` is a path inside this folder (like \"org\"); "
                    "an absolute path or one that leaves it is not read")
        else:
            values[key] = value.strip()
    if "backend" in values:
        leak = secret_in_url(values["backend"])
        if leak:
            problem("backend", "secret-in-config",
                    f"`backend` holds {leak}, and this file is kept in git: keep the URL here "
                    "without it, and the password in PGPASSWORD (or ~/.pgpass), or set the whole "
                    "URL in SHSYNC_BACKEND instead")
    if problems:
        raise InvalidInput(tuple(problems))
    org = values.get("org")
    return RepoConfig(path, _anchored(values.get("backend"), path.parent), values.get("practice"),
                      (path.parent / org) if org is not None else None)


def _anchored(url: str | None, folder: Path) -> str | None:
    """A relative SQLite path in shsync.toml is relative to the file's folder, not to where a
    command runs: every folder of the repository finds the same store."""
    if url is None or not url.startswith("sqlite:///") or url.startswith("sqlite:////"):
        return url
    path, mark, query = url[len("sqlite:///"):].partition("?")
    if not path or path == ":memory:":
        return url
    return "sqlite:///" + str(folder.absolute() / path) + mark + query


def _outside(folder: Path, relative: str) -> bool:
    if Path(relative).is_absolute():
        return True
    try:
        (folder / relative).resolve().relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):
        return True
    return False


def _refuse(where: str, line: int, code: str, message: str, column: int = 1) -> NoReturn:
    raise InvalidInput((Diagnostic(Severity.ERROR, code, message,
                                   Location(where, line, column)),))


def secret_in_url(url: str) -> str | None:
    """What secret a store URL carries (never the secret itself), or None: whatever the URL
    printer would mask (stores.url.redact: a password in any spelling, or text it cannot tell
    from one, such as libpq's `host=... password=...`)."""
    from shsync.stores.url import redact

    if redact(url) == url:
        return None
    try:
        parts = urlsplit(url)
        if parts.password:
            return "a password"
    except ValueError:
        pass
    query = url.partition("?")[2] if "://" in url else ""
    named = [k for k, _ in parse_qsl(query, keep_blank_values=True)
             if "password" in unquote(k).lower()]
    return f"a `{_plain(named[0])}` parameter" if named else "a password, or text like one"


def nearest(start: Path | None = None) -> RepoConfig | None:
    found = find(start)
    return load(found) if found is not None else None


def in_ci(environ: Mapping[str, str]) -> bool:
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def store(flag: str | None, *, environ: Mapping[str, str] | None = None,
          config: RepoConfig | None = None, at_terminal: bool | None = None) -> Store:
    """The store a command opens: `flag`, else SHSYNC_BACKEND, else `shsync.toml`, else the
    default local store where a person runs shsync at a terminal and not in CI; and the practice
    in it, from the URL itself, SHSYNC_PRACTICE or `shsync.toml`'s `practice` (the URL's own
    `?practice=` counts at the URL's level)."""
    env = os.environ if environ is None else environ
    if flag is not None:
        url, level, source = flag, 0, "--backend"
    elif BACKEND_ENV in env:
        if not env[BACKEND_ENV].strip():
            raise UserError(f"{BACKEND_ENV} is set but empty (a CI secret that "
                            f"is not set?), and an empty store name is never the default: "
                            f"{_WAYS}", "no-backend")
        url, level, source = env[BACKEND_ENV].strip(), 1, BACKEND_ENV
    elif config is not None and config.backend is not None:
        url, level, source = config.backend, 2, _shown(config.path)
        if in_ci(env) and _missing_local(url):
            raise UserError(f"{source} names a local SQLite store ({_plain(url)}) that does not "
                            f"exist here, and CI is set: a CI checkout holds no store, and one "
                            f"made here would be a new, empty one, thrown away with the runner; "
                            f"set SHSYNC_BACKEND (from a secret) to the practice's shared store, "
                            f"or pass --backend URL", "no-backend")
    else:
        ci = in_ci(env)
        terminal = interactive() if at_terminal is None else at_terminal
        if ci or not terminal:
            why = "CI is set" if ci else "standard input is not a terminal"
            raise UserError(f"no store is named, and {why}: the default local "
                            f"store ({DEFAULT_URL}) would be a new, empty one here; {_WAYS}",
                            "no-backend")
        url, level, source = DEFAULT_URL, 3, "the default"
    practice = _practice(env, config)
    if practice is not None:
        url = _with_practice(url, level, source, practice)
    return Store(url, source)


def _missing_local(url: str) -> bool:
    """A SQLite store URL whose file is not there (one shsync cannot read is the store's to
    refuse, with its own message)."""
    from shsync.stores.url import parse_sqlite

    if not url.startswith("sqlite:///"):
        return False
    try:
        path = parse_sqlite(url).path
    except ShsyncError:
        return False
    return path != ":memory:" and not Path(path).exists()


def _practice(env: Mapping[str, str],
              config: RepoConfig | None) -> tuple[str, int, str] | None:
    if PRACTICE_ENV in env:
        if not env[PRACTICE_ENV].strip():
            raise UserError(f"{PRACTICE_ENV} is set but empty: name a practice, or unset it",
                            "invalid-setting")
        named = env[PRACTICE_ENV].strip()
        if any(ord(c) < 32 or ord(c) == 127 or 0x80 <= ord(c) < 0xA0 for c in named):
            raise UserError(f"{PRACTICE_ENV} holds a control character: name a practice",
                            "invalid-setting")
        return named, 1, PRACTICE_ENV
    if config is not None and config.practice is not None:
        return config.practice, 2, _shown(config.path)
    return None


def _with_practice(url: str, url_level: int, source: str,
                   named: tuple[str, int, str]) -> str:
    """The URL naming the practice setting, unless the URL's own practice outranks it (levels:
    0 the flag, 1 the environment, 2 shsync.toml, 3 the default)."""
    from shsync.stores.url import with_practice

    practice, level, where = named
    own = _own_practice(url)
    if own is not None:
        if own == practice:
            return url
        if url_level < level:
            return url  # a flag's or the environment's URL outranks the setting
        if url_level == level:
            raise UserError(f"{where} names two practices: {_plain(own)!r} in the backend URL and "
                            f"{_plain(practice)!r}; keep one", "bad-config")
    if url.startswith(("https://", "http://")):
        base = url.rstrip("/")
        if "/practices/" in base:
            raise UserError(f"the server URL from {source} names its practice in its path; "
                            f"{where} names {_plain(practice)!r}: keep one", "bad-config")
        return f"{base}/practices/{practice}"
    return with_practice(url, practice)


def _own_practice(url: str) -> str | None:
    if url.startswith(("https://", "http://")):
        path = urlsplit(url).path.rstrip("/")
        head, mark, name = path.rpartition("/practices/")
        return unquote(name) if mark and name and "/" not in name else None
    query = url.partition("?")[2]
    found = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "practice"]
    return found[-1] if found else None


def org_path(given: Path | None, config: RepoConfig | None) -> Path | None:
    """The org files a command reads: the one given, else `shsync.toml`'s `org`."""
    if given is not None:
        return given
    return config.org if config is not None else None


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _plain(text: str) -> str:
    from shsync.render.escape import visible

    return visible(text)[:200]


@dataclass(frozen=True)
class Written:
    """What `shsync init` wrote: the file, its settings, and the .gitignore line it added."""

    path: Path
    backend: str
    practice: str | None
    org: str
    ignored: str | None


def init(folder: Path, *, backend: str | None, practice: str | None, org: str,
         force: bool = False, wrote: Callable[[str], None] | None = None) -> Written:
    """Write `folder/shsync.toml` (refused when one is there, unless `force`), checked as it
    will be read; add a local SQLite store inside `folder` to its .gitignore. Neither may be a
    link or anything but a file (a checkout could point them at a file elsewhere). `wrote` is
    told of each file as it is written, so a failure after one says it was."""
    from shsync.jobs import outfile
    from shsync.stores.url import parse_sqlite

    url = DEFAULT_URL if backend is None else backend.strip()
    problems = []
    for name, value in (("--backend", url), ("--practice", practice), ("--org", org)):
        if value is not None and (not value.strip()
                                  or any(ord(c) < 32 or ord(c) == 127 for c in value)):
            problems.append(f"{name} is empty or holds a control character")
    for file in (folder / CONFIG_NAME, folder / ".gitignore"):
        if file.is_symlink() or (file.exists() and not file.is_file()):
            raise UserError(f"{file.name} here is a link or not a file: shsync init writes only "
                            "a file of its own", "output-failed")
    if org.strip() and _outside(folder, org.strip()):
        problems.append("--org is a path inside this folder (like org)")
    leak = secret_in_url(url)
    if leak:
        raise UserError(f"--backend holds {leak}: shsync.toml is kept in git; give the URL "
                        "without it, and put the password in PGPASSWORD (or ~/.pgpass)",
                        "secret-in-config")
    if problems:
        raise UserError("; ".join(problems), "usage")
    lines = ["# shsync's settings for this repository: which store and practice it belongs to,",
             "# and where its org files are. Kept in git, so never a secret here: a database",
             "# password goes in PGPASSWORD (or ~/.pgpass), a server's token in SHSYNC_TOKEN.",
             "# A flag or SHSYNC_BACKEND / SHSYNC_PRACTICE overrides these.",
             f"backend = {_toml_string(url)}"]
    if practice is not None:
        lines.append(f"practice = {_toml_string(practice.strip())}")
    lines.append(f"org = {_toml_string(org.strip())}")
    target = folder / CONFIG_NAME
    text = "\n".join(lines) + "\n"
    ignored = None
    if url.startswith("sqlite:///"):
        store = Path(parse_sqlite(url).path)
        inside = store if store.is_absolute() else (folder / store)
        try:
            relative = inside.resolve().relative_to(folder.resolve())
        except ValueError:
            relative = None  # a store outside this folder: not this repository's to ignore
        if relative is not None:
            ignored = f"/{relative.parts[0]}/" if len(relative.parts) > 1 else f"/{relative}*"
    outfile.write_text(target, text, overwrite=force)
    if wrote is not None:
        wrote(f"{CONFIG_NAME} written")
    load(target)  # what was written reads back as written
    if ignored is not None and not _ignores(folder / ".gitignore", ignored):
        with open(folder / ".gitignore", "a", encoding="utf-8") as f:
            f.write(("" if _ends_with_newline(folder / ".gitignore") else "\n")
                    + f"# shsync's local store (audit log, emails, token hashes)\n{ignored}\n")
        if wrote is not None:
            wrote(f"{ignored} added to .gitignore")
    else:
        ignored = None
    return Written(target, url, practice.strip() if practice else None, org.strip(), ignored)


def _toml_string(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)  # a TOML basic string: the same escapes


def _ignores(gitignore: Path, line: str) -> bool:
    try:
        rows = gitignore.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return False
    bare = line.strip("/*")
    return any(r.strip().strip("/*") == bare for r in rows)


def _ends_with_newline(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return True
    return not data or data.endswith(b"\n")
