"""The verifier shipped inside every evidence package stays standalone: Python 3.8 syntax, and nothing imported
but the standard library and PyNaCl (a recipient has Python and one small package, never Vigil)."""

import ast
import sys
from pathlib import Path

VERIFIER = Path(__file__).resolve().parents[2] / "src" / "vigil" / "verify_package.py"


def test_the_verifier_parses_as_python_3_8():
    ast.parse(VERIFIER.read_text(), feature_version=(3, 8))


def test_the_verifier_imports_only_the_standard_library_and_pynacl():
    tree = ast.parse(VERIFIER.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or top in ("nacl", "__future__"), f"verify_package imports {name}"
