"""Backend URLs: parsing them, and printing them without their secrets.

A URL may carry a password in its userinfo (`postgresql://user:secret@host/db`, where people
also write `/`, `#` or `?` unencoded) or in its query string (`?password=...`,
`?sslpassword=...`, their names percent-encoded or not). `redact` works on the text, not on a
parser's idea of it, so a URL a parser misreads or refuses still prints without its secret;
`secrets` lists every form of the secret (as written, percent-decoded) so that a driver's
message can be scrubbed of each.
"""

from __future__ import annotations

import ipaddress

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode

from shsync.errors import BackendError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:)(//)?")
# Every query parameter, whole, as libpq splits them: on `&` only (`password=a;b?c` is one
# password), after the first `?`. libpq percent-decodes a name as well as a value, so
# `pass%77ord=pw` is a password, and `password%3Dpw` a name it refuses and echoes back.
_PARAM = re.compile(r"(^|&)([^&]*)")
MASK = "***"


def _decoded(text: str) -> str:
    """`text` percent-decoded until it no longer changes (a few rounds at most)."""
    for _ in range(4):
        once = unquote(text)
        if once == text:
            break
        text = once
    return text


def _secret(param: str) -> tuple[str, str] | None:
    """(what may be shown, the secret as written) for a query parameter that mentions a
    password anywhere, however encoded (`password=`, `pass%77ord=`, `x=1;password=` written
    for two): its value, or all of it when it has no `=` of its own. None for any other."""
    if "password" not in _decoded(param).lower():
        return None
    name, eq, value = param.partition("=")
    return (name + eq, value) if eq else ("", param)


def _masked(match: re.Match[str]) -> str:
    found = _secret(match.group(2))
    return match.group(0) if found is None else match.group(1) + found[0] + MASK


def _parts(rest: str) -> tuple[str, str, str]:
    """(host and path, then `#`... or `?`..., the text after it that may hold parameters) of
    what follows `scheme://`: the query, or a fragment someone wrote a password into."""
    before, mark, after = rest.partition("?")
    if not mark:
        before, mark, after = rest.partition("#")
    return before, mark, after


def _userinfo(rest: str) -> tuple[str, str | None, str] | None:
    """(user, password or None, after '@') when `rest` (what follows `scheme://`) has userinfo.

    The userinfo ends at the last `@`: a password may hold `/`, `#`, `?` or `@` unencoded."""
    at = rest.rfind("@")
    if at < 0:
        return None
    info, after = rest[:at], rest[at + 1:]
    user, colon, password = info.partition(":")
    if "/" in user or "?" in user or "#" in user:
        return None  # the '@' is in a path or a query, not in userinfo
    return user, (password if colon else None), after


def is_loopback(host: str) -> bool:
    """Is this host this machine, where plain http:// needs no TLS to stay private?"""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact(url: str) -> str:
    """The URL with every password replaced by `***`, safe for every message.

    Text that does not begin `scheme://` has no userinfo or query to find a password in (a
    leading space, libpq's `host=h password=pw` form, `postgresql:/u:pw@h`): all of it after
    its scheme, if it has one, is masked."""
    match = _SCHEME.match(url)
    if not (match and match.group(2)):
        return (match.group(1) if match else "") + MASK
    head, rest = match.group(0), url[match.end():]
    found = _userinfo(rest)
    if found is not None and found[1] is not None:
        rest = f"{found[0]}:{MASK}@{found[2]}"
    before, mark, query = _parts(rest)
    return head + before + mark + _PARAM.sub(_masked, query)


def secrets(url: str) -> list[str]:
    """Every form of every secret the URL holds, longest first (as written, and decoded)."""
    match = _SCHEME.match(url)
    rest = url[match.end():] if match and match.group(2) else url
    found: list[str] = []
    info = _userinfo(rest) if match and match.group(2) else None
    if info is not None and info[1]:
        found.append(info[1])
    for param in _PARAM.finditer(_parts(rest)[2]):
        secret = _secret(param.group(2))
        if secret is not None:
            shown, written = secret
            found.append(written)
            if not shown:  # `password%3Dpw`: the value is what follows the decoded `=`
                found.append(_decoded(written).partition("=")[2])
    forms = {form for secret in found for form in (secret, unquote(secret), _decoded(secret))
             if form}
    return sorted(forms, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """`text` (a driver's message, say) with every form of the URL's secrets masked."""
    for secret in secrets(url):
        text = text.replace(secret, MASK)
    return text


def bad_url(url: str, why: str) -> BackendError:
    return BackendError(f"the backend URL {redact(url)} {why}", "bad-backend-url")


def check_password(url: str) -> None:
    """Refuse a password that a URL parser would cut short: libpq ends userinfo at the first
    `@` or `/`, Python at `/`, `?` or `#`, and either would then print the rest as a host."""
    match = _SCHEME.match(url)
    info = _userinfo(url[match.end():]) if match and match.group(2) else None
    if info is not None and info[1] is not None and any(c in info[1] for c in "/?#@"):
        raise bad_url(url, "has a password holding '/', '?', '#' or '@' unencoded: "
                           "percent-encode it (%2F, %3F, %23, %40) or use PGPASSWORD")


@dataclass(frozen=True)
class SqliteUrl:
    path: str
    practice: str


def parse_sqlite(url: str, default_practice: str = "default") -> SqliteUrl:
    """`sqlite:///PATH[?practice=NAME]`: a relative PATH after three slashes, an absolute one
    after four. Without a path there is no store to keep the practice in, so it is refused."""
    rest = url[len("sqlite:///"):]
    path, _, query = rest.partition("?")
    if not path or path.endswith("/"):
        raise bad_url(url, "names no file: use sqlite:///PATH (relative) or sqlite:////PATH "
                           "(absolute), PATH a file, not a directory")
    practice = default_practice
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key != "practice":
            raise bad_url(url, f"has a parameter {key!r} SQLite does not take (only practice)")
        practice = value
    if not practice or len(practice) > 200:
        raise bad_url(url, "needs a practice of 1-200 characters")
    return SqliteUrl(path, practice)


def practice_in(url: str, default: str = "default") -> str:
    """The practice a SQL store's URL names (`?practice=`), or the default one."""
    query = url.partition("?")[2]
    named = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "practice"]
    return named[-1] if named else default


def with_practice(url: str, practice: str) -> str:
    """The same store URL, naming another practice (`?practice=NAME` set or replaced)."""
    if not practice or len(practice) > 200:
        raise BackendError("a practice name is 1-200 characters", "bad-practice")
    base, _, query = url.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "practice"]
    return base + "?" + urlencode([*kept, ("practice", practice)])
