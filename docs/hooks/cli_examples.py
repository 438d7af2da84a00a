"""An MkDocs hook for the command reference (docs/reference/cli.md): keep each command's
"Examples:" lines as they are in `shsync COMMAND --help`.

mkdocs-click passes a command's help text through as Markdown, where the indented lines under
"Examples:" would run together into one paragraph. This turns such a paragraph back into the
lines click prints. It changes layout only: the text is still click's own, so the page still
cannot drift from the program.
"""

from __future__ import annotations

import re

EXAMPLES = re.compile(r"<p>Examples:\n((?:  [^\n]*(?:\n|(?=</p>)))+)</p>")


def on_page_content(html: str, page, **_: object) -> str:
    if page.file.src_uri != "reference/cli.md":
        return html
    return EXAMPLES.sub(lambda m: "<p>Examples:</p>\n<pre><code>" + m[1].rstrip("\n")
                        + "\n</code></pre>", html)
