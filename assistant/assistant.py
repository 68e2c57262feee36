"""The public Python API: Assistant.open(home) -> ingest / retrieve / ask."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from assistant.answer import ExtractiveAnswerer
from assistant.chat_models import BackendError, ChatModel, check_mode, open_chat_model
from assistant.followup import previous_questions, rewrite_followup, rewrite_with_model
from assistant.embeddings import SentenceTransformerEmbedder, open_embedder
from assistant.errors import AssistantError, ModelError, QuestionError, SettingsError
from assistant.crosslingual import Dictionary
from assistant.keyword import BM25Index, Tokenizer, quoted_terms
from assistant.memory import release_free_memory
from assistant.query import Query, analyse
from assistant.registry import DocumentRecord, Registry
from assistant.results import Answer, IngestReport, Passage
from assistant.retrieval import Retriever
from assistant.settings import Settings
from assistant.store import VectorRecord, open_store
from ingest.chunking import Chunk, chunk_document, sentence_windows
from ingest.clean import clean_text
from ingest.documents import Document, prepare_documents
from ingest.loaders import LoadError, check_file, discover, load

_NO_VECTOR = np.zeros(0, dtype=np.float32)
# Bump when cleaning or chunking changes what a file becomes: files are then re-ingested.
PIPELINE_VERSION = 1

# Called as progress(done, total, source) while ingesting.
Progress = Callable[[int, int, str], None]


def file_sha256(path: Path) -> str:
    """Content hash of a file, read in blocks so a large file never sits in memory whole."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _WriterLock:
    """One writer per knowledge base: a thread lock for this process plus an flock for other processes."""

    def __init__(self, path: Path):
        self._thread_lock = threading.Lock()
        self._path = path
        self._fh = None

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            self._fh = open(self._path, "a+")
            try:
                fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._fh.close()
                raise AssistantError(
                    f"another process is writing to this knowledge base ({self._path.parent}); "
                    "wait for its ingestion to finish and try again"
                ) from None
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()
        self._thread_lock.release()


def source_name(path: Path) -> str:
    """How a file is known in the index: its absolute path with symlinks resolved."""
    return str(Path(path).resolve())


