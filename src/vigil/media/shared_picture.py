"""A picture buffer two processes map at once: an analysis worker writes a frame into it, the detector reads it.

POSIX shared memory used directly (a file under ``/dev/shm`` mapped with ``mmap``), so that no resource tracker
of either process removes it behind the other's back. The creator unlinks the name as soon as the other side
has mapped it: both mappings stay valid, and nothing is left behind in ``/dev/shm`` whichever process dies.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SHM_DIR = Path("/dev/shm")  # noqa: S108 (POSIX shared memory lives here; names are random, mode 0600)


class SharedPicture:
    def __init__(self, name: str, size: int, mapping: mmap.mmap) -> None:
        self.name, self.size, self._map = name, size, mapping

    @classmethod
    def create(cls, size: int, prefix: str = "vigil") -> SharedPicture:
        name = f"{prefix}-{os.getpid()}-{secrets.token_hex(6)}"
        fd = os.open(SHM_DIR / name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        try:
            os.ftruncate(fd, size)
            mapping = mmap.mmap(fd, size)
        except BaseException:
            (SHM_DIR / name).unlink()
            raise
        finally:
            os.close(fd)
        return cls(name, size, mapping)

    @classmethod
    def attach(cls, name: str, size: int) -> SharedPicture:
        if "/" in name or not name.startswith("vigil"):
            raise ValueError(f"not a Vigil picture buffer: {name!r}")
        fd = os.open(SHM_DIR / name, os.O_RDWR)
        try:
            if os.fstat(fd).st_size < size:
                raise ValueError(f"picture buffer {name} is smaller than {size} bytes")
            mapping = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        return cls(name, size, mapping)

    def unlink(self) -> None:
        """Remove the name (the mappings live on until closed)."""
        with contextlib.suppress(FileNotFoundError):
            (SHM_DIR / self.name).unlink()

    def array(self, shape: tuple[int, ...]) -> npt.NDArray[Any]:
        """A uint8 view of the first ``prod(shape)`` bytes."""
        count = int(np.prod(shape))
        if count > self.size:
            raise ValueError(f"a {shape} picture does not fit in {self.size} bytes")
        return np.ndarray(shape, dtype=np.uint8, buffer=self._map, offset=0)

    def close(self) -> None:
        with contextlib.suppress(BufferError):  # a view is still alive somewhere; the mapping goes when it does
            self._map.close()
