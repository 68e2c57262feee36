"""The BM25 index as a cache of the registry's tokens: loaded, updated a batch at a time, rebuilt when stale."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from assistant.kb.bm25 import BM25Index
from assistant.kb.memory import release_free_memory
from assistant.kb.registry import Registry


class KeywordCache:
    """The current BM25 snapshot of one knowledge base, and the writes it has not taken in yet.

    The registry is the authority. Writers say which chunks they removed (`forget`) and which
    sources they wrote (`touch`); `apply` then takes out the removed chunks and puts in the
    touched sources' complete chunks as the registry stores them, without reading anything else,
    and checks the result against the registry's fingerprint of its complete chunks (kept up to
    date by every registry write, so the check is one read). Any mismatch — a crash between a
    registry write and the index's save, another process's write — leads to a full rebuild.
    The index also carries the dictionary its tokens were cut with (`_dictionary`): new domain
    terms re-cut every chunk without changing a chunk id, and a crash after the registry's tokens
    were re-cut but before the index was rebuilt must not leave the old tokens in use.
    """

    def __init__(self, folder: Path, registry: Registry):
        self.index = BM25Index(folder)
        self.registry = registry
        self._removed: set[str] = set()
        self._sources: set[str] = set()

    def forget(self, chunk_ids: Iterable[str]) -> None:
        """These chunks left the registry (or are being replaced): take them out at the next `apply`."""
        self._removed.update(chunk_ids)

    def touch(self, source: str) -> None:
        """This source was written: index its complete chunks at the next `apply`."""
        self._sources.add(source)

    def apply(self) -> None:
        """Take in the writes noted since the last `apply` (or `refresh`), save, and swap the new index in."""
        removed, sources = self._removed, self._sources
        self._removed, self._sources = set(), set()
        expected = self.registry.chunk_signature()
        if not removed and not sources and self.index.signature == expected and self.index.tag == self._dictionary():
            return
        try:
            fresh = self.index.updated(removed, lambda: self.registry.iter_tokens(sources=sources))
        except RuntimeError:  # the registry changed between the two reads: another process writes
            fresh = None
        if fresh is None or fresh.signature != expected or fresh.tag != self._dictionary():
            self.refresh(force=True)
            return
        fresh.save()
        self.index = fresh  # one assignment: concurrent searches see the old or the new index whole

    def _dictionary(self) -> str:
        """A short hash of the domain terms the registry's tokens were cut with."""
        return hashlib.sha1((self.registry.get_meta("terms") or "").encode()).hexdigest()[:12]

    def refresh(self, force: bool = False) -> None:
        """Load the saved index, or rebuild it from the registry's tokens when it is stale (or `force`).

        Reads every chunk id of the registry to check the saved index: for opening and recovery;
        after a write, `apply` is the cheap way.
        """
        self._removed, self._sources = set(), set()
        signature = self.registry.chunk_signature(verify=True)
        fresh = BM25Index(self.index.folder)
        dictionary = self._dictionary()
        if not force and fresh.load() and fresh.signature == signature and fresh.tag == dictionary:
            self.index = fresh
            return
        release_free_memory()  # the batch's temporaries: the build's arrays must not come on top of them
        for _ in range(3):
            try:
                fresh.build(self.registry.iter_tokens)  # read twice, a page at a time (see build_segment)
                break
            except RuntimeError:  # another process wrote between the two reads: read again
                continue
        else:  # it keeps writing: index one snapshot, held in memory while building
            fresh.build(list(self.registry.iter_tokens()))
        fresh.tag = dictionary
        fresh.save()
        self.index = fresh
        release_free_memory()  # the build's temporaries and the old index
