"""`python -m assistant serve --kbs finance,hr`: two knowledge bases in one real server (real model, real Chroma), asked
over the HTTP API and in chromium by a user who may read both and one who may read only hr."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from assistant.accounts import Accounts
from assistant.conversations.audit import open_audit
from tests.conftest import ROOT, free_port, models_dir
from tests.test_ui import ARTIFACTS, WAIT_MS, browser, log_in  # noqa: F401 (a fixture used by name)

pytestmark = pytest.mark.e2e

ALL_KEY, FIN_KEY = "all-key-0123", "fin-key-4567"
DOCS = {
    "finance": {
        "差旅费管理办法.txt": "市财政局机关差旅费管理办法\n\n第一条 为加强机关差旅费管理，规范差旅费开支，制定本办法。\n\n"
        "第二条 工作人员出差，住宿费在标准限额内凭发票据实报销，处级及以下人员每人每天不超过450元。\n\n"
        "第三条 伙食补助费按出差自然天数计算，每人每天100元。\n\n第四条 市内交通费按出差自然天数计算，每人每天80元包干使用。\n",
        "办公用品采购规定.txt": "机关办公用品采购规定\n\n一、单价在1000元以上的办公用品，须经办公室主任审批后方可采购。\n\n"
        "二、办公用品由综合科统一登记入库，每季度盘点一次。\n",
    },
    "hr": {
        "年休假管理办法.txt": "机关工作人员年休假管理办法\n\n第一条 职工累计工作已满1年不满10年的，年休假5天；已满10年不满20年的，"
        "年休假10天；已满20年的，年休假15天。\n\n第二条 年休假一般在一个年度内统筹安排，确因工作需要不能安排的，可以跨一个年度安排。\n",
        "值班制度.txt": "机关值班制度\n\n一、节假日实行24小时值班，值班人员须保持通讯畅通。\n\n"
        "二、值班人员应认真填写值班日志，遇有重大情况立即报告带班领导。\n",
    },
}
ASK = {
    "finance": ("伙食补助费每人每天多少钱？", "差旅费管理办法.txt"),
    "hr": ("工作满5年的职工年休假有几天？", "年休假管理办法.txt"),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory, e5_embedder):
    """finance and hr, two files each, ingested with the real model; then the real `serve` command over both."""
    from assistant.api import Assistant
    from assistant.settings import Settings

    home = tmp_path_factory.mktemp("multi-home")
    for kb, files in DOCS.items():
        folder = home / "docs" / kb
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        with Assistant(Settings.load(home, env={}, kb=kb, models=str(models_dir())), embedder=e5_embedder) as opened:
            assert len(opened.ingest([folder]).added) == 2
    users = Accounts(home / "users.json")
    users.add("both", "pw-both", "read")
    users.add("both", "pw-both", "upload", "finance")
    users.add("onlyhr", "pw-hr", "read", "hr")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_HOME": str(home),
        "ASSISTANT_MODELS": str(models_dir()),
        "ASSISTANT_PORT": str(port),
        "ASSISTANT_USERS_FILE": str(users.path),
        "ASSISTANT_API_KEYS": f"{ALL_KEY},{FIN_KEY}:finance",
    }
    log = home / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--kbs", "finance,hr"], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                if httpx.get(f"{url}/api/v1/health", headers={"Authorization": f"Bearer {ALL_KEY}"}).is_success:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not start within 180 s"
            time.sleep(0.5)
        yield SimpleNamespace(url=url, home=home, pid=proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def _sources(answer: dict) -> set[str]:
    return {Path(p["source"]).name for p in answer["citations"] + answer["nearest"]}


def test_the_api_answers_each_knowledge_base_from_its_own_documents(served):
    from openai import OpenAI, PermissionDeniedError

    every = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {ALL_KEY}"}, timeout=120)
    finance_only = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {FIN_KEY}"}, timeout=120)
    assert [m["id"] for m in every.get("/v1/models").json()["data"]] == ["finance", "hr"]
    assert [m["id"] for m in finance_only.get("/v1/models").json()["data"]] == ["finance"]
    hr_reader = httpx.get(f"{served.url}/v1/models", auth=("onlyhr", "pw-hr"))
    assert [m["id"] for m in hr_reader.json()["data"]] == ["hr"]

    for kb, (question, cited) in ASK.items():
        answer = every.post("/api/v1/ask", json={"question": question, "kb": kb}).json()
        assert answer["refused"] is False and cited in {Path(c["source"]).name for c in answer["citations"]}
        assert _sources(answer) <= set(DOCS[kb])  # nothing of the other knowledge base
        stats = every.get("/api/v1/stats", params={"kb": kb}).json()
        assert stats["kb"] == kb and stats["documents"] == 2
    # The hr question asked of finance finds nothing of hr.
    crossed = every.post("/api/v1/ask", json={"question": ASK["hr"][0], "kb": "finance"}).json()
    assert _sources(crossed) <= set(DOCS["finance"])
    assert every.post("/api/v1/ask", json={"question": ASK["finance"][0]}).json()["citations"]  # default: finance

    client = OpenAI(base_url=f"{served.url}/v1", api_key=ALL_KEY, max_retries=0)
    reply = client.chat.completions.create(model="hr", messages=[{"role": "user", "content": ASK["hr"][0]}])
    assert reply.model == "hr" and "5天" in (reply.choices[0].message.content or "")
    assert {Path(c["source"]).name for c in reply.model_extra["citations"]} == {ASK["hr"][1]}

    denied = finance_only.post("/api/v1/ask", json={"question": ASK["hr"][0], "kb": "hr"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert finance_only.get("/api/v1/documents", params={"kb": "hr"}).status_code == 403
    with pytest.raises(PermissionDeniedError):
        OpenAI(base_url=f"{served.url}/v1", api_key=FIN_KEY, max_retries=0).chat.completions.create(
            model="hr", messages=[{"role": "user", "content": ASK["hr"][0]}]
        )
    unknown = every.post("/api/v1/ask", json={"question": "x", "kb": "archive"})
    assert unknown.status_code == 404
    assert "there is no knowledge base 'archive' here; served: finance, hr" in unknown.json()["error"]["message"]
    every.close()
    finance_only.close()


def _absent(text: str, *words: str) -> None:
    for word in words:
        at = text.find(word)
        assert at < 0, f"{word!r} is in the page: …{text[max(0, at - 200) : at + 100]}…"


def _ask(page, question: str, cited: str) -> None:
    from playwright.sync_api import expect

    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#sources .src-for")).to_contain_text(question, timeout=WAIT_MS)
    expect(page.locator("#sources .src").first).to_contain_text(cited)


def _pick(page, kb: str) -> None:
    from playwright.sync_api import expect

    page.locator("#kb-picker input").click()
    page.get_by_role("option", name=kb).click()  # its name may carry the ✓ of the chosen one
    expect(page.locator("#kb-picker input")).to_have_value(kb)


def _documents(page) -> str:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="知识库 Knowledge base").click()
    expect(page.locator("#documents table.docs")).to_be_visible()
    text = page.locator("#documents").inner_text()
    page.get_by_role("tab", name="问答 Chat").click()
    return text


def test_a_user_of_both_switches_and_each_answer_cites_the_chosen_knowledge_base(served, browser):  # noqa: F811
    from playwright.sync_api import expect

    page = log_in(browser, f"{served.url}/", "both", "pw-both", 1400)
    try:
        picker = page.locator("#kb-picker")
        expect(picker).to_be_visible()
        expect(picker.locator("input")).to_have_value("finance")  # the default
        page.locator("#kb-picker input").click()
        expect(page.get_by_role("option")).to_have_count(2)
        assert [t.replace("✓", "").strip() for t in page.get_by_role("option").all_inner_texts()] == ["finance", "hr"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-kb-picker-1400.png"))
        page.keyboard.press("Escape")
        docs = _documents(page)
        assert "差旅费管理办法.txt" in docs and "年休假管理办法.txt" not in docs
        page.get_by_role("tab", name="知识库 Knowledge base").click()
        expect(page.locator("#upload")).to_be_visible()  # upload in finance
        expect(page.locator("#documents-heading")).to_contain_text("finance")
        page.get_by_role("tab", name="问答 Chat").click()
        _ask(page, *ASK["finance"])

        _pick(page, "hr")  # a new conversation in hr
        expect(page.locator('#chat [data-testid="bot"]')).to_have_count(0)
        page.get_by_role("tab", name="知识库 Knowledge base").click()
        expect(page.locator("#documents")).to_contain_text("年休假管理办法.txt")
        expect(page.locator("#documents")).not_to_contain_text("差旅费")
        expect(page.locator("#read-only")).to_contain_text("只读")  # read only in hr
        expect(page.locator("#upload")).to_be_hidden()
        page.get_by_role("tab", name="问答 Chat").click()
        _ask(page, *ASK["hr"])
        expect(page.locator("#sources")).not_to_contain_text("差旅费")
        page.screenshot(path=str(ARTIFACTS / "ui-kb-switched-1400.png"), full_page=True)

        # Both conversations are listed with their knowledge base; opening the finance one switches back.
        labels = page.locator("#conv-list label")
        expect(labels).to_have_count(2)
        assert [t.strip() for t in labels.all_inner_texts()] == [
            f"【hr】{ASK['hr'][0]}",
            f"【finance】{ASK['finance'][0]}",
        ]
        labels.filter(has_text="【finance】").click()
        expect(page.locator("#kb-picker input")).to_have_value("finance")
        expect(page.locator("#sources .src").first).to_contain_text(ASK["finance"][1])
        # A reload reopens it in its knowledge base; the hr one reopens in hr.
        page.reload()
        expect(page.locator("#kb-picker input")).to_have_value("finance", timeout=WAIT_MS)
        expect(page.locator('#chat [data-testid="bot"]')).to_have_count(1)
        page.locator("#conv-list label").filter(has_text="【hr】").click()
        expect(page.locator("#kb-picker input")).to_have_value("hr")
        expect(page.locator("#sources .src").first).to_contain_text(ASK["hr"][1])
    finally:
        page.context.close()

    phone = log_in(browser, f"{served.url}/", "both", "pw-both", 390)
    try:
        expect(phone.locator("#kb-picker")).to_be_visible()
        expect(phone.locator("#conv-new")).not_to_be_in_viewport(timeout=WAIT_MS)  # the list folds away on a phone
        phone.wait_for_timeout(800)  # the sidebar slides out
        phone.locator("#kb-picker input").click()
        expect(phone.get_by_role("option")).to_have_count(2)
        phone.wait_for_timeout(300)  # the options fade in
        phone.screenshot(path=str(ARTIFACTS / "ui-kb-picker-390.png"))
        phone.get_by_role("option", name="hr").click()
        expect(phone.locator("#kb-picker input")).to_have_value("hr")
        _ask(phone, *ASK["hr"])
        phone.screenshot(path=str(ARTIFACTS / "ui-kb-switched-390.png"))
    finally:
        phone.context.close()

    # Each question is in its own knowledge base's audit log, under the user.
    for kb in ("finance", "hr"):
        entries = [(e.user, e.kb, e.detail, e.via) for e in open_audit(served.home / "kb" / kb).entries()]
        assert ("both", kb, ASK[kb][0], "chat") in entries
        assert all(e[1] == kb for e in entries)


def test_a_user_of_one_knowledge_base_sees_no_switcher_and_nothing_of_the_other(served, browser):  # noqa: F811
    from playwright.sync_api import expect

    page = log_in(browser, f"{served.url}/", "onlyhr", "pw-hr", 1400)
    try:
        expect(page.locator("#conv-new")).to_be_visible()
        docs = _documents(page)  # filled once the page knows the user: hr's
        assert "年休假管理办法.txt" in docs and "差旅费" not in docs
        expect(page.locator("#kb-picker")).to_be_hidden()
        _ask(page, *ASK["hr"])
        expect(page.locator("#conv-list label").first).not_to_contain_text("【")  # one knowledge base: no marks
        # Nothing of finance reaches this browser: not the page, not Gradio's config of it.
        _absent(page.content(), "差旅费", "finance")
        _absent(page.context.request.get(f"{served.url}/config").text(), "差旅费", "finance")
        page.screenshot(path=str(ARTIFACTS / "ui-kb-single-1400.png"))
    finally:
        page.context.close()
    assert ("onlyhr", "hr") in [(e.user, e.kb) for e in open_audit(served.home / "kb" / "hr").entries()]
