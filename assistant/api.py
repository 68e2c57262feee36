"""The public Python API: Assistant.open(home) -> ingest / retrieve / ask, a thin facade over the packages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answering.background import Background
from assistant.answering.evidence import Thresholds
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.framing import FRAMING
from assistant.errors import ModelError
from assistant.kb.bm25 import BM25Index
from assistant.kb.indexer import Indexer
from assistant.kb.keyword import Tokenizer
from assistant.kb.progress import Progress, TextProgress
from assistant.kb.registry import DocumentRecord, Registry
from assistant.kb.stats import knowledge_base_stats
from assistant.kb.supersession import Supersession
from assistant.kb.vectors import open_store
from assistant.models.chat import LANGCHAIN_MODE, ChatModel, check_mode, open_chat_model
from assistant.models.embeddings import Embedder, open_embedder
from assistant.models.generation_queue import Queued, Stop
from assistant.results import Answer, IngestReport, Passage, Stage
from assistant.retrieval.crosslingual import Dictionary
from assistant.retrieval.decompose import interleave, subquestions
from assistant.retrieval.filters import Filters, allowed_documents, nothing_matched
from assistant.retrieval.followup_learned import LearnedFollowups
from assistant.retrieval.hybrid import Retriever
from assistant.retrieval.query import Query, analyse, checked_question
from assistant.retrieval.standalone import StandaloneQuestions
from assistant.settings import Settings
from assistant.text import is_english
from ingest.metadata import SCAN_CHARS, issuing_office

if TYPE_CHECKING:
    from assistant.integrations.langchain import AssistantRunnable, KnowledgeBaseRetriever


class Assistant:
    """A knowledge base on disk and the means to ask it questions.

    Open it with `Assistant.open(home)`. It is safe to ask from several threads, also while an
    ingestion runs: questions are answered from the index as it stands (vectors of each file as
    soon as it is written, keyword search for the whole batch when it ends). One process writes
    at a time.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None, chat_model: Any = None):
        """Open the knowledge base of `settings`.

        Args:
            settings: where the knowledge base lives and how it answers.
            embedder: an embedding model already loaded (e.g. another Assistant's `embedder`), to
                share it; None loads the configured one.
            chat_model: a LangChain chat model (any `BaseChatModel`, e.g. `ChatOpenAI(...)`): adds the
                answer mode "langchain", which then is the default mode (see `answer_mode`).
        """
        self.settings = settings
        kb_dir = settings.kb_dir
        kb_dir.mkdir(parents=True, exist_ok=True)
        self.registry = Registry(kb_dir / "registry.sqlite")
        self.store = open_store(
            kb_dir / "chroma",
            f"kb_{settings.kb}",
            settings.chroma_url,
            settings.chroma_headers.get_secret_value(),
            window_vectors=settings.window_vectors,
        )
        self.embedder = embedder or open_embedder(settings)
        self._check_model()
        self.index = Indexer(settings, self.registry, self.store, self.embedder)
        self.supersession = Supersession(self.registry.documents, self.registry.chunk_signature)
        self.dictionary = Dictionary.bundled()  # parsed lazily, on the first English question
        self.background = Background(self.embedder, settings.models_dir / "background")
        self.answerer = ExtractiveAnswerer(
            thresholds=Thresholds.of(settings),
            unseen_idf=lambda: self.index.bm25.term_idf("\uffff"),
            max_sentences=settings.answer_max_sentences,
            max_chars=settings.answer_max_chars,
            # Only the opening is read: an answer asks for the office of each sentence it considers.
            office_of=lambda doc_id: issuing_office(self.registry.document_text(doc_id, SCAN_CHARS) or ""),
            span_similarity=lambda question, passages: self.retriever.span_similarities(question, passages),
            background=self.background.similarity,
        )
        # Whether a question needs its history: the classifier trained for this embedding model where it is sure,
        # the rules elsewhere (None for another embedding model: the rules decide alone).
        self.followups = LearnedFollowups.for_embedder(self.embedder)
        self.standalone_questions = StandaloneQuestions(self.followups, self.chat_model)
        self._chat_models: dict[str, ChatModel] = {}  # built on first use, one per mode
        self._chat_lock = threading.Lock()
        if chat_model is not None:
            from assistant.integrations.langchain import LangChainChat

            self._chat_models[LANGCHAIN_MODE] = LangChainChat(chat_model)

    @property
    def bm25(self) -> BM25Index:
        """The keyword index as it stands: a snapshot, replaced whole when an ingestion or deletion ends."""
        return self.index.bm25

    @property
    def tokenizer(self) -> Tokenizer:
        return self.index.tokenizer

    @property
    def answer_mode(self) -> str:
        """The mode questions are answered in when none is given: "langchain" when a LangChain chat
        model was given, settings.answer_mode otherwise."""
        return LANGCHAIN_MODE if LANGCHAIN_MODE in self._chat_models else self.settings.answer_mode

    @classmethod
    def open(
        cls, home: str | Path | None = None, *, chat_model: Any = None, embedder: Embedder | None = None, **overrides
    ) -> Assistant:
        """Open (creating if needed) the knowledge base under `home`.

        Args:
            home: folder holding the index and prepared models; None means ASSISTANT_HOME or the default.
            chat_model: a LangChain chat model (any `BaseChatModel`): answers in mode "langchain", the default then.
            embedder: an embedding model already loaded, to share it (None: load the configured one).
            **overrides: settings fields by name (e.g. `top_k=8`, `kb="finance"`).
        """
        return cls(Settings.load(home, **overrides), embedder=embedder, chat_model=chat_model)

    def close(self) -> None:
        """Close the registry and stop the local model server, if one was started."""
        for chat in self._chat_models.values():
            chat.close()  # the local model's chat also stops its server
        self._chat_models.clear()
        self.registry.close()
        self.store.close()

    def __enter__(self) -> Assistant:
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
            embedder=self.embedder,
            store=self.store,
            bm25=self.index.bm25,
            tokenizer=self.index.tokenizer,
            registry=self.registry,
            candidates=s.candidates,
            fusion=s.fusion,
            keyword_weight=s.keyword_weight,
            rrf_k=s.rrf_k,
            max_merged_chars=2 * s.chunk_size,
            supersession=self.supersession,
            window_chars=s.window_chars,
        )

    # -- writing ----------------------------------------------------------------------------
    def ingest(
        self,
        paths: str | Path | Iterable[str | Path],
        progress: Progress | None = None,
        prune: bool = False,
        on_text: TextProgress | None = None,
    ) -> IngestReport:
        """Add files or folders to the knowledge base; unchanged files are skipped, changed ones replaced.

        A file that cannot be read is reported in `failed` with the reason and skipped; the rest of
        the batch and the existing index are untouched. Content already indexed under another path
        is reported in `duplicates` and stored once. With `prune`, documents that were ingested from
        one of the given folders but are no longer in it are removed. Questions asked meanwhile
        are answered from the index as it stands; keyword search sees the batch when it ends.
        `progress(done, total, source)` is called per file (and per OCR'd page), `on_text(embedded, expected)`
        as characters are embedded (for a rate and an ETA).
        """
        started = time.perf_counter()
        if isinstance(paths, (str, Path)):
            paths = [paths]
        report = self.index.ingest([Path(p) for p in paths], progress, prune, on_text)
        report.seconds = time.perf_counter() - started
        return report

    def index_passages(self, source: str, corpus: dict[str, dict]) -> None:
        """Index ready-made passages (id -> {"title", "text"}) as one chunk each, e.g. a BEIR corpus."""
        self.index.index_passages(source, corpus)

    def delete(self, sources: str | Path | Iterable[str | Path]) -> list[str]:
        """Remove documents by source path (as listed by `documents()`); returns the sources removed.

        Raises:
            AssistantError: a path that is not in the knowledge base (nothing is removed then).
        """
        if isinstance(sources, (str, Path)):
            sources = [sources]
        return self.index.delete(sources)

    # -- questions --------------------------------------------------------------------------
    def retrieve(self, question: str, k: int | None = None, filters: dict | Filters | None = None) -> list[Passage]:
        """The k best passages for a question (hybrid dense + BM25), best first; with `filters` ({"office",
        "doc_type", "since", "until"}, see `Filters`) only of the documents they admit, [] if none."""
        query = self.analyse(checked_question(question, self.settings.max_question_chars))
        wanted = Filters.parse(filters)
        self.index.sync_if_stale()
        # Every document's record only when a filter needs them: reading them costs ~140 ms at 20k documents.
        allowed = allowed_documents(wanted, self.registry.documents()) if wanted is not None else None
        return self.retriever.search_query(query, k or self.settings.top_k, allowed)

    def passages_for(self, query: Query, k: int, allowed: list[str] | None = None) -> list[Passage]:
        """The passages an answer draws on: the k best, or, for a question about each of several
        subjects ("A和B分别…"), the k best of each subject's own search taken in turn."""
        parts = subquestions(query.text)
        if not parts:
            return self.retriever.search_query(query, k, allowed)
        return interleave(
            [self.retriever.search_query(sub, k, allowed) for sub in map(self.analyse, parts)], k * len(parts)
        )

    def analyse(self, question: str) -> Query:
        """The question's language, keyword tokens (English words translated) and concepts."""
        return analyse(question, self.index.tokenizer, self.index.bm25, self.dictionary)

    def chat_model(self, mode: str) -> ChatModel:
        """The chat model of an answer mode, built on first use (the local server starts then).

        Mode "langchain" is the LangChain chat model given to `open` (a SettingsError without one).
        """
        with self._chat_lock:
            if mode not in self._chat_models:
                self._chat_models[mode] = open_chat_model(self.settings, mode)
            return self._chat_models[mode]

    def standalone(self, question: str, history: Sequence | None = None, mode: str | None = None) -> str:
        """The question rewritten to stand alone, given the earlier questions of the conversation (see
        `StandaloneQuestions`); a complete question, or one without history, comes back as typed."""
        return self.standalone_questions.rewrite(question, history, check_mode(mode or self.answer_mode))

    def ask(
        self,
        question: str,
        k: int | None = None,
        history: Sequence | None = None,
        mode: str | None = None,
        filters: dict | Filters | None = None,
        stop: Stop | None = None,
    ) -> Answer:
        """An answer built only from the documents, with [n] citations, or a refusal that says so.

        Args:
            question: in Chinese or English (or mixed).
            k: passages to draw the answer from (default: settings.top_k).
            history: earlier turns of the conversation (questions; (question, answer) pairs; or
                {"role", "content"} messages): a follow-up is rewritten into a standalone question
                first, and `Answer.searched` says what was searched.
            mode: "extractive" (no language model), "openai", "ollama", "local", or "langchain" (the chat
                model given to `open`); default `answer_mode`.
            filters: only documents these admit are searched (see `retrieve`); when none is, a refusal saying so.
            stop: set from another thread, it stops the chat model writing (see `stream`).

        Raises:
            QuestionError: an empty or over-long question, or a bad filter.
            BackendError: the chat model is unreachable or failed (chat-model modes only).
            QueueFull: the local model has too many questions waiting (`llm_max_waiting`).
            Cancelled: `stop` was set before the answer was finished.
        """
        result = None
        for item in self.stream(question, history=history, mode=mode, k=k, filters=filters, stop=stop):
            result = item
        assert isinstance(result, Answer)
        return result

    def stream(
        self,
        question: str,
        history: Sequence | None = None,
        mode: str | None = None,
        k: int | None = None,
        filters: dict | Filters | None = None,
        on_stage: Callable[[Stage], None] | None = None,
        stop: Stop | None = None,
        queue_status: bool = False,
    ) -> Iterator[str | Queued | Answer]:
        """ask(), yielding the answer's text as it is written and, last, the full Answer.

        Extractive answers come whole (one text piece, then the Answer). With a chat model the
        pieces are the model's raw words; the final Answer's text has its citations verified
        (markers corrected, unsupported sentences flagged), so show that one when it arrives.
        `on_stage`, when given, is called with Stage.SEARCHING first and Stage.GENERATING just
        before a chat model starts writing (a status line can say which, before any word arrives).
        The local model answers one question at a time: with `queue_status`, a waiting question
        yields `Queued(ahead)` first. `stop.set()` from any thread (or closing this generator) stops
        the model writing at once; the stream then raises `Cancelled`.
        """
        started = time.perf_counter()
        if on_stage:
            on_stage(Stage.SEARCHING)
        mode = check_mode(mode or self.answer_mode)
        question = checked_question(question, self.settings.max_question_chars)
        wanted = Filters.parse(filters)
        searched = self.standalone(question, history, mode)
        query = self.analyse(searched)
        self.index.sync_if_stale()
        top_k = k or self.settings.top_k
        allowed = allowed_documents(wanted, self.registry.documents()) if wanted is not None else None
        passages = self.passages_for(query, top_k, allowed)
        answer: Answer | None = None
        if (
            not self.registry.has_documents()
        ):  # not "the documents do not say": there are none yet, and the user can fix that
            answer = Answer(question, FRAMING["en" if is_english(question) else "zh"]["empty"], refused=True, mode=mode)
            yield answer.text
        elif wanted is not None and allowed == []:  # not "no answer in the documents": no document was searched
            answer = Answer(question, nothing_matched(wanted, is_english(question)), refused=True, mode=mode)
            yield answer.text
        elif mode == "extractive":
            answer = self.answerer.answer(query, passages)
            answer.mode = mode
            yield answer.text
        else:
            from assistant.answering.generative import GenerativeAnswerer

            answerer = GenerativeAnswerer(
                self.chat_model(mode),
                self.embedder,
                mode=mode,
                gate=self.answerer,
                max_tokens=self.settings.llm_max_tokens,
                concepts=lambda text: self.analyse(text).concepts,
                context=self.settings.llm_evidence,
            )
            if on_stage:
                on_stage(Stage.GENERATING)
            for item in answerer.stream(query, passages, stop=stop):
                if isinstance(item, Answer):
                    answer = item
                elif queue_status or not isinstance(item, Queued):
                    yield item
        assert answer is not None  # every answerer yields its Answer last
        answer.question = question
        answer.searched = query.text
        answer.seconds = time.perf_counter() - started
        yield answer

    # -- LangChain ----------------------------------------------------------------------------
    def as_retriever(self, k: int | None = None) -> KnowledgeBaseRetriever:
        """This knowledge base as a LangChain `BaseRetriever`: `invoke(question)` gives the k best
        passages as `Document`s (page_content = the passage, metadata = every other Passage field)."""
        from assistant.integrations.langchain import KnowledgeBaseRetriever

        return KnowledgeBaseRetriever(kb=self, k=k)

    def as_runnable(self, k: int | None = None, mode: str | None = None) -> AssistantRunnable:
        """ask() as a LangChain `Runnable`: a question (or {"question", "history"}) to an Answer;
        `.stream()` yields the text pieces, then the Answer."""
        from assistant.integrations.langchain import AssistantRunnable

        return AssistantRunnable(self, k=k, mode=check_mode(mode) if mode else None)

    def answer_with_passages(
        self, question: str, k: int | None = None, use: int | None = None
    ) -> tuple[Answer, list[Passage]]:
        """ask(), also returning the ranked passages: k of them, of which the answer uses the first `use`."""
        started = time.perf_counter()
        query = self.analyse(checked_question(question, self.settings.max_question_chars))
        self.index.sync_if_stale()
        top_k = use or self.settings.top_k
        passages = self.retriever.search_query(query, max(k or top_k, top_k))
        # The ranking is the one search's (what retrieval metrics measure); the answer draws on what ask() uses.
        answer = self.answerer.answer(
            query, self.passages_for(query, top_k) if subquestions(query.text) else passages[:top_k]
        )
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

    def incomplete(self) -> list[DocumentRecord]:
        """Documents whose ingestion was interrupted; ingesting their files again completes them."""
        return [d for d in self.registry.documents() if not d.complete]

    def stats(self) -> dict:
        """Counts and sizes of the knowledge base (see `knowledge_base_stats`)."""
        return knowledge_base_stats(self.settings, self.registry, self.store, self.embedder.name)


__all__: Sequence[str] = ["Assistant"]
