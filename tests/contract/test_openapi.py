"""The checked-in OpenAPI document is the one the code describes, and the API keeps its conventions: one error
shape, pages for lists, every route under /api/v1."""

from pathlib import Path

from vigil.commands.openapi import DOCUMENT, openapi_document, openapi_text

ROOT = Path(__file__).resolve().parents[2]


def test_the_checked_in_openapi_document_matches_the_code() -> None:
    checked_in = (ROOT / DOCUMENT).read_text()
    assert checked_in == openapi_text(), "the API changed: run .venv/bin/python tools/openapi.py and commit the result"


def test_every_list_is_a_page_and_every_path_is_versioned() -> None:
    doc = openapi_document()
    assert doc["paths"] and all(path.startswith("/api/v1/") for path in doc["paths"])
    for path, methods in doc["paths"].items():
        get = methods.get("get")
        if not get:
            continue
        schema = get["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        assert schema.get("type") != "array", f"{path} returns a bare list: return a Page"
