"""Run the evidence verifier as a recipient would: a Python without site-packages that finds PyNaCl (and the cffi
backend it loads) and nothing else, not even Vigil."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nacl


def plain_python(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The command (``python -S``) and environment of that Python; its library folder is made in ``tmp_path``."""
    lib = tmp_path / "only-pynacl"
    if not lib.exists():
        lib.mkdir()
        nacl_dir = Path(nacl.__file__).parent
        (lib / "nacl").symlink_to(nacl_dir)
        for backend in nacl_dir.parent.glob("_cffi_backend*"):
            (lib / backend.name).symlink_to(backend)
    return [sys.executable, "-S"], {"PYTHONPATH": str(lib), "PATH": os.environ["PATH"]}


def run_verifier(tmp_path: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    python, env = plain_python(tmp_path)
    return subprocess.run([*python, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
