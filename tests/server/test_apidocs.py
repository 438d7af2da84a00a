"""`GET /docs`: the OpenAPI document as a page that needs no token, has no script, requests
nothing (no CDN, unlike FastAPI's Swagger UI) and shows every value of the document as text."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata

import httpx

from shsync.server import apidocs
from shsync.server.api import openapi_document


def test_the_page_needs_no_token_and_allows_nothing_but_its_own_style(server):
    served = httpx.get(server.base + "/docs")
    assert served.status_code == 200
    assert served.headers["content-type"] == "text/html; charset=utf-8"
    policy = dict(part.split(" ", 1) for part in
                  served.headers["content-security-policy"].split("; "))
    assert policy["default-src"] == "'none'" and "script-src" not in policy
    assert policy["form-action"] == "'none'" and policy["frame-ancestors"] == "'none'"
    (style,) = re.findall(r"<style>(.*?)</style>", served.text, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert policy["style-src"] == f"'sha256-{digest}'"
    assert served.headers["referrer-policy"] == "no-referrer"
    # Nothing to run and nothing to fetch: no script, no source, no stylesheet, no other site.
    assert "<script" not in served.text and "src=" not in served.text
    assert "<link" not in served.text and "url(" not in served.text
    assert re.findall(r"https?://", served.text) == []
    links = set(re.findall(r'href="([^"]*)"', served.text))
    assert {link for link in links if not link.startswith("#")} == {"openapi.json"}


def test_the_page_shows_every_operation_and_schema_of_the_document(server):
    text = httpx.get(server.base + "/docs").text
    doc = json.loads(openapi_document())
    for path, operations in doc["paths"].items():
        for method in operations:
            assert (f'<span class="method {method}">{method.upper()}</span> '
                    f"<code>{path}</code>") in text, (method, path)
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in text, name
    ids = re.findall(r'id="([^"]*)"', text)
    assert len(ids) == len(set(ids))  # every anchor a link can reach, once
    for target in re.findall(r'href="#([^"]*)"', text):
        assert target in ids, target
    # /docs is a page about the API, not part of it: the document is unchanged.
    assert "/docs" not in doc["paths"]


def test_every_value_of_the_document_is_shown_as_text():
    hostile = '<img src=x onerror="alert(1)"></style><script>alert(2)</script>\x1b[2J\u202e'
    ref = {"$ref": f"#/components/schemas/{hostile}"}
    doc = {"info": {"title": hostile, "version": "1", "description": hostile},
           "paths": {f"/x/{hostile}": {"get": {
               "summary": hostile, "description": hostile, "tags": [hostile],
               "parameters": [{"name": hostile, "in": "query", "description": hostile,
                               "schema": {"enum": [hostile]}}],
               "responses": {"200": {"description": hostile, "content": {
                   "application/json": {"schema": ref}}}}}}},
           "components": {"schemas": {hostile: {"description": hostile, "properties": {
               hostile: {"type": "string", "description": hostile}}}}}}
    page = apidocs.render(doc)
    assert "<img" not in page and "<script" not in page and page.count("</style>") == 1
    assert not [ch for ch in page if ch != "\n" and unicodedata.category(ch) in {"Cc", "Cf"}]
    assert "\\x1b[2J\\u202e" in page  # shown, not dropped
    for anchor in re.findall(r'(?:id|href)="#?([^"]*)"', page):
        assert re.fullmatch(r"[A-Za-z0-9_.-]*|openapi\.json", anchor), anchor
