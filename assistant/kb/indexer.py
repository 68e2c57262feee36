"""Writing the knowledge base: ingest files, index documents and passages, delete, keep BM25 in step."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import AssistantError
from assistant.kb import prepared as kb_prepared
from assistant.kb.bm25 import BM25Index
from assistant.kb.chunk_vectors import vector_records
from assistant.kb.consistency import WriterLock, documents_from_store, remove_stray_vectors
from assistant.kb.keyword import Tokenizer, quoted_terms
from assistant.kb.keyword_cache import KeywordCache
from assistant.kb.prepared import Prepared, embed_all, keyword_text
from assistant.kb.progress import Progress, TextProgress, TextTally, page_progress
from assistant.kb.registry import Registry, SourceRecord
from assistant.kb.vectors import VectorRecord, VectorStore
from assistant.models.embeddings import Embedder
from assistant.results import IngestReport
from assistant.settings import Settings
from assistant.text import sha256_file
from ingest.chunking import Chunk, chunk_document
from ingest.clean import clean_text
from ingest.documents import Document, prepare_documents
from ingest.loaders import SCANNABLE_SUFFIXES, LoadError, OcrOptions, check_file, discover, load, preconverted
from ingest.loaders.ocr import PageProgress

# Bump when cleaning or chunking changes what a file becomes: files are then re-ingested.
PIPELINE_VERSION = 1


def source_name(path: Path) -> str:
    """How a file is known in the index: its absolute path with symlinks resolved."""
    return str(Path(path).resolve())


class Indexer:
    """The write side of one knowledge base: registry (SQLite), vectors (Chroma) and the BM25 cache.

    The registry is the authority on what is indexed; the BM25 index is derived from its tokens,
    updated with each batch's own chunks when it ends and rebuilt when stale (see `KeywordCache`). In server mode the Chroma server is the authority shared by app instances,
    and the registry is rebuilt from it when another instance wrote (see `sync_if_stale`).
    """

    def __init__(self, settings: Settings, registry: Registry, store: VectorStore, embedder: Embedder):
        self.settings = settings
        self.registry = registry
        self.store = store
        self.embedder = embedder
        terms = (registry.get_meta("terms") or "").split("\n")
        self.tokenizer = Tokenizer(t for t in terms if t)
        self.keyword = KeywordCache(settings.kb_dir / "bm25", registry)
        self.lock = WriterLock(settings.kb_dir / "write.lock")
        self.sync_if_stale()  # server mode: catch up with other app instances first
        if registry.get_meta("dirty") == "1":
            remove_stray_vectors(registry, store)
        self.refresh_keyword_index()

    @property
    def pipeline_tag(self) -> str:
        """What a file's chunks depend on besides its bytes: re-ingesting after a change redoes them."""
        s = self.settings
        key = f"{PIPELINE_VERSION}:{s.chunk_size}:{s.chunk_overlap}:{s.window_chars}:{self.embedder.name}"
        return hashlib.sha1(key.encode()).hexdigest()[:8]

    def file_tag(self, path: Path) -> str:
        """The pipeline tag of one file; a PDF's, OFD's or image's also names the OCR settings, so changing them re-reads those."""
        ocr = f"-ocr{self.settings.ocr_max_pages if self.settings.ocr else 0}"
        return self.pipeline_tag + (ocr if path.suffix.lower() in SCANNABLE_SUFFIXES else "")

    # -- the keyword index ------------------------------------------------------------------
    @property
    def bm25(self) -> BM25Index:
        """The keyword index as it stands: a snapshot, replaced whole when a batch ends."""
        return self.keyword.index

    def refresh_keyword_index(self, force: bool = False) -> None:
        """Load the saved BM25 index, or rebuild it from the registry's tokens when it is stale."""
        self.keyword.refresh(force)

    def retokenize_all(self) -> None:
        """New domain terms change how text is cut: re-tokenise every chunk so queries and index agree."""
        for doc in self.registry.documents():
            text = self.registry.document_text(doc.doc_id) or ""
            records = self.registry.chunks_of_document(doc.doc_id)
            self.registry.set_tokens(
                {r.chunk_id: self.tokenizer.tokenize(keyword_text(r.section, text[r.start : r.end])) for r in records}
            )

    def _after_new_terms(self, terms_before: set[str]) -> None:
        if self.tokenizer.terms != terms_before:  # every chunk may be cut differently now
            self.retokenize_all()
            self.keyword.refresh(force=True)
        else:
            self.keyword.apply()  # only the batch's own chunks

    # -- server mode ------------------------------------------------------------------------
    def written(self) -> None:
        """Stamp the store after a write, so other app instances sharing it know to resync."""
        self.registry.set_meta("store_generation", self.store.bump_generation())

    def stale_generation(self) -> str | None:
        """In server mode, the store's generation when another app instance wrote since we last looked."""
        if not self.settings.chroma_url:
            return None  # embedded: this folder's registry is the authority (see remove_stray_vectors)
        generation = self.store.generation()
        if generation and generation != self.registry.get_meta("store_generation"):
            return generation
        return None

    def sync_if_stale(self) -> None:
        """In server mode, rebuild the local registry and BM25 index when another instance wrote to the store."""
        if self.stale_generation():
            with self.lock:
                generation = self.stale_generation()  # it may have been done while we waited
                if generation:
                    self.sync_from_store(generation)

    def sync_from_store(self, generation: str) -> None:
        """Rebuild registry and BM25 from the chunk texts and metadata the Chroma server holds.

        The registry is rewritten in one transaction (`Registry.replace_all`): a failure half-way
        leaves it as it was, still stamped with the old generation, so the next look resyncs.
        """
        by_source = documents_from_store(self.store)
        for doc, _, _ in (item for items in by_source.values() for item in items):
            self.tokenizer.add_terms(quoted_terms(doc.text))
        records = []
        for source, items in by_source.items():
            docs = [doc for doc, _, _ in items]
            chunks = {doc.doc_id: chunks for doc, chunks, _ in items}
            tokens = {
                c.chunk_id: self.tokenizer.tokenize(keyword_text(c.section, c.text))
                for cs in chunks.values()
                for c in cs
            }
            meta = items[0][2]
            # a document the store holds only part of was cut short by a crash: re-ingesting completes it
            complete = all(len(cs) == m["doc_chunks"] for (_, cs, m) in items)
            records.append(SourceRecord(source, meta["file_hash"], docs, chunks, tokens, meta["ingested_at"], complete))
        self.registry.replace_all(
            records, meta={"terms": "\n".join(sorted(self.tokenizer.terms)), "store_generation": generation}
        )
        self.refresh_keyword_index(force=True)

    # -- ingestion --------------------------------------------------------------------------
    def ingest(
        self,
        paths: list[Path],
        progress: Progress | None = None,
        prune: bool = False,
        on_text: TextProgress | None = None,
    ) -> IngestReport:
        """Add files or folders; see `Assistant.ingest`."""
        files, skipped = discover(paths)
        text = TextTally(files, on_text)
        report = IngestReport()
        # A path the user named that does not exist is an error; an unsupported file is not.
        missing = {p for p in paths if not os.path.lexists(p)}
        for p, reason in skipped:
            (report.failed if p in missing else report.skipped).append((str(p), reason))
        with self.lock:
            generation = self.stale_generation()
            if generation:  # never write over a registry that does not know the store's content
                self.sync_from_store(generation)
            # Stays "1" if this batch dies half-way (an exception or a kill); the next open then
            # reconciles the vector store with the registry (see remove_stray_vectors).
            self.registry.set_meta("dirty", "1")
            try:
                terms_before = set(self.tokenizer.terms)
                changed = False
                # .doc/.wps/.rtf/.odt/.ppt are converted by LibreOffice several per start, not one start per file.
                # Files read wait in `pending` and are embedded together (see prepared.ENCODE_BATCH_TEXTS),
                # then written one by one, each as index_documents writes it.
                pending: list[Prepared] = []
                with preconverted(files, max_bytes=self.settings.max_file_mb * 1024 * 1024):
                    for done, path in enumerate(files, 1):
                        source = source_name(path)
                        if progress:
                            progress(done - 1, len(files), source)
                        on_page = page_progress(progress, done - 1, len(files), source)
                        outcome = self._read_file(path, report, pending, on_page)
                        text.read(path, pending[-1] if outcome == "pending" else None)
                        changed |= outcome in ("pending", "duplicate")
                        if outcome == "unchanged":
                            report.unchanged.append(source)
                        if sum(len(p.records) for p in pending) >= kb_prepared.ENCODE_BATCH_TEXTS:
                            self._write_pending(pending, report, text.embedded)
                    self._write_pending(pending, report, text.embedded)
                if prune:
                    report.removed = self._prune(paths, {source_name(f) for f in files})
                    changed |= bool(report.removed)
                if progress:
                    progress(len(files), len(files), "")
                if changed:
                    self._after_new_terms(terms_before)
                    self.written()
            except BaseException:
                # The store failed under us (disk full, server gone): put it back in line with
                # the registry now if we can; otherwise the dirty flag makes the next open do it.
                with contextlib.suppress(Exception):
                    remove_stray_vectors(self.registry, self.store)
                    self.refresh_keyword_index()
                raise
            self.registry.set_meta("dirty", "0")
        return report

    def _read_file(
        self, path: Path, report: IngestReport, pending: list[Prepared], on_page: PageProgress | None = None
    ) -> str:
        """Read, chunk and tokenise one file into `pending`; returns "pending", "unchanged", "duplicate" or "failed"."""
        source = source_name(path)
        ocr = OcrOptions(self.settings.ocr, self.settings.ocr_max_pages, on_page)
        try:
            check_file(path, self.settings.max_file_mb * 1024 * 1024)  # size and type before reading anything
            file_hash = f"{sha256_file(path)}/{self.file_tag(path)}"
            if self.registry.file_hash(source) == file_hash:
                return "unchanged"
            holders = [s for s in self.registry.sources_with_hash(file_hash) if s != source and Path(s).exists()]
            holders += [p.source for p in pending if p.file_hash == file_hash and p.source != source]
            if holders:
                if self.registry.documents(source):  # this path used to hold other content
                    self._drop(source)
                report.duplicates.append((source, holders[0]))
                return "duplicate"
            raw = load(path, max_bytes=self.settings.max_file_mb * 1024 * 1024, ocr=ocr)
            docs = prepare_documents(raw)
            report.warnings.extend((source, w) for w in raw.warnings)
        except LoadError as exc:
            report.failed.append((source, str(exc)))
            return "failed"
        except PermissionError:
            report.failed.append((source, "cannot read file: permission denied; check the file's permissions"))
            return "failed"
        except OSError as exc:
            report.failed.append((source, f"cannot read the file: {exc.strerror or exc}"))
            return "failed"
        except Exception as exc:  # a parser bug must not end the batch: report it and go on
            report.failed.append((source, f"unexpected error while reading ({type(exc).__name__}: {exc})"))
            return "failed"
        prepared = self.prepare(source, file_hash, docs)
        # an interrupted earlier try does not count as "existed"
        prepared.outcome = "updated" if self.registry.file_hash(source) is not None else "added"
        pending.append(prepared)
        return "pending"

    def _write_pending(
        self, pending: list[Prepared], report: IngestReport, on_chars: Callable[[int], None] | None = None
    ) -> None:
        """Embed the files waiting in `pending` together, write each, and empty the list."""
        embed_all(self.embedder, pending, on_chars)
        for p in pending:
            self.write(p)
            report.chunks_added += self.registry.count_chunks_of_source(p.source)
            getattr(report, p.outcome).append(p.source)
        pending.clear()

    def index_documents(
        self, source: str, file_hash: str, docs: list[Document], chunks: dict[str, list[Chunk]] | None = None
    ) -> None:
        """Replace the indexed content of `source` by these documents (chunked here unless given)."""
        prepared = self.prepare(source, file_hash, docs, chunks)
        embed_all(self.embedder, [prepared])
        self.write(prepared)

    def prepare(
        self, source: str, file_hash: str, docs: list[Document], chunks: dict[str, list[Chunk]] | None = None
    ) -> Prepared:
        """Chunk (unless `chunks` is given) and tokenise documents, and list the records to embed."""
        s = self.settings
        if chunks is None:
            chunks = {
                d.doc_id: chunk_document(
                    d.doc_id, d.text, size=s.chunk_size, overlap=s.chunk_overlap, page_starts=d.page_starts
                )
                for d in docs
            }
        for doc in docs:
            self.tokenizer.add_terms(quoted_terms(doc.text))
        all_chunks = [c for d in docs for c in chunks[d.doc_id]]
        tokens = {c.chunk_id: self.tokenizer.tokenize(keyword_text(c.section, c.text)) for c in all_chunks}
        now = datetime.now(UTC).isoformat(timespec="seconds")
        doc_meta = {
            d.doc_id: {
                "title": d.title,
                "collection": d.collection or "",
                "format": d.format,
                "file_hash": file_hash,
                "ingested_at": now,
                "doc_chunks": len(chunks[d.doc_id]),
            }
            for d in docs
        }
        records = self.vector_records(source, all_chunks, doc_meta, {d.doc_id: d.text for d in docs})
        return Prepared(source, file_hash, docs, chunks, tokens, now, records)

    def write(self, p: Prepared) -> None:
        """Replace the indexed content of a prepared source, its vectors given.

        The registry is written first, marked incomplete, then the vectors, then the mark is
        cleared: a crash in between leaves an incomplete document that the next run redoes.
        """
        records = [replace(r, vector=v) for r, v in zip(p.records, p.vectors)]
        old_ids = set(self.registry.chunk_ids_of_source(p.source))
        self.keyword.forget(old_ids)
        self.keyword.touch(p.source)
        self.registry.put_source(p.source, p.file_hash, p.docs, p.chunks, p.tokens, p.now, complete=False)
        self.store.add(records)
        stale = sorted(old_ids - {c.chunk_id for cs in p.chunks.values() for c in cs})
        if stale:
            self.store.delete_chunks(stale)
        self.registry.mark_complete(p.source)
        self.registry.set_meta("terms", "\n".join(sorted(self.tokenizer.terms)))

    def index_passages(self, source: str, corpus: dict[str, dict]) -> None:
        """Index ready-made passages (id -> {"title", "text"}) as one chunk each, e.g. a BEIR corpus.

        The chunk id is the passage id, so rankings can be compared with the set's relevance labels.
        Does nothing when the same corpus is already indexed.
        """
        digest = hashlib.sha256(json.dumps(corpus, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        if self.registry.file_hash(source) == digest:
            return
        docs, chunks = [], {}
        for pid, entry in corpus.items():
            text = clean_text(entry.get("text", ""))
            if not text:
                continue
            doc = Document(doc_id=pid, source=source, title=entry.get("title") or pid, text=text, format="txt")
            docs.append(doc)
            chunks[pid] = [
                Chunk(
                    chunk_id=pid,
                    doc_id=pid,
                    index=0,
                    start=0,
                    end=len(text),
                    text=text,
                    section="",
                    page=None,
                    content_hash=hashlib.sha1(text.encode()).hexdigest(),
                )
            ]
        with self.lock:
            terms_before = set(self.tokenizer.terms)
            self.index_documents(source, digest, docs, chunks)
            self._after_new_terms(terms_before)

    def vector_records(
        self, source: str, chunks: list[Chunk], doc_meta: dict[str, dict], texts: dict[str, str] | None = None
    ) -> list[VectorRecord]:
        """The vectors to embed for these chunks (see `chunk_vectors.vector_records`)."""
        return vector_records(source, chunks, doc_meta, self.settings.window_chars, texts)

    # -- removal ----------------------------------------------------------------------------
    def _prune(self, paths: list[Path], present: set[str]) -> list[str]:
        """Delete the documents of sources under the given folders that the walk no longer found."""
        folders = [source_name(p) for p in paths if p.is_dir()]
        gone = [
            s
            for s in self.registry.sources()
            if s not in present and any(s.startswith(folder.rstrip("/") + "/") for folder in folders)
        ]
        for source in gone:
            self._drop(source)
        return gone

    def _drop(self, source: str) -> None:
        """Forget a source in the registry, the vectors and (when the batch ends) the keyword index."""
        chunk_ids = self.registry.delete_source(source)
        self.store.delete_chunks(chunk_ids)
        self.keyword.forget(chunk_ids)

    def delete(self, sources: Iterable[str | Path]) -> list[str]:
        """Remove documents by source path; see `Assistant.delete`."""
        self.sync_if_stale()
        known = set(self.registry.sources())
        wanted = []
        for source in sources:
            name = str(source) if str(source) in known else source_name(Path(source))
            if name not in known:
                raise AssistantError(f"{source} is not in the knowledge base; `python -m assistant list` shows what is")
            wanted.append(name)
        with self.lock:
            self.registry.set_meta("dirty", "1")
            for name in wanted:
                self._drop(name)
            self.keyword.apply()
            self.written()
            self.registry.set_meta("dirty", "0")
        return wanted
