"""An order-free fingerprint of a set of chunk ids, updated one id at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

_MASK = (1 << 64) - 1


def _hash(chunk_id: str) -> int:
    # blake2b, not hash(): Python's string hash changes from one process to the next.
    return int.from_bytes(hashlib.blake2b(chunk_id.encode(), digest_size=8).digest(), "little")


@dataclass(frozen=True)
class Fingerprint:
    """How many ids and the sum of their 64-bit hashes: adding or removing an id costs one hash.

    A sorted hash of every id would have to read the whole set after each change; a sum does not
    care about order, so the keyword index and the registry can each keep theirs up to date as
    they change and compare the two in O(1).
    """

    count: int = 0
    total: int = 0

    @classmethod
    def of(cls, chunk_ids: Iterable[str]) -> Fingerprint:
        return cls().plus(chunk_ids)

    @classmethod
    def parse(cls, text: str | None) -> Fingerprint | None:
        """The fingerprint `str()` wrote, or None for anything else."""
        try:
            count, total = (text or "").split(":")
            return cls(int(count), int(total, 16))
        except ValueError:
            return None

    def plus(self, chunk_ids: Iterable[str]) -> Fingerprint:
        count, total = self.count, self.total
        for chunk_id in chunk_ids:
            count += 1
            total += _hash(chunk_id)
        return Fingerprint(count, total & _MASK)

    def minus(self, chunk_ids: Iterable[str]) -> Fingerprint:
        count, total = self.count, self.total
        for chunk_id in chunk_ids:
            count -= 1
            total -= _hash(chunk_id)
        return Fingerprint(count, total & _MASK)

    def __str__(self) -> str:
        return f"{self.count}:{self.total:016x}"
