"""Hand freed heap memory back to the operating system after bulk work (glibc's malloc_trim)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def release_free_memory() -> bool:
    """Return the heap's free pages to the OS; True when the C library could do it.

    An ingestion frees its temporaries (token lists, batches, the old keyword index), but glibc keeps
    the freed heap pages for reuse, so a long-running server would otherwise keep them resident
    (38 MB came back after a 10k-chunk ingestion of bench.scale).
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
