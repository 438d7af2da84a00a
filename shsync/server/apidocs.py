"""The API's reference page (`GET /docs`): the OpenAPI document the server serves, rendered
once, on the server, as one static HTML page.

FastAPI's own /docs loads Swagger UI's script and style from a CDN: every reader's browser would
tell a third party that it reads this practice's API, and run a script this project does not
ship. This page has no script at all and requests nothing: its Content-Security-Policy is
`default-src 'none'` with its one inline style allowed by hash, so it works offline, behind a
firewall, and sends nothing to anyone. Every value of the document (descriptions, names,
examples) is text escaped into the page (`visible`, then `html.escape`), never markup. It holds
no practice's data, so it needs no token, as /openapi.json does not.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from shsync.render.escape import visible
from shsync.render.report import STYLE

PAGE_STYLE = STYLE + """
.op { border: 1px solid #d0d7de; border-radius: .3rem; padding: .4rem .8rem; margin: .8rem 0; }
.op h3 { margin: .2rem 0; font-size: 15px; } .method { display: inline-block; min-width: 4rem;
  font-weight: 700; } .get { color: #0550ae; } .post { color: #1a7f37; }
.delete { color: #cf222e; } .put, .patch { color: #953800; }
.text { white-space: pre-wrap; } .muted { color: #57606a; }
"""

METHODS = ("get", "post", "put", "patch", "delete")


def _e(value: object) -> str:
    return html.escape(visible(str(value)), quote=True)


def _anchor(*parts: str) -> str:
    """An id made only of safe characters, whatever the document's names hold."""
    text = "-".join(parts)
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in text)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: Any) -> str:
    """A schema in a few words, as HTML: `string`, `list of StepAccess`, `integer or null`."""
    if not isinstance(schema, Mapping):
        return "any"
    if isinstance(schema.get("$ref"), str):
        name = _ref_name(schema["$ref"])
        return f'<a href="#{_anchor("schema", name)}">{_e(name)}</a>'
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return " or ".join(_type(s) for s in schema[key]) or "any"
    if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
        return _type(schema["allOf"][0])
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type(schema.get('items'))}"
    if isinstance(schema.get("enum"), list):
        return "one of " + ", ".join(f"<code>{_e(v)}</code>" for v in schema["enum"])
    if "const" in schema:
        return f"<code>{_e(schema['const'])}</code>"
    if isinstance(kind, list):
        return " or ".join(_e(k) for k in kind)
    if isinstance(kind, str):
        bounds = [f"{word} {schema[key]}" for key, word in
                  (("minimum", "&ge;"), ("maximum", "&le;"), ("minLength", "length &ge;"),
                   ("maxLength", "length &le;")) if isinstance(schema.get(key), int)]
        return _e(kind) + (f' <span class="muted">({", ".join(bounds)})</span>' if bounds
                           else "")
    return "any"


def _text(value: Any) -> str:
    return f'<div class="text">{_e(value)}</div>' if isinstance(value, str) and value else ""


def _parameters(operation: Mapping[str, Any]) -> list[str]:
    rows = []
    for p in operation.get("parameters") or ():
        if not isinstance(p, Mapping):
            continue
        required = "yes" if p.get("required") else "no"
        rows.append(f"<tr><td><code>{_e(p.get('name', ''))}</code></td><td>{_e(p.get('in', ''))}"
                    f"</td><td>{required}</td><td>{_type(p.get('schema'))}</td>"
                    f"<td>{_e(p.get('description') or '')}</td></tr>")
    if not rows:
        return []
    return ["<table><thead><tr><th>Parameter</th><th>In</th><th>Required</th><th>Type</th>"
            "<th>Description</th></tr></thead><tbody>", *rows, "</tbody></table>"]


def _contents(content: Any) -> str:
    if not isinstance(content, Mapping):
        return ""
    return "; ".join(f"<code>{_e(kind)}</code>: {_type((body or {}).get('schema'))}"
                     for kind, body in content.items() if isinstance(body, Mapping | None))


def _body(operation: Mapping[str, Any]) -> list[str]:
    body = operation.get("requestBody")
    if not isinstance(body, Mapping):
        return []
    required = " (required)" if body.get("required") else ""
    return [f"<p>Request body{required}: {_contents(body.get('content'))}</p>"]


def _responses(operation: Mapping[str, Any]) -> list[str]:
    responses = operation.get("responses")
    if not isinstance(responses, Mapping):
        return []
    rows = [f"<tr><td>{_e(status)}</td><td>{_e((r or {}).get('description', ''))}</td>"
            f"<td>{_contents((r or {}).get('content'))}</td></tr>"
            for status, r in sorted(responses.items()) if isinstance(r, Mapping | None)]
    return ["<table><thead><tr><th>Status</th><th>Meaning</th><th>Body</th></tr></thead>"
            "<tbody>", *rows, "</tbody></table>"]


def _operation(path: str, method: str, operation: Mapping[str, Any]) -> list[str]:
    token = ("needs a bearer token (<code>Authorization: Bearer shs_...</code>)"
             if operation.get("security") else "needs no token")
    anchor = _anchor("op", method, path)
    return [f'<section class="op" id="{anchor}">',
            f'<h3><span class="method {_e(method)}">{_e(method.upper())}</span> '
            f"<code>{_e(path)}</code> &middot; {_e(operation.get('summary') or '')}</h3>",
            _text(operation.get("description")), f'<p class="muted">This request {token}.</p>',
            *_parameters(operation), *_body(operation), *_responses(operation), "</section>"]


def _schema(name: str, schema: Any) -> list[str]:
    if not isinstance(schema, Mapping):
        return []
    required = set(schema.get("required") or ())
    properties = schema.get("properties")
    rows = [f"<tr><td><code>{_e(prop)}</code></td><td>{_type(s)}</td>"
            f"<td>{'yes' if prop in required else 'no'}</td>"
            f"<td>{_e((s or {}).get('description', '') if isinstance(s, Mapping) else '')}"
            "</td></tr>"
            for prop, s in (properties.items() if isinstance(properties, Mapping) else ())]
    table = (["<table><thead><tr><th>Field</th><th>Type</th><th>Required</th>"
              "<th>Description</th></tr></thead><tbody>", *rows, "</tbody></table>"]
             if rows else [f"<p>{_type(schema)}</p>"])
    return [f'<section id="{_anchor("schema", name)}">', f"<h3>{_e(name)}</h3>",
            _text(schema.get("description")), *table, "</section>"]


def render(document: Mapping[str, Any]) -> str:
    """The page for one OpenAPI document."""
    info = document.get("info") if isinstance(document.get("info"), Mapping) else {}
    assert isinstance(info, Mapping)
    title = f"{info.get('title', 'API')} API {info.get('version', '')}".strip()
    by_tag: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {}
    paths = document.get("paths")
    for path, operations in (paths.items() if isinstance(paths, Mapping) else ()):
        for method in METHODS:
            operation = operations.get(method) if isinstance(operations, Mapping) else None
            if isinstance(operation, Mapping):
                tags = operation.get("tags") or ["other"]
                by_tag.setdefault(str(tags[0]), []).append((path, method, operation))
    nav = [f'<a href="#{_anchor("tag", tag)}">{_e(tag)}</a>' for tag in by_tag]
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             '<meta name="referrer" content="no-referrer">', f"<title>{_e(title)}</title>",
             f"<style>{PAGE_STYLE}</style>", "</head>", "<body>", f"<h1>{_e(title)}</h1>",
             _text(info.get("description")),
             '<p class="meta">The same API as the machine-readable OpenAPI document, '
             '<a href="openapi.json">/openapi.json</a> (for code generators and clients); '
             "with examples and the error codes: docs/reference/api.md in shsync's "
             "repository. This page has no script and loads nothing.</p>",
             f"<nav>{''.join(nav)}</nav>"]
    for tag, operations in by_tag.items():
        parts += [f'<h2 id="{_anchor("tag", tag)}">{_e(tag)}</h2>']
        for path, method, operation in operations:
            parts += _operation(path, method, operation)
    components = document.get("components")
    schemas = components.get("schemas") if isinstance(components, Mapping) else None
    if isinstance(schemas, Mapping) and schemas:
        parts.append('<h2 id="schemas">Schemas</h2>')
        for name, schema in schemas.items():
            parts += _schema(str(name), schema)
    parts += ["</body>", "</html>", ""]
    return "\n".join(p for p in parts if p)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CSP = "; ".join([
    "default-src 'none'",
    f"style-src {_hash(PAGE_STYLE)}",
    "img-src 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])

HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def response(page: str) -> Response:
    return Response(page, media_type="text/html; charset=utf-8", headers=HEADERS)
