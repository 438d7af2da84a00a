"""Escaping what shsync did not write, before a person reads it.

Names, practice names, actors and URLs come from files, stores and the environment. Printed as
they are, an ESC sequence can erase a line on a terminal, a newline can forge a line of a plan,
a bidi override can reverse what a line says, a `|` can forge a row of a Markdown table, and a
cell starting with `=` runs as a formula in a spreadsheet. Each function here makes one kind of
output safe; renderers apply them to every value they did not write themselves. Pure functions.
"""

from __future__ import annotations

import re
import unicodedata

# Unicode categories that are never shown as themselves: controls (C0, DEL, C1), format
# characters (bidi overrides and isolates, zero-width characters, BOM), line and paragraph
# separators, surrogates, private use and unassigned code points.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _code(ch: str) -> str:
    n = ord(ch)
    if n < 0x100:
        return f"\\x{n:02x}"
    return f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def visible(text: str) -> str:
    """`text` with every control, format or separator character shown as an escape
    (`\\x1b`, `\\u202e`, `\\u2028`), so nothing it holds can move the cursor, end a line or
    reorder what a terminal, a log or a runbook shows."""
    if text.isprintable():
        return text
    return "".join(_code(ch) if unicodedata.category(ch) in _HIDDEN else ch for ch in text)


def shown(value: str, limit: int) -> str:
    """A value the caller sent, for a message: cut to `limit` of their own characters, then
    escaped (`visible`), so it can forge no line and no cut falls inside an escape."""
    return visible(value[:limit]) + ("..." if len(value) > limit else "")


_MARKDOWN = re.compile(r"([\\`|*_\[\]<])")


def markdown(text: str) -> str:
    """`text` safe inside Markdown prose or a table cell: table and code syntax (`|`, backticks),
    emphasis, links and HTML are escaped, and no character can end the line or the row."""
    return _MARKDOWN.sub(r"\\\1", visible(text)).replace("\\<", "&lt;")


def markdown_code(text: str) -> str:
    """`text` as a Markdown code span that no backtick inside it can close early."""
    shown = visible(text)
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


# A code span shsync wrote into its own text (`shsync plan ORG --save`, `policy.break_glass`):
# kept as code only when it holds nothing a table or a link could use, so a value from a file
# that happens to sit between two backticks is still escaped like the prose around it.
_CODE_SPAN = re.compile(r"`([^`]+)`")
_PLAIN_CODE = re.compile(r"[^<>\[\]()|]+")


def markdown_text(text: str) -> str:
    """shsync's own message (`text` may hold values from files) for Markdown prose or a table
    cell: each `code` span it writes renders as code, and everything else is escaped as by
    `markdown`, so a command meant as code shows as code and a name still injects nothing."""
    shown = visible(text)
    out, at = [], 0
    for span in _CODE_SPAN.finditer(shown):
        if not _PLAIN_CODE.fullmatch(span.group(1)):
            continue
        out += [markdown(shown[at:span.start()]), markdown_code(span.group(1))]
        at = span.end()
    out.append(markdown(shown[at:]))
    return "".join(out)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """`text` safe in a CSV cell opened by a spreadsheet: a cell that starts like a formula
    (`=`, `+`, `-`, `@`, tab, CR) is prefixed with `'`; control characters are shown escaped."""
    if text.startswith(_FORMULA):
        text = "'" + text
    return visible(text)
