"""The knowledge base inside LangChain, and LangChain chat models inside the knowledge base.

- `KnowledgeBaseRetriever` (`kb.as_retriever(k=5)`): a `BaseRetriever` whose `Document`s are the
  passages (`page_content` = `Passage.text`, `metadata` = every other `Passage` field).
- `AssistantRunnable` (`kb.as_runnable()`): a `Runnable` from a question (or
  `{"question", "history"}`) to an `Answer`; `.stream()` yields the text pieces, then the Answer.
- `LangChainChat`: any LangChain chat model (`BaseChatModel`) behind the `ChatModel` protocol of
  assistant/models/chat.py, so it answers in mode "langchain" with the same grounding, citation
  verification and refusal gate as the built-in backends (`Assistant.open(home, chat_model=...)`).
- `format_documents`: the retriever's Documents as the numbered passages of the built-in prompt,
  for hand-written chains (`retriever | format_documents | prompt | llm`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableBinding, RunnableConfig
from langchain_core.runnables.config import run_in_executor

from assistant.errors import QuestionError, SettingsError
from assistant.models.chat import BackendError, Message
from assistant.models.generation_queue import Queued
from assistant.results import Answer, Passage

if TYPE_CHECKING:
    from assistant.api import Assistant


# -- the knowledge base as a retriever --------------------------------------------------------
def passage_document(passage: Passage) -> Document:
    """A passage as a LangChain Document: its text, and every other field as metadata."""
    metadata = asdict(passage)
    text = metadata.pop("text")
    return Document(page_content=text, metadata=metadata, id=passage.chunk_id or None)


def format_documents(documents: Sequence[Document]) -> str:
    """Documents numbered as the built-in answer prompt shows passages: "[n] 《title》 section" then the text."""
    blocks = []
    for n, doc in enumerate(documents, 1):
        title, section = doc.metadata.get("title") or "", doc.metadata.get("section") or ""
        head = f"[{n}] 《{title}》" + (f" {section}" if section else "")
        blocks.append(f"{head}\n{doc.page_content}")
    return "\n".join(blocks)


class KnowledgeBaseRetriever(BaseRetriever):
    """The knowledge base's hybrid (dense + BM25) search as a LangChain retriever.

    `invoke(question)` gives the `k` best passages, best first, as `Document`s (see `passage_document`).
    """

    kb: Any  # the Assistant (not a pydantic type)
    k: int | None = None  # None: the knowledge base's top_k setting

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [passage_document(p) for p in self.kb.retrieve(query, k=self.k)]


# -- the knowledge base's answers as a runnable ---------------------------------------------
def _history(history: Sequence | None) -> list | None:
    """LangChain messages in a history become {"role", "content"} dicts; other shapes pass as they are."""
    if history is None:
        return None
    return [
        {"role": "user" if turn.type == "human" else "assistant", "content": str(turn.text)}
        if isinstance(turn, BaseMessage)
        else turn
        for turn in history
    ]


def _unpack(value: Any) -> tuple[str, list | None]:
    if isinstance(value, str):
        return value, None
    if isinstance(value, Mapping) and "question" in value:
        return value["question"], _history(value.get("history"))
    shown = sorted(value) if isinstance(value, Mapping) else type(value).__name__
    raise QuestionError(f'the input must be a question (str) or {{"question": ..., "history": [...]}}; got {shown}')


class AssistantRunnable(Runnable[str | dict[str, Any], Answer]):
    """`Assistant.ask` as a LangChain Runnable; `stream` yields text pieces, then the Answer (last).

    Input: a question, or {"question": str, "history": [...]} where history takes what
    `Assistant.ask` takes (questions, (question, answer) pairs, {"role", "content"} dicts) or
    LangChain messages. A chat model in mode "langchain" runs as a child of this run, so its
    callbacks and traces nest under it.
    """

    name = "KnowledgeBaseAnswer"

    def __init__(self, kb: Assistant, *, k: int | None = None, mode: str | None = None):
        self.kb, self.k, self.mode = kb, k, mode

    def _ask(self, value: Any) -> Answer:
        question, history = _unpack(value)
        return self.kb.ask(question, k=self.k, history=history, mode=self.mode)

    def _pieces(self, values: Iterator[Any]) -> Iterator[str | Answer]:
        for value in values:
            question, history = _unpack(value)
            for item in self.kb.stream(question, history=history, mode=self.mode, k=self.k):
                if not isinstance(item, Queued):  # never yielded without queue_status; narrows the type
                    yield item

    def invoke(self, input: str | dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return self._call_with_config(self._ask, input, config)

    def stream(  # type: ignore[override]  # text pieces, then the Answer
        self, input: str | dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Generator[str | Answer, None, None]:
        yield from self._transform_stream_with_config(iter([input]), self._pieces, config)  # type: ignore[arg-type]

    async def astream(  # type: ignore[override]
        self, input: str | dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[str | Answer]:
        """stream() run in a worker thread, piece by piece (the knowledge base and models are synchronous)."""
        pieces = self.stream(input, config, **kwargs)
        try:
            while (piece := await run_in_executor(config, next, pieces, None)) is not None:
                yield piece
        finally:
            pieces.close()


# -- LangChain chat models as the answer backend --------------------------------------------
_MESSAGE = {
    "system": SystemMessage,
    "user": HumanMessage,
    "human": HumanMessage,
    "assistant": AIMessage,
    "ai": AIMessage,
}


def to_langchain_messages(messages: list[Message]) -> list[BaseMessage]:
    """{"role", "content"} dicts (system / user / assistant) as LangChain messages."""
    out = []
    for m in messages:
        kind = _MESSAGE.get(m.get("role", ""))
        if kind is None:
            raise ValueError(f"unknown chat role {m.get('role')!r}: expected system, user or assistant")
        out.append(kind(content=m.get("content") or ""))
    return out


def _text(chunk: Any) -> str:
    """The text of a streamed chunk: a message chunk's text blocks (reasoning left out), or an LLM's str."""
    if isinstance(chunk, str):
        return chunk
    if isinstance(chunk, BaseMessage):
        return str(chunk.text)
    return str(getattr(chunk, "content", "") or "")


def _model_name(model: Runnable) -> str:
    inner = model
    while isinstance(inner, RunnableBinding):
        inner = inner.bound
    for attribute in ("model_name", "model", "model_id"):
        value = getattr(inner, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(inner).__name__


def _max_tokens_field(model: Runnable) -> str | None:
    """ "max_tokens" when the model declares such a field (ChatOpenAI, ChatAnthropic, ChatMistralAI, …).

    Models that name the limit otherwise (ChatOllama's num_predict) or have none keep their own setting:
    an unknown keyword would go to their API and fail there.
    """
    inner = model
    while isinstance(inner, RunnableBinding):
        inner = inner.bound
    fields = getattr(type(inner), "model_fields", {})
    return "max_tokens" if "max_tokens" in fields else None


class LangChainChat:
    """A LangChain chat model (any `BaseChatModel`, or LLM) behind the `ChatModel` protocol.

    Messages are mapped to SystemMessage / HumanMessage / AIMessage; the reply is streamed with the
    model's `.stream()` and each chunk's text yielded. `max_tokens` is bound (`.bind(max_tokens=n)`)
    when the model has that parameter (see `_max_tokens_field`); pass `max_tokens_param=None` to
    never bind it, or the model's own name for it. Whatever the model raises while writing becomes
    a `BackendError`, as for the built-in backends. The model belongs to the caller: `close()`
    leaves it alone.
    """

    def __init__(self, model: Runnable, *, name: str | None = None, max_tokens_param: str | None = "auto"):
        if not isinstance(model, Runnable):
            raise SettingsError(
                f"chat_model must be a LangChain chat model (a BaseChatModel such as ChatOpenAI); "
                f"got {type(model).__name__}"
            )
        self.model = model
        self.name = name or f"langchain:{_model_name(model)}"
        self.max_tokens_param = _max_tokens_field(model) if max_tokens_param == "auto" else max_tokens_param

    def stream(self, messages: list[Message], *, max_tokens: int) -> Iterator[str]:
        """Yield the reply as the model writes it.

        Raises:
            BackendError: the model (or its server) failed.
        """
        model = self.model.bind(**{self.max_tokens_param: max_tokens}) if self.max_tokens_param else self.model
        chunks = iter(model.stream(to_langchain_messages(messages)))
        try:
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    return
                except BackendError:
                    raise
                except Exception as exc:  # providers raise their own kinds; all mean "the model failed"
                    raise BackendError(
                        f"{self.name}: the chat model failed: {type(exc).__name__}: {exc}; check the model's "
                        "configuration and its server, or answer with mode='extractive' (needs no model)"
                    ) from exc
                piece = _text(chunk)
                if piece:
                    yield piece
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()  # stopping early (a looping reply) ends the model's request too

    def complete(self, messages: list[Message], *, max_tokens: int) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens))

    def close(self) -> None:
        """Nothing to release: the model is the caller's."""


__all__ = [
    "AssistantRunnable",
    "KnowledgeBaseRetriever",
    "LangChainChat",
    "format_documents",
    "passage_document",
    "to_langchain_messages",
]
