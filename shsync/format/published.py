"""The JSON Schema (Draft 2020-12) of the org and snapshot formats, generated from the models.

The files beside this module are what editors and CI use; `python -m shsync.format.published`
rewrites them from `shsync.model.org`, and a test fails when they drift apart.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# kind -> (model name in shsync.model.org, file). Reading a schema file needs no pydantic: only
# `generate` imports the models, so `validate` and `schema` start without them.
KINDS: dict[str, tuple[str, str]] = {
    "org": ("Org", "org.schema.json"),
    "snapshot": ("Snapshot", "snapshot.schema.json"),
}


def generate(kind: str) -> dict[str, Any]:
    from shsync.model import org as models

    name, filename = KINDS[kind]
    schema = getattr(models, name).model_json_schema(by_alias=True)
    return {
        "$schema": DRAFT,
        "$id": f"https://shsync.example/schema/v1/{filename}",
        **schema,
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


@cache
def text(kind: str) -> str:
    """The published schema file's text."""
    return resources.files("shsync.format").joinpath(KINDS[kind][1]).read_text("utf-8")


@cache
def load(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(text(kind))
    return schema


def write_all(directory: Path | None = None) -> list[Path]:
    target = directory or Path(__file__).parent
    written = []
    for kind, (_, filename) in KINDS.items():
        path = target / filename
        path.write_text(render(generate(kind)), "utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_all():
        print(f"wrote {written_path}")
