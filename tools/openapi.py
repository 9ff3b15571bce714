"""Write the API's OpenAPI document to docs/api/openapi.json (run after changing the API; the test
``tests/contract/test_openapi.py`` fails while the checked-in document is out of date)."""

from __future__ import annotations

from pathlib import Path

from vigil.commands.openapi import DOCUMENT, openapi_text

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / DOCUMENT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(openapi_text())
    print(f"wrote {out}")
