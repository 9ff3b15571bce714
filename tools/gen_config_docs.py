"""Write docs/ref/config.md from the pydantic models (every field's description). A test fails on drift."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from vigil.config.models import Config

HEADER = """# Configuration reference (`vigil.yaml`)

Generated from `src/vigil/config/models.py` by `python tools/gen_config_docs.py`; do not edit by hand.
Unknown keys are rejected with the path of the key. Sizes accept units (`500GB`, `2TiB`). Relative paths are
taken from the folder of the configuration file.
"""


def _type_name(annotation: Any) -> str:
    args = getattr(annotation, "__args__", ())
    if "_parse_size" in str(annotation):
        return "size" + (" or None" if type(None) in args else "")
    if getattr(annotation, "__origin__", None) is list and args:
        return f"list of {_type_name(args[0])}"
    text = str(annotation) if args else (getattr(annotation, "__name__", None) or str(annotation))
    for noise in ("typing.", "vigil.config.models.", "pydantic.types.", "datetime."):
        text = text.replace(noise, "")
    return text.replace(" | ", " or ")


def _section(model: type[BaseModel], prefix: str, out: list[str]) -> None:
    nested: list[tuple[str, type[BaseModel]]] = []
    out.append(f"\n## `{prefix or '(top level)'}`\n\n| key | type | default | meaning |\n|---|---|---|---|")
    for name, field in model.model_fields.items():
        ann = field.annotation
        inner = [a for a in getattr(ann, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            inner = [ann]
        default = "required" if field.is_required() else ("…" if field.default_factory else repr(field.default))
        out.append(f"| `{name}` | {_type_name(ann)} | {default} | {field.description or ''} |")
        for sub in inner:
            key = f"{prefix}.{name}" if prefix else name
            nested.append((key + ("[]" if "list" in str(ann) else ""), sub))
    for key, sub in nested:
        _section(sub, key, out)


def render() -> str:
    out = [HEADER]
    _section(Config, "", out)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "ref" / "config.md"
    target.write_text(render())
    sys.stdout.write(f"wrote {target}\n")
