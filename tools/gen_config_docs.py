"""Write docs/ref/config.md from the pydantic models (every field's description). A test fails on drift."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel

from vigil.config.models import Config

HEADER = """# Configuration reference (`vigil.yaml`)

Generated from `src/vigil/config/models.py` by `python tools/gen_config_docs.py`; do not edit by hand.
Unknown keys are rejected with the path of the key. Sizes accept units (`500GB`, `2TiB`). Relative paths are
taken from the folder of the configuration file.
"""


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Annotated and "_parse_size" not in str(annotation):
        return _type_name(get_args(annotation)[0])
    if _models(annotation) and len(_models(annotation)) > 1 and get_origin(annotation) is not list:
        return " or ".join(m.__name__ for m in _models(annotation))
    args = getattr(annotation, "__args__", ())
    if "_parse_size" in str(annotation):
        return "size" + (" or None" if type(None) in args else "")
    if getattr(annotation, "__origin__", None) is list and args:
        return f"list of {_type_name(args[0])}"
    text = str(annotation) if args else (getattr(annotation, "__name__", None) or str(annotation))
    for noise in ("typing.", "vigil.config.models.", "pydantic.types.", "datetime."):
        text = text.replace(noise, "")
    return text.replace(" | ", " or ")


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The models inside an annotation (through lists, unions and Annotated), in order."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found += [m for m in _models(arg) if m not in found]
    return found


def _kind(model: type[BaseModel]) -> str:
    """`` (kind: webhook)`` for a model told apart by a literal ``kind``."""
    field = model.model_fields.get("kind")
    args = get_args(field.annotation) if field is not None else ()
    return f" (kind: {args[0]})" if len(args) == 1 else ""


def _section(model: type[BaseModel], prefix: str, out: list[str], suffix: str = "") -> None:
    nested: list[tuple[str, str, type[BaseModel]]] = []
    out.append(f"\n## `{prefix or '(top level)'}`{suffix}\n\n| key | type | default | meaning |\n|---|---|---|---|")
    for name, field in model.model_fields.items():
        ann = field.annotation
        inner = _models(ann)
        default = "required" if field.is_required() else ("…" if field.default_factory else repr(field.default))
        out.append(f"| `{name}` | {_type_name(ann)} | {default} | {field.description or ''} |")
        for sub in inner:
            key = f"{prefix}.{name}" if prefix else name
            nested.append((key + ("[]" if "list" in str(ann) else ""), _kind(sub) if len(inner) > 1 else "", sub))
    for key, suffix, sub in nested:
        _section(sub, key, out, suffix)


def render() -> str:
    out = [HEADER]
    _section(Config, "", out)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "ref" / "config.md"
    target.write_text(render())
    sys.stdout.write(f"wrote {target}\n")