class Assistant:
    """A knowledge base on disk and the means to ask it questions.

    Open it with `Assistant.open(home)`. It is safe to ask from several threads, also while an
    ingestion runs: questions are answered from the index as it stands (vectors of each file as
    soon as it is written, keyword search for the whole batch when it ends). One process writes
    at a time.
    """

    def __init__(self, settings: Settings, embedder: SentenceTransformerEmbedder | None = None):
        self.settings = settings
        kb_dir = settings.kb_dir
        kb_dir.mkdir(parents=True, exist_ok=True)
        self.registry = Registry(kb_dir / "registry.sqlite")
        self.store = open_store(kb_dir / "chroma", f"kb_{settings.kb}", settings.chroma_url, settings.chroma_headers)
        self.embedder = embedder or open_embedder(settings)
        self._check_model()
        terms = (self.registry.get_meta("terms") or "").split("\n")
        self.tokenizer = Tokenizer(t for t in terms if t)
        self.bm25 = BM25Index(kb_dir / "bm25")
        self.dictionary = Dictionary.bundled()  # parsed lazily, on the first English question
        self._write_lock = _WriterLock(kb_dir / "write.lock")
        self._sync_if_stale()  # server mode: catch up with other app instances first
        if self.registry.get_meta("dirty") == "1":
            self._reconcile()
        self._refresh_keyword_index()
        self.answerer = ExtractiveAnswerer(
            evidence_floor=settings.evidence_floor, max_sentences=settings.answer_max_sentences,
            max_chars=settings.answer_max_chars,
        )
        self._chat_models: dict[str, ChatModel] = {}  # built on first use, one per mode
        self._chat_lock = threading.Lock()

    @property
    def _pipeline_tag(self) -> str:
        """What a file's chunks depend on besides its bytes: re-ingesting after a change redoes them."""
        s = self.settings
        key = f"{PIPELINE_VERSION}:{s.chunk_size}:{s.chunk_overlap}:{s.window_chars}:{self.embedder.name}"
        return hashlib.sha1(key.encode()).hexdigest()[:8]

    @classmethod
    def open(cls, home: str | Path | None = None, **overrides) -> "Assistant":
        """Open (creating if needed) the knowledge base under `home`.

        Args:
            home: folder holding the index and prepared models; None means ASSISTANT_HOME or the default.
            **overrides: settings fields by name (e.g. `top_k=8`, `kb="finance"`).
        """
        return cls(Settings.load(home, **overrides))

    def close(self) -> None:
        """Close the registry and stop the local model server, if one was started."""
        for chat in self._chat_models.values():
            server = getattr(chat, "server", None)
            if server is not None:
                server.stop()
            close = getattr(chat, "close", None)
            if close:
                close()
        self._chat_models.clear()
        self.registry.close()

    def __enter__(self) -> "Assistant":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- set-up -----------------------------------------------------------------------------
    def _check_model(self) -> None:
        """Refuse to mix vectors of two embedding models in one knowledge base."""
        recorded = self.registry.get_meta("embedding_model")
        if recorded is None or self.store.count() == 0:
            self.registry.set_meta("embedding_model", self.embedder.name)
        elif recorded != self.embedder.name:
            raise ModelError(
                f"this knowledge base was indexed with the embedding model {recorded!r}, but {self.embedder.name!r} "
                "is configured. Configure the same model again, or ingest into a new knowledge base (--kb NAME)."
            )

    @property
    def retriever(self) -> Retriever:
        s = self.settings
        return Retriever(
            embedder=self.embedder, store=self.store, bm25=self.bm25, tokenizer=self.tokenizer,
            registry=self.registry, candidates=s.candidates, fusion=s.fusion, keyword_weight=s.keyword_weight,
            rrf_k=s.rrf_k, max_merged_chars=2 * s.chunk_size,
        )

    def _refresh_keyword_index(self, force: bool = False) -> None:
        """Load the saved BM25 index, or rebuild it from the registry's tokens when it is stale."""
        signature = BM25Index.signature_of(self.registry.complete_chunk_ids())
        fresh = BM25Index(self.bm25.folder)
        if not force and fresh.load() and fresh.signature == signature:
            self.bm25 = fresh
            return
        release_free_memory()  # the batch's temporaries: the build's arrays must not come on top of them
        for _ in range(3):
            try:
                fresh.build(self.registry.iter_tokens)  # read twice, a page at a time (see BM25Index.build)
                break
            except RuntimeError:  # another process wrote between the two reads: read again
                continue
        else:  # it keeps writing: index one snapshot, held in memory while building
            fresh.build(list(self.registry.iter_tokens()))
        fresh.save()
        self.bm25 = fresh  # one assignment: concurrent searches see the old or the new index whole
        release_free_memory()  # the build's temporaries and the old index

    def _reconcile(self) -> None:
        """Make the vector store agree with the registry after an ingestion that may have been killed.

        Vectors no registry row refers to are deleted, and so are the (possibly partial) vectors of
        documents still marked incomplete: those stay listed by `incomplete()` until re-ingested.
        """
        known = set(self.registry.complete_chunk_ids())
        stray = sorted(self.store.chunk_ids() - known)
        if stray:
            self.store.delete_chunks(stray)
        self.registry.set_meta("dirty", "0")

    # -- ingestion --------------------------------------------------------------------------
    def ingest(self, paths: str | Path | Iterable[str | Path], progress: Progress | None = None,
               prune: bool = False) -> IngestReport:
        """Add files or folders to the knowledge base; unchanged files are skipped, changed ones replaced.

        A file that cannot be read is reported in `failed` with the reason and skipped; the rest of
        the batch and the existing index are untouched. Content already indexed under another path
        is reported in `duplicates` and stored once. With `prune`, documents that were ingested from
        one of the given folders but are no longer in it are removed. Questions asked meanwhile
        are answered from the index as it stands; keyword search sees the batch when it ends.
        """
        started = time.perf_counter()
        if isinstance(paths, (str, Path)):
            paths = [paths]
        paths = [Path(p) for p in paths]
        files, skipped = discover(paths)
        report = IngestReport()
        for p, reason in skipped:
            # A path the user named that does not exist is an error; an unsupported file is not.
            (report.failed if reason.startswith("no such file") else report.skipped).append((str(p), reason))
        with self._write_lock:
            generation = self._stale_generation()
            if generation:  # never write over a registry that does not know the store's content
                self._sync_from_store(generation)
            # Stays "1" if this batch dies half-way (an exception or a kill); the next open then
            # reconciles the vector store with the registry (see _reconcile).
            self.registry.set_meta("dirty", "1")
            try:
                terms_before = set(self.tokenizer.terms)
                changed = False
                for done, path in enumerate(files, 1):
                    source = source_name(path)
                    if progress:
                        progress(done - 1, len(files), source)
                    outcome = self._ingest_file(path, report)
                    changed |= outcome in ("added", "updated", "duplicate")
                    if outcome in ("added", "updated", "unchanged"):
                        getattr(report, outcome).append(source)
                if prune:
                    report.removed = self._prune(paths, {source_name(f) for f in files})
                    changed |= bool(report.removed)
                if progress:
                    progress(len(files), len(files), "")
                if changed:
                    retokenized = self.tokenizer.terms != terms_before
                    if retokenized:
                        self._retokenize_all()
                    self._refresh_keyword_index(force=retokenized)
                    self._written()
            except BaseException:
                # The store failed under us (disk full, server gone): put it back in line with
                # the registry now if we can; otherwise the dirty flag makes the next open do it.
                with contextlib.suppress(Exception):
                    self._reconcile()
                    self._refresh_keyword_index()
                raise
            self.registry.set_meta("dirty", "0")
        report.seconds = time.perf_counter() - started
        return report

    def _written(self) -> None:
        """Stamp the store after a write, so other app instances sharing it know to resync."""
        self.registry.set_meta("store_generation", self.store.bump_generation())

    def _stale_generation(self) -> str | None:
        """In server mode, the store's generation when another app instance wrote since we last looked."""
        if not self.settings.chroma_url:
            return None  # embedded: this folder's registry is the authority (see _reconcile)
        generation = self.store.generation()
        if generation and generation != self.registry.get_meta("store_generation"):
            return generation
        return None

    def _sync_if_stale(self) -> None:
        """In server mode, rebuild the local registry and BM25 index when another instance wrote to the store."""
        if self._stale_generation():
            with self._write_lock:
                generation = self._stale_generation()  # it may have been done while we waited
                if generation:
                    self._sync_from_store(generation)

    def _sync_from_store(self, generation: str) -> None:
        """Rebuild registry and BM25 from the chunk texts and metadata the Chroma server holds."""
        by_doc: dict[str, list[tuple[str, str, dict]]] = {}
        for chunk_id, text, meta in self.store.chunk_records():
            by_doc.setdefault(meta["doc_id"], []).append((chunk_id, text, meta))
        by_source: dict[str, list[tuple[Document, list[Chunk], dict]]] = {}
        for doc_id, rows in by_doc.items():
            rows.sort(key=lambda r: r[2]["start"])
            meta = rows[0][2]
            length = max(r[2]["end"] for r in rows)
            buffer = ["\n"] * length  # gaps between chunks are line breaks of the cleaned text
            for _, text, m in rows:
                buffer[m["start"] : m["end"]] = list(text)
            doc = Document(doc_id, meta["source"], meta["title"], "".join(buffer), meta["format"],
                           meta["collection"] or None)
            chunks = [Chunk(cid, doc_id, m["index"], m["start"], m["end"], text, m["section"],
                            None if m["page"] < 0 else m["page"], "") for cid, text, m in rows]
            by_source.setdefault(meta["source"], []).append((doc, chunks, meta))
        for doc, _, _ in (item for items in by_source.values() for item in items):
            self.tokenizer.add_terms(quoted_terms(doc.text))
        self.registry.clear()
        for source, items in by_source.items():
            docs = [doc for doc, _, _ in items]
            chunks = {doc.doc_id: chunks for doc, chunks, _ in items}
            tokens = {c.chunk_id: self.tokenizer.tokenize(_keyword_text(c)) for cs in chunks.values() for c in cs}
            meta = items[0][2]
            # a document the store holds only part of was cut short by a crash: re-ingesting completes it
            complete = all(len(cs) == m["doc_chunks"] for (_, cs, m) in items)
            self.registry.put_source(source, meta["file_hash"], docs, chunks, tokens, meta["ingested_at"], complete)
        self.registry.set_meta("terms", "\n".join(sorted(self.tokenizer.terms)))
        self.registry.set_meta("store_generation", generation)
        self._refresh_keyword_index(force=True)

    def _prune(self, paths: list[Path], present: set[str]) -> list[str]:
        """Delete the documents of sources under the given folders that the walk no longer found."""
        folders = [source_name(p) for p in paths if p.is_dir()]
        gone = [
            s for s in self.registry.sources()
            if s not in present and any(s.startswith(folder.rstrip("/") + "/") for folder in folders)
        ]
        for source in gone:
            self.store.delete_chunks(self.registry.delete_source(source))
        return gone

    def delete(self, sources: str | Path | Iterable[str | Path]) -> list[str]:
        """Remove documents by source path (as listed by `documents()`); returns the sources removed.

        Raises:
            AssistantError: a path that is not in the knowledge base (nothing is removed then).
        """
        if isinstance(sources, (str, Path)):
            sources = [sources]
        self._sync_if_stale()
        known = set(self.registry.sources())
        wanted = []
        for source in sources:
            name = str(source) if str(source) in known else source_name(Path(source))
            if name not in known:
                raise AssistantError(f"{source} is not in the knowledge base; `python -m assistant list` shows what is")
            wanted.append(name)
        with self._write_lock:
            self.registry.set_meta("dirty", "1")
            for name in wanted:
                self.store.delete_chunks(self.registry.delete_source(name))
            self._refresh_keyword_index()
            self._written()
            self.registry.set_meta("dirty", "0")
        return wanted

    def incomplete(self) -> list[DocumentRecord]:
        """Documents whose ingestion was interrupted; ingesting their files again completes them."""
        return [d for d in self.registry.documents() if not d.complete]

    def stats(self) -> dict:
        """Counts and sizes of the knowledge base."""
        docs = self.registry.documents()
        size = sum(f.stat().st_size for f in self.settings.kb_dir.rglob("*") if f.is_file())
        return {
            "kb": self.settings.kb, "home": str(self.settings.home), "sources": len({d.source for d in docs}),
            "documents": len(docs), "chunks": sum(d.n_chunks for d in docs), "vectors": self.store.count(),
            "incomplete": sum(not d.complete for d in docs), "embedding_model": self.embedder.name,
            "disk_bytes": size,
        }

    def _ingest_file(self, path: Path, report: IngestReport) -> str:
        source = source_name(path)
        try:
            check_file(path, self.settings.max_file_mb * 1024 * 1024)  # size and type before reading anything
            file_hash = f"{file_sha256(path)}/{self._pipeline_tag}"
            if self.registry.file_hash(source) == file_hash:
                return "unchanged"
            holders = [s for s in self.registry.sources_with_hash(file_hash) if s != source and Path(s).exists()]
            if holders:
                if self.registry.documents(source):  # this path used to hold other content
                    self.store.delete_chunks(self.registry.delete_source(source))
                report.duplicates.append((source, holders[0]))
                return "duplicate"
            raw = load(path, max_bytes=self.settings.max_file_mb * 1024 * 1024)
            docs = prepare_documents(raw)
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
        existed = self.registry.file_hash(source) is not None  # an interrupted earlier try does not count
        self.index_documents(source, file_hash, docs)
        report.chunks_added += self.registry.count_chunks_of_source(source)
        return "updated" if existed else "added"

    def index_documents(self, source: str, file_hash: str, docs: list[Document],
                        chunks: dict[str, list[Chunk]] | None = None) -> None:
        """Replace the indexed content of `source` by these documents (chunked here unless given).

        The registry is written first, marked incomplete, then the vectors, then the mark is
        cleared: a crash in between leaves an incomplete document that the next run redoes.
        """
        s = self.settings
        if chunks is None:
            chunks = {
                d.doc_id: chunk_document(d.doc_id, d.text, size=s.chunk_size, overlap=s.chunk_overlap,
                                         page_starts=d.page_starts)
                for d in docs
            }
        for doc in docs:
            self.tokenizer.add_terms(quoted_terms(doc.text))
        all_chunks = [c for d in docs for c in chunks[d.doc_id]]
        tokens = {c.chunk_id: self.tokenizer.tokenize(_keyword_text(c)) for c in all_chunks}
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        doc_meta = {
            d.doc_id: {"title": d.title, "collection": d.collection or "", "format": d.format, "file_hash": file_hash,
                       "ingested_at": now, "doc_chunks": len(chunks[d.doc_id])}
            for d in docs
        }
        records = self._vector_records(source, all_chunks, doc_meta)
        vectors = self.embedder.encode_passages([r.text for r in records])
        records = [replace(r, vector=v) for r, v in zip(records, vectors)]
        old_ids = set(self.registry.chunk_ids_of_source(source))
        self.registry.put_source(source, file_hash, docs, chunks, tokens, now, complete=False)
        self.store.add(records)
        stale = sorted(old_ids - {c.chunk_id for c in all_chunks})
        if stale:
            self.store.delete_chunks(stale)
        self.registry.mark_complete(source)
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
            chunks[pid] = [Chunk(chunk_id=pid, doc_id=pid, index=0, start=0, end=len(text), text=text,
                                 section="", page=None, content_hash=hashlib.sha1(text.encode()).hexdigest())]
        with self._write_lock:
            terms_before = set(self.tokenizer.terms)
            self.index_documents(source, digest, docs, chunks)
            retokenized = self.tokenizer.terms != terms_before
            if retokenized:
                self._retokenize_all()
            self._refresh_keyword_index(force=retokenized)

    def _vector_records(self, source: str, chunks: list[Chunk], doc_meta: dict[str, dict]) -> list[VectorRecord]:
        """The vectors of each chunk to embed: the whole chunk, plus its sentence windows when it has several.

        Their metadata holds everything another app instance needs to rebuild its registry from
        the store (see `_sync_from_store`).
        """
        records = []
        for c in chunks:
            meta = {**doc_meta[c.doc_id], "doc_id": c.doc_id, "source": source, "section": c.section,
                    "index": c.index, "start": c.start, "end": c.end, "page": c.page if c.page is not None else -1}
            records.append(VectorRecord(c.chunk_id, c.chunk_id, "chunk", c.text, _NO_VECTOR, meta))
            windows = sentence_windows(c.text, self.settings.window_chars)
            if len(windows) > 1:
                for j, (s, e) in enumerate(windows):
                    records.append(VectorRecord(f"{c.chunk_id}:{j}", c.chunk_id, "window", c.text[s:e], _NO_VECTOR,
                                                {**meta, "start": c.start + s, "end": c.start + e}))
        return records

    def _retokenize_all(self) -> None:
        """New domain terms change how text is cut: re-tokenise every chunk so queries and index agree."""
        for doc in self.registry.documents():
            text = self.registry.document_text(doc.doc_id) or ""
            records = self.registry.chunks_of_document(doc.doc_id)
            self.registry.set_tokens({
                r.chunk_id: self.tokenizer.tokenize(_keyword_text_of(r.section, text[r.start:r.end]))
                for r in records
            })

    # -- questions --------------------------------------------------------------------------
    def _check_question(self, question: str) -> str:
        if not isinstance(question, str):
            raise QuestionError("the question must be text")
        question = question.strip()
        try:
            question.encode("utf-8")
        except UnicodeEncodeError:
            raise QuestionError(
                "the question contains characters that are not valid text (broken Unicode); type it again"
            ) from None
        if not question:
            raise QuestionError("the question is empty: type a question, e.g. 机关是怎样落实在职党员“双报到”制度的？")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"the question is {len(question)} characters long; the limit is {self.settings.max_question_chars}. "
                "Ask a shorter question (or raise ASSISTANT_MAX_QUESTION_CHARS)."
            )
        return question

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The k best passages for a question (hybrid dense + BM25), best first."""
        query = self.analyse(self._check_question(question))
        self._sync_if_stale()
        return self.retriever.search(query.text, k or self.settings.top_k, tokens=query.tokens, weights=query.weights)

    def analyse(self, question: str) -> Query:
        """The question's language, keyword tokens (English words translated) and concepts."""
        return analyse(question, self.tokenizer, self.bm25, self.dictionary)

    def chat_model(self, mode: str) -> ChatModel:
        """The chat model of an answer mode, built on first use (the local server starts then)."""
        with self._chat_lock:
            if mode not in self._chat_models:
                self._chat_models[mode] = open_chat_model(self.settings, mode)
            return self._chat_models[mode]

    def standalone(self, question: str, history: Sequence | None = None, mode: str | None = None) -> str:
        """The question rewritten to stand alone, given the earlier questions of the conversation.

        Extractive mode rewrites by rules; the chat-model modes ask the model (prompt `rewrite`)
        and keep its rewrite only when it passes a sanity check. Without history: the question.
        """
        earlier = previous_questions(history)
        if not earlier:
            return question
        mode = check_mode(mode or self.settings.answer_mode)
        if mode == "extractive":
            return rewrite_followup(question, earlier)
        try:
            return rewrite_with_model(self.chat_model(mode), question, earlier)
        except (BackendError, ModelError, SettingsError):
            # The chat model is down or not set up: rewrite by rules, so that a question retrieval
            # refuses still needs no model; an answerable one reports the error when generating.
            return rewrite_followup(question, earlier)

    def ask(self, question: str, k: int | None = None, history: Sequence | None = None,
            mode: str | None = None) -> Answer:
        """An answer built only from the documents, with [n] citations, or a refusal that says so.

        Args:
            question: in Chinese or English (or mixed).
            k: passages to draw the answer from (default: settings.top_k).
            history: earlier turns of the conversation (questions; (question, answer) pairs; or
                {"role", "content"} messages): a follow-up is rewritten into a standalone question
                first, and `Answer.searched` says what was searched.
            mode: "extractive" (no language model), "openai", "ollama" or "local"; default settings.answer_mode.

        Raises:
            QuestionError: an empty or over-long question.
            BackendError: the chat model is unreachable or failed (chat-model modes only).
        """
        result = None
        for item in self.stream(question, history=history, mode=mode, k=k):
            result = item
        assert isinstance(result, Answer)
        return result

    def stream(self, question: str, history: Sequence | None = None, mode: str | None = None,
               k: int | None = None) -> Iterator[str | Answer]:
        """ask(), yielding the answer's text as it is written and, last, the full Answer.

        Extractive answers come whole (one text piece, then the Answer). With a chat model the
        pieces are the model's raw words; the final Answer's text has its citations verified
        (markers corrected, unsupported sentences flagged), so show that one when it arrives.
        """
        started = time.perf_counter()
        mode = check_mode(mode or self.settings.answer_mode)
        question = self._check_question(question)
        searched = self.standalone(question, history, mode)
        query = self.analyse(searched)
        self._sync_if_stale()
        top_k = k or self.settings.top_k
        passages = self.retriever.search(query.text, top_k, tokens=query.tokens, weights=query.weights)
        if mode == "extractive":
            answer = self.answerer.answer(query, passages)
            answer.mode = mode
            yield answer.text
        else:
            from assistant.generate import GenerativeAnswerer

            answerer = GenerativeAnswerer(
                self.chat_model(mode), self.embedder, mode=mode, evidence_floor=self.settings.evidence_floor,
                max_tokens=self.settings.llm_max_tokens, concepts=lambda text: self.analyse(text).concepts,
            )
            answer = None
            for item in answerer.stream(query, passages):
                if isinstance(item, Answer):
                    answer = item
                else:
                    yield item
            assert answer is not None
        answer.question = question
        answer.searched = query.text
        answer.seconds = time.perf_counter() - started
        yield answer

    def answer_with_passages(self, question: str, k: int | None = None,
                             use: int | None = None) -> tuple[Answer, list[Passage]]:
        """ask(), also returning the ranked passages: k of them, of which the answer uses the first `use`."""
        started = time.perf_counter()
        query = self.analyse(self._check_question(question))
        self._sync_if_stale()
        top_k = use or self.settings.top_k
        passages = self.retriever.search(query.text, max(k or top_k, top_k), tokens=query.tokens, weights=query.weights)
        answer = self.answerer.answer(query, passages[:top_k])
        answer.searched = query.text
        answer.seconds = time.perf_counter() - started
        return answer, passages

    # -- inspection -------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        """Every indexed document (articles of a compilation separately)."""
        return self.registry.documents()

    def chunk_text(self, chunk_id: str) -> str:
        """The text of one chunk (empty when the chunk is unknown)."""
        record = self.registry.chunks([chunk_id]).get(chunk_id)
        if record is None:
            return ""
        return (self.registry.document_text(record.doc_id) or "")[record.start : record.end]

    def document_text(self, doc_id: str) -> str | None:
        """The cleaned text of a document: the text every offset of its passages refers to."""
        return self.registry.document_text(doc_id)


def _keyword_text_of(section: str, text: str) -> str:
    # The section heading goes into the keyword index with the chunk: a chunk in the middle of
    # "保密工作" should match the word even when its own sentences no longer repeat it.
    return f"{section}\n{text}" if section else text


def _keyword_text(chunk: Chunk) -> str:
    return _keyword_text_of(chunk.section, chunk.text)


__all__: Sequence[str] = ["Assistant"]
