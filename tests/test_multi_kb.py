"""Several knowledge bases in one server: which are served, who may read which, and how the API, the chat's handlers,
the shared local model and the shared dictionary pick the right one (stand-ins; the real server: test_multi_kb_server)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from assistant.accounts import Accounts
from assistant.app.http import ApiSettings, create_api
from assistant.app.shelf import Shelf, choose, readable, served_names
from assistant.app.ui.history import ChatHistory
from assistant.app.ui.kb_picker import KbAccess, NotReadable
from assistant.app.ui.respond import make_responder
from assistant.app.ui.server import ServerOptions
from assistant.app.ui.session import empty_session, entry_of, parse_entry, session_kb, with_turn
from assistant.app.ui.status import Runs
from assistant.conversations.audit import open_audit
from assistant.errors import SettingsError, UnknownKnowledgeBase
from assistant.results import Answer
from assistant.settings import Settings
from tests.test_http_api import FakeKB

ALL_KEY, FIN_KEY, HR_KEY = "all-key-1", "fin-key-2", "hr-key-3"
KEYS = f"{ALL_KEY},{FIN_KEY}:finance,{HR_KEY}:hr"


def _basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def _make_kb_dir(home: Path, name: str) -> None:
    folder = home / "kb" / name
    folder.mkdir(parents=True)
    (folder / "registry.sqlite").write_bytes(b"")  # what makes a folder a knowledge base for served_names


# -- which knowledge bases are served -------------------------------------------------------------
def test_served_names_default_to_kb_and_take_a_list_or_every_one_with_the_default_first(tmp_path):
    for name in ("finance", "hr", "beir-x"):
        _make_kb_dir(tmp_path, name)
    (tmp_path / "kb" / "not a kb").mkdir()
    (tmp_path / "kb" / "empty").mkdir()  # no registry: never opened, not a knowledge base

    def names(**values):
        return served_names(Settings.load(tmp_path, env={}, **values))

    assert names() == ["default"]  # nothing set: what serve always served
    assert names(kb="hr", serve_kbs="") == ["hr"]
    assert names(serve_kbs="*") == ["beir-x", "finance", "hr"]  # default is not there: the first found leads
    assert names(kb="hr", serve_kbs="*") == ["hr", "beir-x", "finance"]
    assert names(serve_kbs="finance, hr ,finance") == ["finance", "hr"]  # in the order given, each once
    assert names(kb="hr", serve_kbs="finance,hr") == ["hr", "finance"]  # kb, when served, is the default
    assert names(serve_kbs="default,finance") == ["default", "finance"]  # kb itself may be new (created)
    assert served_names(Settings.load(tmp_path / "nothing", env={}, serve_kbs="*")) == ["default"]
    with pytest.raises(SettingsError, match=r"'fiannce'.*there: beir-x, finance, hr.*ASSISTANT_SERVE_KBS"):
        names(serve_kbs="fiannce,hr")
    assert names(serve_kbs="remote,hr", chroma_url="http://127.0.0.1:8000") == ["remote", "hr"]  # may be only there
    with pytest.raises(SettingsError, match="serve_kbs"):
        Settings.load(tmp_path, env={"ASSISTANT_SERVE_KBS": "finance,../etc"})
    with pytest.raises(SettingsError, match="serve_kbs"):
        Settings.load(tmp_path, env={}, serve_kbs="*,finance")
    assert Settings.load(tmp_path, env={"ASSISTANT_SERVE_KBS": "*"}).serve_kbs == "*"


def test_who_reads_which_knowledge_base(tmp_path):
    accounts = Accounts(tmp_path / "users.json")
    accounts.add("both", "pw", "read")
    accounts.add("both", "pw", "upload", "finance")
    accounts.add("onlyhr", "pw", "read", "hr")
    accounts.add("elsewhere", "pw", "admin", "archive")
    served = ["finance", "hr"]
    assert readable(served, None, None) == served  # no accounts: everyone reads everything served
    assert readable(served, accounts, "both") == served
    assert readable(served, accounts, "onlyhr") == ["hr"]
    assert readable(served, accounts, "elsewhere") == [] and readable(served, accounts, "") == []
    assert choose("hr", served) == "hr" and choose("archive", served) == "finance" and choose(None, []) is None

    options = ServerOptions(users_file=str(accounts.path), kb="finance", kbs=("finance", "hr"))
    login = options.auth
    assert callable(login)
    assert login("both", "pw") and login("onlyhr", "pw")  # read in any served knowledge base lets one in
    assert not login("elsewhere", "pw") and not login("onlyhr", "bad")
    assert not ServerOptions(users_file=str(accounts.path), kb="finance").auth("onlyhr", "pw")  # one served: as before

    access = KbAccess(Shelf({"finance": _stand_in("finance", tmp_path), "hr": _stand_in("hr", tmp_path)}), accounts)
    assert access.readable("onlyhr") == ["hr"] and access.choose("finance", "onlyhr") == "hr"
    assert access.may("both", "finance", "upload") and not access.may("both", "hr", "upload")
    assert not access.may("both", "archive", "read")  # not served here
    assert access.kb("", "onlyhr").settings.kb == "hr"  # no choice made: the user's first
    with pytest.raises(NotReadable, match="「finance」"):
        access.kb("finance", "onlyhr")
    with pytest.raises(NotReadable, match="没有可以查看的知识库"):
        access.kb("", "elsewhere")
    shown = access.picker_update("onlyhr", "hr")
    assert shown["choices"] == ["hr"] and shown["visible"] is False  # one knowledge base: no switcher
    assert access.picker_update("both", "hr")["visible"] is True


def test_a_shelf_names_what_it_serves_and_keeps_an_audit_log_per_knowledge_base(tmp_path):
    shelf = Shelf({"finance": _stand_in("finance", tmp_path), "hr": _stand_in("hr", tmp_path)})
    assert shelf.default == "finance" and shelf.get().settings.kb == "finance" and shelf.get("hr").settings.kb == "hr"
    with pytest.raises(UnknownKnowledgeBase, match="there is no knowledge base 'x' here; served: finance, hr"):
        shelf.get("x")
    shelf.audit("hr").record("u", "hr", "ask", "q")
    assert [e.kb for e in open_audit(tmp_path / "hr").entries()] == ["hr"]
    assert not (tmp_path / "finance" / "audit.sqlite3").exists() or open_audit(tmp_path / "finance").entries() == []
    assert Shelf.of(_stand_in("solo", tmp_path)).names == ["solo"]


@pytest.mark.e2e  # real Chroma (a stand-in embedder)
def test_shelf_open_shares_one_embedding_model_and_dictionary(tmp_path):
    from assistant.api import Assistant
    from tests.conftest import HashEmbedder, models_dir

    for name in ("finance", "hr"):
        Assistant(Settings.load(tmp_path, env={}, kb=name, models=str(models_dir())), embedder=HashEmbedder()).close()
    settings = Settings.load(tmp_path, env={}, kb="hr", serve_kbs="*", models=str(models_dir()))
    first = Assistant(settings, embedder=HashEmbedder())
    shelf = Shelf.open(settings, first=first)
    try:
        assert shelf.names == ["hr", "finance"] and shelf.get("hr") is first
        other = shelf.get("finance")
        assert other.settings.kb == "finance" and other.embedder is first.embedder
        assert other.dictionary is first.dictionary
    finally:
        shelf.close()  # closes finance, which it opened; hr is the caller's
        first.close()
    with pytest.raises(SettingsError, match="'typo'"):
        Shelf.open(Settings.load(tmp_path, env={}, serve_kbs="finance,typo", models=str(models_dir())))


# -- the HTTP API ---------------------------------------------------------------------------------
def _stand_in(name: str, tmp: Path) -> FakeKB:
    kb = FakeKB(tmp / name)
    kb.settings.kb = name
    kb.settings.answer_mode = "extractive"
    return kb


@pytest.fixture
def two(tmp_path):
    """The API over two stand-in knowledge bases, finance (the default) and hr; a users file beside the keys."""
    finance, hr = _stand_in("finance", tmp_path), _stand_in("hr", tmp_path)
    accounts = Accounts(tmp_path / "users.json")
    accounts.add("onlyhr", "pw", "read", "hr")
    api = create_api(Shelf({"finance": finance, "hr": hr}), ApiSettings.load(api_keys=KEYS), accounts=accounts)
    with TestClient(api, raise_server_exceptions=False) as client:
        yield SimpleNamespace(client=client, finance=finance, hr=hr)


def _as(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_each_request_goes_to_the_knowledge_base_it_names_if_the_key_opens_it(two):
    c = two.client

    def models(headers):
        return [m["id"] for m in c.get("/v1/models", headers=headers).json()["data"]]

    assert models(_as(ALL_KEY)) == ["finance", "hr"]
    assert models(_as(FIN_KEY)) == ["finance"] and models(_as(HR_KEY)) == ["hr"]
    assert models(_basic("onlyhr", "pw")) == ["hr"]

    assert c.post("/api/v1/ask", json={"question": "休假？", "kb": "hr"}, headers=_as(ALL_KEY)).status_code == 200
    assert c.post("/api/v1/ask", json={"question": "报销？"}, headers=_as(ALL_KEY)).status_code == 200  # the default
    assert c.post("/api/v1/ask", json={"question": "值班？"}, headers=_as(HR_KEY)).status_code == 200  # its own
    assert [a["question"] for a in two.hr.asked] == ["休假？", "值班？"]
    assert [a["question"] for a in two.finance.asked] == ["报销？"]

    forbidden = c.post("/api/v1/ask", json={"question": "x", "kb": "hr"}, headers=_as(FIN_KEY))
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    unknown = c.post("/api/v1/retrieve", json={"question": "x", "kb": "nope"}, headers=_as(ALL_KEY))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_kb"
    assert "there is no knowledge base 'nope' here; served: finance, hr" in unknown.json()["error"]["message"]
    narrow = c.get("/api/v1/documents", params={"kb": "nope"}, headers=_as(FIN_KEY)).json()["error"]["message"]
    assert "served: finance (" in narrow  # a key is told only of the knowledge bases it opens

    chat = {"model": "hr", "messages": [{"role": "user", "content": "年休假几天？"}]}
    done = c.post("/v1/chat/completions", json=chat, headers=_as(ALL_KEY))
    assert done.status_code == 200 and done.json()["model"] == "hr" and two.hr.asked[-1]["question"] == "年休假几天？"
    missing = c.post("/v1/chat/completions", json={**chat, "model": "default"}, headers=_as(ALL_KEY))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    assert "served: finance, hr" in missing.json()["error"]["message"]
    assert c.post("/v1/chat/completions", json=chat, headers=_as(FIN_KEY)).status_code == 403

    health = c.get("/api/v1/health", params={"kb": "hr"}, headers=_as(ALL_KEY)).json()
    assert health["kb"] == "hr" and health["kbs"] == ["finance", "hr"]
    assert c.get("/api/v1/health", headers=_as(HR_KEY)).json()["kb"] == "hr"


def test_roles_and_the_audit_log_are_per_knowledge_base(two, tmp_path):
    c = two.client
    reader = _basic("onlyhr", "pw")
    assert c.post("/api/v1/ask", json={"question": "值班？"}, headers=reader).status_code == 200
    assert two.hr.asked[-1]["question"] == "值班？"  # no kb named: the first the user may read
    refused = c.post("/api/v1/ask", json={"question": "x", "kb": "finance"}, headers=reader)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_required"
    files = [("files", ("值班表.txt", "值班".encode(), "text/plain"))]
    upload = c.post("/api/v1/documents", params={"kb": "hr"}, files=files, headers=reader)
    assert upload.status_code == 403 and "'upload'" in upload.json()["error"]["message"]
    assert c.post("/api/v1/documents", params={"kb": "hr"}, files=files, headers=_as(HR_KEY)).status_code == 200
    assert two.hr.ingested == [tmp_path / "hr" / "uploads" / "值班表.txt"] and two.finance.ingested == []

    entries = open_audit(tmp_path / "hr").entries()
    assert [(e.user, e.kb, e.action, e.detail) for e in entries] == [
        ("onlyhr", "hr", "ask", "值班？"),
        ("api-key:" + hashlib.sha256(HR_KEY.encode()).hexdigest()[:8], "hr", "upload", "值班表.txt"),
    ]
    assert open_audit(tmp_path / "finance").entries() == []
    # With accounts, API keys do not read the audit log (as with one knowledge base); nobody here is an admin.
    assert c.get("/api/v1/audit", params={"kb": "hr"}, headers=_as(ALL_KEY)).status_code == 403


# -- the chat's handlers ----------------------------------------------------------------------------
class StubKB:
    """Answers "《name》" from its own name, so a test sees which knowledge base answered."""

    def __init__(self, name: str, tmp: Path):
        self.settings = SimpleNamespace(
            kb=name, kb_dir=tmp / name, answer_mode="extractive", top_k=5, max_upload_mb=1, max_upload_files=2
        )
        self.asked: list[str] = []

    def stream(self, question, **kwargs):
        self.asked.append(question)
        answer = Answer(question=question, text=f"《{self.settings.kb}》", refused=False, citations=[])
        yield answer.text
        yield answer

    def document_text(self, doc_id):
        return None


@pytest.fixture
def chat(tmp_path):
    accounts = Accounts(tmp_path / "users.json")
    accounts.add("both", "pw", "read")
    accounts.add("onlyhr", "pw", "read", "hr")
    kbs = {"finance": StubKB("finance", tmp_path), "hr": StubKB("hr", tmp_path)}
    access = KbAccess(Shelf(kbs), accounts)
    return SimpleNamespace(access=access, history=ChatHistory(None, access), tmp=tmp_path, **kbs)


def _answer_in(history: ChatHistory, ident: dict, session: dict, question: str) -> tuple[dict, dict]:
    chat = [{"role": "user", "content": question}, {"role": "assistant", "content": "答"}]
    answer = Answer(question=question, text="答", refused=False, citations=[], searched=question)
    session = with_turn(session, "<p>panel</p>", answer, chat)
    ident = history.sync(ident, session)[0]
    return ident, session


def test_questions_go_to_the_sessions_knowledge_base_and_its_audit_log(chat):
    respond = make_responder(None, Runs(), access=chat.access)

    def ask(user, kb, question):
        request = SimpleNamespace(username=user, session_hash=f"s-{user}")
        return list(respond(question, [], empty_session(kb), 5, "extractive", None, None, None, None, request))

    last = ask("both", "hr", "年休假几天？")[-1]
    assert chat.hr.asked == ["年休假几天？"] and chat.finance.asked == []
    assert "《hr》" in last[1][-1]["content"] and session_kb(last[2]) == "hr"  # the new session keeps its kb
    ask("onlyhr", "", "值班？")  # no knowledge base yet: the user's first
    assert chat.hr.asked[-1] == "值班？"
    with pytest.warns(UserWarning, match="「finance」"):
        ask("onlyhr", "finance", "报销？")  # not from the page (it lists only hr): refused, nothing asked
    assert chat.finance.asked == []
    assert [(e.user, e.kb) for e in open_audit(chat.tmp / "hr").entries()] == [("both", "hr"), ("onlyhr", "hr")]


def test_conversations_are_kept_with_their_knowledge_base_and_reopen_there(chat):
    history = chat.history
    opened = history.restore({"user": "", "conversation": "", "kb": "hr"}, SimpleNamespace(username="both"))
    ident, picker = opened[0], opened[-1]
    assert ident == {"user": "both", "conversation": "", "kb": "hr"} and session_kb(opened[5]) == "hr"
    assert picker["value"] == "hr" and picker["choices"] == ["finance", "hr"] and picker["visible"] is True
    ident, _ = _answer_in(history, ident, opened[5], "年休假几天？")
    assert ident["kb"] == "hr" and ident["conversation"]
    assert [c.title for c in history.store_of("hr").conversations("both")] == ["年休假几天？"]
    assert history.store_of("finance").conversations("both") == []

    switched = history.switch(ident, "finance")  # a new conversation in finance
    assert switched[0] == {"user": "both", "conversation": "", "kb": "finance"} and switched[4] == []
    assert session_kb(switched[5]) == "finance" and switched[-1]["value"] == "finance"
    fin_ident, _ = _answer_in(history, switched[0], switched[5], "差旅费怎么报销？")
    listing = history.start_new(fin_ident)[2]["choices"]  # the list as the page gets it
    assert [label for label, _ in listing] == ["【finance】差旅费怎么报销？", "【hr】年休假几天？"]
    assert parse_entry(listing[1][1]) == ("hr", ident["conversation"])

    back = history.open(fin_ident, entry_of("hr", ident["conversation"]))  # opening it switches to hr
    assert back[0]["kb"] == "hr" and session_kb(back[5]) == "hr" and back[-1]["value"] == "hr"
    assert [m["content"] for m in back[4]] == ["年休假几天？", "答"]
    # A reload restores the open conversation in its knowledge base; a user who may no longer read that one gets
    # their first knowledge base and a new conversation.
    again = history.restore(back[0], SimpleNamespace(username="both"))
    assert again[0] == back[0] and len(again[4]) == 2
    elsewhere = history.restore({"user": "", "conversation": fin_ident["conversation"], "kb": "finance"},
                                SimpleNamespace(username="onlyhr"))  # fmt: skip
    assert elsewhere[0] == {"user": "onlyhr", "conversation": "", "kb": "hr"} and elsewhere[-1]["visible"] is False
    with pytest.warns(UserWarning, match="「finance」"):
        refused = history.open(elsewhere[0], entry_of("finance", fin_ident["conversation"]))
    assert refused[0]["kb"] == "hr" and refused[4] == []
    with pytest.warns(UserWarning, match="「finance」"):
        kept = history.switch(elsewhere[0], "finance")
    assert kept[0]["__type__"] == "update" and kept[-1]["value"] == "hr"  # nothing changes but the picker, back
    # An answer settling after a switch is not saved into the other knowledge base's conversation.
    late = with_turn(empty_session("hr"), "", None, [{"role": "user", "content": "q"}, {"role": "assistant"}])
    assert history.sync(switched[0], late)[0]["__type__"] == "update"
    assert [c.title for c in history.store_of("finance").conversations("both")] == ["差旅费怎么报销？"]


# -- what the knowledge bases of one process share ------------------------------------------------------
def test_local_chats_of_one_model_share_one_server_and_queue(monkeypatch, tmp_path):
    from assistant.models import local_llm

    started: list[object] = []

    class FakeServer:
        base_url = "http://127.0.0.1:9/v1"

        def __init__(self, gguf, threads, context):
            self.stopped = False
            started.append(self)

        def stop(self):
            self.stopped = True

    monkeypatch.setattr(local_llm, "LocalServer", FakeServer)
    # A model path of this test's own: no other test's running server can be shared.
    monkeypatch.setattr(local_llm, "local_model_path", lambda settings: tmp_path / "model.gguf")
    settings = Settings.load(tmp_path, env={})
    first, second = local_llm.LocalChat.start(settings), local_llm.LocalChat.start(settings.replace(kb="hr"))
    assert len(started) == 1 and first.server is second.server and first.queue is second.queue
    first.close()
    first.close()  # twice: still one user fewer, not two
    assert not started[0].stopped
    second.close()
    assert started[0].stopped
    third = local_llm.LocalChat.start(settings.replace(llm_threads=2))  # other server settings: its own server
    assert len(started) == 2 and third.server is started[1]
    third.close()


def test_the_dictionary_keeps_each_knowledge_bases_compounds(tmp_path):
    from assistant.retrieval.crosslingual import Dictionary

    glosses = tmp_path / "cedict.u8"
    glosses.write_text("編 编 [bian1] /to edit/\n發 发 [fa1] /to send out/\n", encoding="utf-8")
    shared = Dictionary(glosses)
    first = shared.compounds("finance-index", ["编发"])
    assert "edit" in first
    assert shared.compounds("hr-index", []) == {}
    assert shared.compounds("finance-index", []) is first  # still kept after another knowledge base asked
