"""The fast path of the YAML loader: yaml_rs, for texts where it reads exactly as our loader does.

`shsync.format.yamlload` is the authority: its event loop over libyaml enforces every guarantee
an org file needs, and it is what reports problems. At the size of a large practice that loop is
most of a plan (libyaml's event and mark objects, millions of them), while yaml_rs (a Rust YAML
1.2 parser) builds the same values several times faster. The two do not agree everywhere:
yaml_rs keeps merge keys as plain keys, ignores local tags, ends some block scalars differently,
reads ``0x1F``, ``1_000``, ``1._`` and ``.nAn`` as numbers, joins escaped surrogate pairs,
accepts control characters, integers of more than 4,300 digits written with leading zeros and
some flow collections libyaml refuses, and has no nesting limit of its own in block context (a
deep enough document overflows its stack and kills the process).

So the fast path is taken only for a text that `eligible` finds free of everything where the two
could differ or yaml_rs could fail badly, and whose values `_Reader` then finds plain (string
keys, no deeper than the loader allows). Anything else, any error included, returns None and the
caller runs the authoritative loader, which gives the same data or the diagnostics.
tests/format/test_fastload.py holds the two to the same data, on the loader's corpus and on
fuzzed texts. Without yaml_rs installed, every text takes the authoritative loader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from shsync.model.vocabulary import MAX_DEPTH  # the loader's limit: a deeper value declines

# Each pattern is a reason to decline; a false alarm only costs speed. They are searched one by
# one: each starts with a literal or a character set, which re finds quickly; one alternation of
# them all took four times as long on a 21 MB file.
_ODD = (r"!&*%\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff"
        r"\ud800-\udfff")
# tags, anchors and aliases, directives; tabs, control characters, YAML 1.1's line breaks (NEL,
# LS, PS), byte-order marks and what is not a character
_ODD_CHARACTER = re.compile(f"[{_ODD}]")
# the same, for a text all in ASCII: bytes.translate deletes them four times faster than re
_ODD_ASCII = bytes([*range(0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0x7f]) + b"!&*%\t"
_DECLINE = tuple(re.compile(p) for p in (
    r"<<",  # merge keys
    r"0[xXoObB](?<![0-9A-Za-z]..)",  # 0x1F, 0o17, 0b101
    r"\.[iInN][nNaA][fFnN]",  # .Inf, .NAN, .nAn...: yaml_rs reads any case as a number
    r"\\[uU]",  # escapes of code points (yaml_rs joins escaped surrogate pairs)
    r"\n---(?=[ \r\n]|\Z)", r"\n\.\.\.(?=[ \r\n]|\Z)", r"\A\.\.\.",  # a second document, an end
    r"\n {40}",  # deep indentation: with the next two, this bounds the nesting
    r"-[ ]+-(?=[ \r\n]|\Z)",  # sequences nested on one line (- - - x)
))
# Looked for only in a text that has their first character at all (found with memchr).
_RARE = (
    ("?", re.compile(r"\?(?=[ \r\n]|\Z)")),  # complex keys
    # flow collections other than an empty [] or {}: in them the two read keys, `?` and `:`
    # differently, and an uncut flow list would be read in one piece
    ("[", re.compile(r"\[(?!\])")), ("]", re.compile(r"(?<!\[)\]")),
    ("{", re.compile(r"\{(?!\})")), ("}", re.compile(r"(?<!\{)\}")),
    # a line ended by CR alone: a line break to libyaml, not always to yaml_rs
    ("\r", re.compile(r"\r(?!\n)")),
    ("|", re.compile(r"\|[-+0-9]{0,2}[ ]*(?:#[^\n]*)?(?:\r?\n|\Z)")),  # block scalars
    (">", re.compile(r">[-+0-9]{0,2}[ ]*(?:#[^\n]*)?(?:\r?\n|\Z)")),
)
# yaml_rs reads a scalar of digits, signs, dots and e with underscores in it as a number with
# the underscores left out (1_000, _1, 1._): such a scalar is looked for around each underscore.
_NUMBERISH = frozenset("0123456789._+-eE")
# The loader refuses an integer of more than 4,300 digits (Python's limit). yaml_rs refuses one
# of more than 4,300 significant digits but drops leading zeros first: any run of more than
# 4,300 digits declines, found as a run of zeros once every digit is turned into a zero.
_TOO_LARGE = 10 ** 4300
_ALL_DIGITS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_TOO_MANY_DIGITS = b"0" * 4301


def eligible(text: str) -> bool:
    """Whether `text` is in the subset where yaml_rs and the loader read the same values."""
    if text.isascii():
        raw = text.encode("ascii")
        if len(raw.translate(None, _ODD_ASCII)) != len(raw):
            return False
    elif _ODD_CHARACTER.search(text):
        return False
    else:
        raw = text.encode("utf-8", "surrogatepass")  # a multi-byte character has no ASCII digit
    if _TOO_MANY_DIGITS in raw.translate(_ALL_DIGITS_ZERO):
        return False
    return not (any(pattern.search(text) for pattern in _DECLINE)
                or any(first in text and pattern.search(text) for first, pattern in _RARE)
                or _number_with_underscores(text))


def _number_with_underscores(text: str) -> bool:
    """Whether an underscore is in a run of digits, signs, dots and e that nothing but
    separators (anything but a letter or digit) bounds: a scalar yaml_rs may read as a number."""
    end = len(text)
    at = text.find("_")
    while at >= 0:
        left = right = at
        while left > 0 and text[left - 1] in _NUMBERISH:
            left -= 1
        while right + 1 < end and text[right + 1] in _NUMBERISH:
            right += 1
        if ((left == 0 or not text[left - 1].isalnum())
                and (right + 1 == end or not text[right + 1].isalnum())):
            return True
        at = text.find("_", right + 1)
    return False


# A line at column 0 that is not blank, a comment or a sequence entry opens a top-level key.
_SECTION = re.compile(r"\n(?=[^\s#\-\[{])")
_PREAMBLE = re.compile(r"(?:[ ]*(?:#[^\n]*)?\r?\n)*")
_ENTRY = "\n- "  # a sequence entry at column 0: where a long top-level list is cut
CHUNK = 1 << 20  # characters of text given to yaml_rs at a time
# A piece that cannot be cut this small (a long list indented under its key, one huge entry)
# goes to the loader: yaml_rs builds its own tree of the piece first and a string object for
# every repeat of a text, and an uncut piece of millions of short entries peaked at ten times
# the loader's memory. A piece of the L practice is about 44,000 lines.
MAX_PIECE = 4 << 20
MAX_PIECE_LINES = 200_000


class _Decline(Exception):
    """Something the loader must read: yaml_rs refused it, or it is outside the subset."""


def load(text: str, chunk: int = CHUNK) -> dict[str, Any] | None:
    """The text's mapping, read by yaml_rs, or None when the authoritative loader must read it.

    The text is given to yaml_rs a piece at a time: each top-level key on its own, and a long
    list under one (the clients of a large practice) cut before entries at column 0, about
    `chunk` characters each. yaml_rs makes a new string object for every key and value, so a
    whole large file read at once peaked at twice the memory of the loader's values; read in
    pieces and shared as it goes, the peak is the values plus one piece. A cut can only be
    wrong where the text is not what this expects, and then a piece fails to parse or is not
    the shape expected, and the whole text goes to the loader.
    """
    if not eligible(text):
        return None
    try:
        import yaml_rs  # 4-8 ms: imported only for a text large enough to gain from it
    except ImportError:  # a platform without a wheel: the loader alone
        return None
    try:
        return _Reader(yaml_rs.loads, chunk).document(text)
    except _Decline:
        return None
    except Exception:  # noqa: BLE001 - any refusal by yaml_rs: let the loader explain it
        return None


class _Reader:
    def __init__(self, parse: Any, chunk: int):
        self.parse: Callable[[str], Any] = lambda piece: parse(piece, parse_datetime=False)
        self.chunk = chunk
        self.strings: dict[str, str] = {}

    def document(self, text: str) -> dict[str, Any]:
        starts = [0] if text[:1] and text[0] not in " \t\r\n#-[{" else []
        starts += [m.start() + 1 for m in _SECTION.finditer(text)]
        if not starts or _PREAMBLE.fullmatch(text, 0, starts[0]) is None:
            raise _Decline
        root: dict[str, Any] = {}
        for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
            key, value = self.section(text, start, end)
            if key in root:
                raise _Decline  # a duplicate top-level key: the loader says where
            root[key] = value
        return root

    def section(self, text: str, start: int, end: int) -> tuple[str, Any]:
        """One top-level key and its value, from text[start:end]."""
        first = text.find(_ENTRY, start, end)  # the head keeps the first entry at least
        cut = -1 if first < 0 else text.find(_ENTRY, max(first + 1, start + self.chunk), end)
        head = self.mapping(self.parse(self.piece(text, start, end if cut < 0 else cut)), 1)
        if len(head) != 1:
            raise _Decline
        ((key, value),) = head.items()
        while cut >= 0:
            if type(value) is not list:
                raise _Decline
            following = text.find(_ENTRY, cut + self.chunk, end)
            piece = self.parse(self.piece(text, cut + 1, end if following < 0 else following))
            if type(piece) is not list:  # (several documents would be a list of them, but a
                raise _Decline           # second document is declined by `eligible`)
            self.sequence(piece, 2)
            value.extend(piece)
            cut = following
        return key, value

    @staticmethod
    def piece(text: str, start: int, end: int) -> str:
        if end - start > MAX_PIECE or text.count("\n", start, end) > MAX_PIECE_LINES:
            raise _Decline
        return text[start:end]

    def mapping(self, value: Any, depth: int) -> dict[str, Any]:
        """The mapping built again with one string object per distinct text, keys included (as
        the loader keeps them). Built in its parent's place, so the one it replaces is freed at
        once. Declines a key that is not a string and nesting deeper than the loader allows."""
        if type(value) is not dict or depth > MAX_DEPTH:
            raise _Decline
        intern = self.strings.setdefault
        built = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _Decline
            kind = type(item)
            if kind is str:
                item = intern(item, item)
            elif kind is dict:
                item = self.mapping(item, depth + 1)
            elif kind is list:
                self.sequence(item, depth + 1)
            elif kind is int and not -_TOO_LARGE < item < _TOO_LARGE:
                raise _Decline
            built[intern(key, key)] = item
        return built

    def sequence(self, value: list[Any], depth: int) -> None:
        """The list's strings shared and its mappings built again, in place."""
        if depth > MAX_DEPTH:
            raise _Decline
        intern = self.strings.setdefault
        for i, item in enumerate(value):
            kind = type(item)
            if kind is str:
                value[i] = intern(item, item)
            elif kind is dict:
                value[i] = self.mapping(item, depth + 1)
            elif kind is list:
                self.sequence(item, depth + 1)
            elif kind is int and not -_TOO_LARGE < item < _TOO_LARGE:
                raise _Decline
