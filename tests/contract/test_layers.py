"""The layer rules of docs/design/architecture.md, checked on the source (imports point downward only)."""

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "vigil"
ADAPTERS = {"analysis", "api", "media", "notify", "reports", "storage", "web", "jobs"}
ABOVE_ADAPTERS = {"runtime", "wiring", "cli", "commands", "treatments", "ticket_pictures"}
STDLIB = set(sys.stdlib_module_names)
CLOCK_READS = {("time", "time"), ("time", "time_ns"), ("datetime", "now"), ("datetime", "utcnow"), ("date", "today")}
IO_MODULES = {"os", "io", "socket", "subprocess", "sqlite3", "time", "shutil", "tempfile", "urllib", "http"}


def modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "storage" and "migrations" in rel.parts:
            continue
        yield rel, ast.parse(path.read_text(), str(path))


def imported(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def layer(rel: Path) -> str:
    return rel.parts[0].removesuffix(".py")


ALL = list(modules())


@pytest.mark.parametrize(("rel", "tree"), ALL, ids=[str(r) for r, _ in ALL])
def test_imports_point_downward(rel, tree):
    own = layer(rel)
    for name in imported(tree):
        top = name.split(".")[0]
        target = name.split(".")[1] if top == "vigil" and "." in name else None
        if own == "domain":
            assert top in STDLIB or name.startswith("vigil.domain"), f"domain imports {name}"
            assert top not in IO_MODULES, f"domain does I/O through {name}"
        if own == "config":
            assert target in (None, "domain", "config") or top != "vigil", f"config imports {name}"
        if own == "usecases" and target is not None:
            assert target not in ADAPTERS | ABOVE_ADAPTERS, f"use case imports adapter {name}"
        if own in ADAPTERS and target is not None:
            assert target == own or target not in ADAPTERS | ABOVE_ADAPTERS, f"{own} imports sibling {name}"


@pytest.mark.parametrize(("rel", "tree"), [m for m in ALL if layer(m[0]) == "domain"], ids=lambda v: str(v))
def test_domain_never_reads_the_clock(rel, tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            base = node.func.value
            if isinstance(base, ast.Name):
                assert (base.id, node.func.attr) not in CLOCK_READS, f"{rel}:{node.lineno} reads the clock"
