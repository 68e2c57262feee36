"""The browser chat: pure helpers (follow-ups, escaping), the /ask API, and the page in a real browser."""

from __future__ import annotations

import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import free_port

from assistant.app.ui.app import EXAMPLES, ask_kb, build_app
from assistant.app.ui.render import answer_dict, answer_message, chat_text, highlight, sources_html
from assistant.app.ui.server import ServerOptions, exposure_warning, is_loopback
from assistant.app.ui.uploads import ingest_uploads
from assistant.errors import SettingsError
from assistant.results import Answer, Citation, Passage
from assistant.retrieval.followup import rewrite_followup
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
TEMPLATE = "${alert(1)}{{value}}"  # gr.HTML renders through a template: its syntax must stay text too
WAIT_MS = 90_000  # an answer takes ~1 s; the first question of a process also loads jieba

SHUANG = "机关是怎样落实在职党员“双报到”制度的？"


def log_in(browser, url: str, name: str, password: str, width: int = 1400):
    """A new browser context logged in as `name` at `url`, on the chat tab (close its context when done)."""
    context = browser.new_context(viewport={"width": width, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.locator("input").nth(0).fill(name)
    page.locator("input[type=password]").fill(password)
    page.locator("input[type=password]").press("Enter")  # the button says 登录 or Login by the browser's locale
    return page


# -- follow-up rewriting ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        # A first question, and questions that stand on their own, are searched as asked.
        (SHUANG, [], SHUANG),
        ("办公室怎样做好保密工作？", [SHUANG], "办公室怎样做好保密工作？"),
        ("明天北京会下雨吗？", [SHUANG], "明天北京会下雨吗？"),
        ("双报到是什么？", [SHUANG], "双报到是什么？"),
        # Swapping the topic keeps the previous framing words (机关, 落实) and drops its topic.
        ("那保密工作呢？", [SHUANG], "保密工作 机关 落实"),
        ("保密工作呢？", [SHUANG], "保密工作 机关 落实"),
        ("那么，督查督办呢？", [SHUANG], "督查督办 机关 落实"),
        # A chain of follow-ups keeps the frame, because history holds what was searched.
        ("那督查督办呢？", [SHUANG, "保密工作 机关 落实"], "督查督办 机关 落实"),
        # Referring back carries the previous topic.
        ("它有什么要求？", [SHUANG], "在职党员 双报到 制度 它有什么要求？"),
        ("这个制度是什么时候开始的？", [SHUANG], "在职党员 双报到 这个制度是什么时候开始的？"),
        ("为什么？", [SHUANG], "在职党员 双报到 制度 为什么？"),
        ("此外还有哪些措施？", [SHUANG], "在职党员 双报到 制度 此外还有哪些措施？"),
        # English follow-ups.
        (
            "What about confidentiality work?",
            ["How do offices run the 双报到 system?"],
            "confidentiality work offices run",
        ),
        ("And why?", ["How do offices run the 双报到 system?"], "双报到 system And why?"),
        ("Is there a Wednesday study day?", [SHUANG], "Is there a Wednesday study day?"),
    ],
)
def test_rewrite_followup(question, history, expected):
    assert rewrite_followup(question, history) == expected


def test_rewrite_followup_uses_the_latest_non_empty_question():
    assert rewrite_followup("那保密工作呢？", ["清廉机关建设", SHUANG, ""]) == "保密工作 机关 落实"
    assert rewrite_followup("  ", [SHUANG]) == ""


# -- escaping ----------------------------------------------------------------------------------
def _hostile_answer() -> Answer:
    passage = f"第一句。{SCRIPT}与{IMG}应原样显示。第三句<b>粗</b>。"
    quote = f"{SCRIPT}与{IMG}应原样显示。"
    at = passage.index(quote)
    cite = Citation(
        n=1,
        title=f"标题{IMG}",
        source=f"/x/{SCRIPT}.txt",
        section="一、<i>章节</i>",
        text=passage,
        quote=quote,
        start=100 + at,
        end=100 + at + len(quote),
        page=3,
        doc_id="d1",
        passage_start=100,
        passage_end=100 + len(passage),
    )
    return Answer(
        question=IMG, text=f"根据知识库中的文件：\n{quote}[1]", refused=False, citations=[cite], searched=f"{IMG} 检索"
    )


def _document(passage: str) -> str:
    before = "前" * 40 + "<svg onload=alert(2)>"
    return before + "文" * (100 - len(before)) + passage + f"后文{SCRIPT}" + "尾" * 500


def test_sources_panel_escapes_documents_and_marks_the_quote_after_escaping():
    answer = _hostile_answer()
    doc = _document(answer.citations[0].text)
    assert doc[100 : 100 + len(answer.citations[0].text)] == answer.citations[0].text
    out = sources_html(answer, {"d1": doc}.get)
    # No tag from a document or a question survives; all of them show as text.
    for tag in ("<script", "<img", "<svg", "<b>", "<i>"):
        assert tag not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "&lt;svg onload=alert(2)&gt;" in out  # from the surrounding text
    assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt;与&lt;img src=x onerror=alert(1)&gt;应原样显示。</mark>" in out
    assert "第 3 页" in out and "<details" in out and "[1]" in out
    # The surrounding text: from the document's start (100 characters before), to 300 characters after.
    context = re.search(r'<div class="src-ctx-text">(.*?)</div>', out, re.S).group(1)
    assert context.startswith("前前") and context.endswith(
        "后文&lt;script&gt;alert(1)&lt;/script&gt;" + "尾" * 273 + "…"
    )


def test_refusal_panel_labels_the_nearest_passages_as_not_answering():
    nearest = [
        Passage(
            text=f"最近的段落{SCRIPT}",
            title="文件一",
            source="/a/一.txt",
            section="",
            start=0,
            end=9,
            score=0.1,
            chunk_id="c",
            doc_id="d",
        )
    ]
    answer = Answer(
        question="明天北京会下雨吗？",
        text="知识库中没有找到能回答这个问题的内容。",
        refused=True,
        nearest=nearest,
        searched="明天北京会下雨吗？",
    )
    out = sources_html(answer, lambda _: None)
    assert "src-refusal" in out and "不回答此问题" in out and "does not answer" in out
    assert "&lt;script&gt;" in out and "<script" not in out
    message = answer_message(answer, "明天北京会下雨吗？")
    assert message.startswith("> **⚠ 知识库中没有找到") and "并不回答" in message
    # Searched exactly as typed: the panel names the question and says nothing about a rewrite.
    assert "明天北京会下雨吗？" in out and "src-searched" not in out and "检索内容" not in out


def test_a_courtesy_reply_is_shown_plainly_not_as_a_refusal_with_passages():
    from assistant.answering.framing import FRAMING

    reply = Answer(
        question="辛苦了，先这样。", text=FRAMING["zh"]["courtesy"], refused=True, searched="辛苦了，先这样。"
    )
    assert answer_message(reply, reply.question) == FRAMING["zh"]["courtesy"]  # no ⚠, no "nearest passages"
    panel = sources_html(reply, lambda _: None)
    assert "src-refusal" not in panel and "cites no documents" in panel
    # A refusal that found nothing at all is still one.
    none = Answer(question="明天北京会下雨吗？", text=FRAMING["zh"]["refusal"], refused=True)
    assert answer_message(none, none.question).startswith("> **⚠") and "src-refusal" in sources_html(none)


def test_sources_panel_says_what_was_searched_only_for_a_rewritten_follow_up():
    answer = Answer(
        question="那保密工作呢？", text="根据知识库中的文件：", refused=False, searched="保密工作 机关 落实"
    )
    out = sources_html(answer, lambda _: None)
    assert '<div class="src-for">问题 Question：那保密工作呢？</div>' in out
    assert '<div class="src-searched">检索内容 Searched：保密工作 机关 落实</div>' in out


def test_highlight_escapes_every_part():
    assert highlight("a<b>c", [(1, 4)]) == "a<mark>&lt;b&gt;</mark>c"
    assert highlight("<x>", []) == "&lt;x&gt;"


def test_chat_text_is_literal_in_markdown():
    text = f"{SCRIPT} **粗** [链接](http://x) 第**党支部\n- 列表\n1. 编号 $x$ `code`"
    out = chat_text(text)
    assert "<" not in out and ">" not in out.replace("&gt;", "")
    assert "\\*\\*粗\\*\\*" in out and "\\[链接\\]\\(http://x\\)" in out and "\\$x\\$" in out
    assert "\n\\- 列表" in out and "\n1\\. 编号" in out


def test_answer_message_says_what_was_searched():
    answer = Answer(
        question="保密工作 机关 落实",
        text="根据知识库中的文件：\n句子。[1]",
        refused=False,
        searched="保密工作 机关 落实",
    )
    message = answer_message(answer, "那保密工作呢？")
    assert message.startswith("*检索内容：保密工作 机关 落实*") and message.endswith("\\[1\\]")
    assert not answer_message(Answer("q", "a", False, searched="q"), "q").startswith("*")


def test_answer_dict_is_json_able():
    import json

    data = answer_dict(_hostile_answer())
    assert json.loads(json.dumps(data))["citations"][0]["n"] == 1
    assert set(data) >= {"text", "refused", "citations", "searched"}


def test_ask_kb_passes_the_number_of_passages_only_when_it_differs():
    calls = []

    class KB:
        settings = SimpleNamespace(top_k=5)

        def ask(self, question, k=None):
            calls.append(k)

    ask_kb(KB(), "q", 5)
    ask_kb(KB(), "q", 8)
    assert calls == [None, 8]


# -- server options and upload limits ---------------------------------------------------------------
def test_server_options_come_from_settings():
    o = ServerOptions.from_settings(Settings.load(None, env={}))
    assert (o.host, o.port, o.auth, o.max_upload_mb, o.max_upload_files) == ("127.0.0.1", 7860, None, 50, 20)
    env = {
        "ASSISTANT_UI_USER": "u",
        "ASSISTANT_UI_PASSWORD": "p",
        "ASSISTANT_HOST": "0.0.0.0",
        "ASSISTANT_PORT": "8000",
        "ASSISTANT_MAX_UPLOAD_MB": "5",
    }
    o = ServerOptions.from_settings(Settings.load(None, env=env))
    assert (o.host, o.port, o.auth, o.max_upload_mb) == ("0.0.0.0", 8000, ("u", "p"), 5)
    with pytest.raises(SettingsError, match="both"):
        Settings.load(None, env={"ASSISTANT_UI_USER": "u"})
    with pytest.raises(SettingsError, match="as int"):
        Settings.load(None, env={"ASSISTANT_MAX_UPLOAD_FILES": "many"})
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert exposure_warning("127.0.0.1", None) is None
    assert exposure_warning("0.0.0.0", ("u", "p")) is None
    assert "ASSISTANT_UI_PASSWORD" in exposure_warning("0.0.0.0", None)


def test_upload_limits_are_checked_before_ingesting(tmp_path):
    # Every file here is rejected, so the knowledge base is never asked to ingest anything.
    kb = SimpleNamespace(settings=SimpleNamespace(kb_dir=tmp_path / "kb"))
    files = []
    for name, size in (("大文件.txt", 2 * 1024 * 1024 + 1), ("视频.mp4", 10), (".hidden.txt", 10)):
        path = tmp_path / name
        path.write_bytes(b"x" * size)
        files.append(str(path))
    summary, rows = ingest_uploads(kb, files, max_mb=2, max_files=5)
    assert summary.startswith("没有可导入的文件")
    details = {row[0]: row[2] for row in rows}
    assert "文件过大" in details["大文件.txt"] and "上限 2 MB" in details["大文件.txt"]
    assert "不支持的格式" in details["视频.mp4"]
    assert "invalid" in details[".hidden.txt"]
    summary, rows = ingest_uploads(kb, files, max_mb=2, max_files=2)
    assert "一次最多上传 2 个文件" in summary and rows == []
    assert ingest_uploads(kb, [], max_mb=2, max_files=2)[0].startswith("请先选择")


# -- a running app --------------------------------------------------------------------------------
def launch_app(kb):
    app = build_app(kb)
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), ssr_mode=False, quiet=True)
    return app, app.local_url


@pytest.fixture(scope="module")
def corpus_app(corpus_kb):
    corpus_kb.ask(SHUANG)  # warm up (jieba, model threads) so browser waits measure the UI
    app, url = launch_app(corpus_kb)
    yield url
    app.close()


@pytest.fixture(scope="module")
def upload_app(tmp_path_factory, e5_embedder):
    """A separate, empty knowledge base, so uploads leave the session's corpus_kb as it is."""
    from assistant.api import Assistant
    from assistant.settings import Settings
    from tests.conftest import models_dir

    kb = Assistant(
        Settings.load(tmp_path_factory.mktemp("upload-home"), models=str(models_dir())), embedder=e5_embedder
    )
    app, url = launch_app(kb)
    yield kb, url
    app.close()
    kb.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.dialogs = []  # any alert() would mean document or user text ran as code

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    yield page
    context.close()


def ask_in_chat(page, question: str, expect_searched: str | None = None) -> None:
    """Type a question, send it, and wait until its answer's sources are shown."""
    from playwright.sync_api import expect

    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#sources .src-for")).to_contain_text(question, timeout=WAIT_MS)
    if expect_searched:  # a rewritten follow-up says what was searched; a question searched as typed does not
        expect(page.locator("#sources .src-searched")).to_contain_text(expect_searched)
    else:
        expect(page.locator("#sources .src-searched")).to_have_count(0)
    expect(page.locator("#question textarea")).to_have_value("")


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.e2e
def test_browser_chat_answers_with_sources_follow_up_and_refusal(corpus_app, page):
    from playwright.sync_api import expect

    page.goto(corpus_app)
    expect(page.get_by_role("button", name=EXAMPLES[1])).to_be_visible()
    # An example question runs when clicked.
    page.get_by_role("button", name=SHUANG).click()
    expect(page.locator("#sources .src-for")).to_contain_text(SHUANG, timeout=WAIT_MS)
    bot = page.locator('#chat [data-testid="bot"]').last
    expect(bot).to_contain_text("[1]")
    assert re.search(r"\[\d+\]", bot.inner_text())
    first = page.locator("#sources .src").first
    expect(first.locator(".src-badge")).to_have_text("[1]")
    expect(first.locator(".src-title")).to_contain_text("《")
    expect(first.locator(".src-meta").last).to_contain_text(".txt")
    assert any("双报到" in text for text in page.locator("#sources .src-text").all_inner_texts())
    assert "双报到" in page.locator("#sources .src-text mark").first.inner_text()
    # Expanding a source shows the document around the passage.
    context = first.locator(".src-ctx-text")
    expect(context).to_be_hidden()
    first.locator("summary").click()
    expect(context).to_be_visible()
    assert len(context.inner_text()) > len(first.locator(".src-text").inner_text())
    screenshot(page, "ui-answer.png")

    # A follow-up is searched with the previous question's framing, and says so.
    ask_in_chat(page, "那保密工作呢？", expect_searched="保密工作 机关 落实")
    expect(page.locator('#chat [data-testid="bot"]').last).to_contain_text("检索内容：保密工作 机关 落实")
    assert "保密" in " ".join(page.locator("#sources mark").all_inner_texts())

    # An unanswerable question is refused, visibly, with the nearest passages labelled.
    ask_in_chat(page, "明天北京会下雨吗？")
    expect(page.locator("#sources .src-refusal")).to_contain_text("没有找到答案")
    expect(page.locator("#sources .src-nearest").first).to_contain_text("不回答此问题")
    refusal = page.locator('#chat [data-testid="bot"]').last
    expect(refusal).to_contain_text("知识库中没有找到能回答这个问题的内容")
    assert refusal.locator("blockquote").count() == 1
    screenshot(page, "ui-refusal.png")

    # Clicking an earlier answer's text leaves the panel as it is (it names the answer it shows);
    # the answer's "查看来源" link brings its sources back and says which answer they belong to.
    page.locator('#chat [data-testid="bot"]').first.click(position={"x": 8, "y": 8})
    expect(page.locator("#sources .src-turn")).to_contain_text("第 3 个回答的来源")
    expect(page.locator("#sources .src-for")).to_contain_text("明天北京会下雨吗？")
    page.locator('#chat [data-testid="bot"]').first.locator("a.src-open").click()
    expect(page.locator("#sources .src-turn")).to_contain_text("第 1 个回答的来源")
    expect(page.locator("#sources .src-for")).to_contain_text(SHUANG)
    expect(page.locator("#sources .src-searched")).to_have_count(0)
    assert page.dialogs == []


@pytest.mark.e2e
def test_browser_upload_then_ask_and_documents_show_literally(upload_app, page, tmp_path):
    import docx
    from playwright.sync_api import expect

    kb, url = upload_app
    folder = tmp_path / "files"
    folder.mkdir()
    document = docx.Document()
    document.add_paragraph("本单位实行“周三学习日”制度，每周三下午集中学习。")
    document.save(folder / "学习制度.docx")
    hostile = folder / "网页安全.txt"
    hostile.write_text(
        f"网页安全测试说明\n本文件用于检验页面转义：{SCRIPT} 和 {IMG} 以及 {TEMPLATE} 必须按原样显示。\n"
        "网页安全测试由信息中心负责，每季度开展一次。\n",
        encoding="utf-8",
    )

    page.goto(url)
    page.get_by_role("tab", name="知识库 Knowledge base").click()
    page.locator("#upload input[type=file]").set_input_files([str(folder / "学习制度.docx"), str(hostile)])
    # Gradio's file list shows a name as stem and extension side by side ("学习制度 .docx" in its text).
    expect(page.locator("#upload")).to_contain_text(re.compile(r"学习制度\s*\.docx"))
    page.locator("#ingest").click()
    expect(page.locator("#ingest-summary")).to_contain_text("已添加 2，已更新 0，未变化 0，失败 0")
    results = page.locator("#ingest-results")
    expect(results).to_contain_text("学习制度.docx")
    expect(results).to_contain_text("网页安全.txt")
    assert results.inner_text().count("已添加 added") == 2
    expect(page.locator("#documents")).to_contain_text("网页安全测试说明")
    expect(page.locator("#documents")).to_contain_text("学习制度.docx")
    # The files were kept under the knowledge base, by their own names.
    assert sorted(p.name for p in (kb.settings.kb_dir / "uploads").iterdir()) == ["学习制度.docx", "网页安全.txt"]
    screenshot(page, "ui-upload.png")

    # The same file again is recognised as unchanged.
    page.locator("#upload input[type=file]").set_input_files([str(folder / "学习制度.docx")])
    page.locator("#ingest").click()
    expect(page.locator("#ingest-summary")).to_contain_text("已添加 0，已更新 0，未变化 1")
    expect(results).to_contain_text("未变化 unchanged")

    page.get_by_role("tab", name="问答 Chat").click()
    ask_in_chat(page, "周三学习日是什么制度？")
    expect(page.locator('#chat [data-testid="bot"]').last).to_contain_text("周三学习日")
    expect(page.locator("#sources .src").first).to_contain_text("学习制度.docx")
    expect(page.locator("#sources mark").first).to_contain_text("周三学习日")

    # Markup in a document and in a question is shown as text and never runs.
    question = f"{IMG} 网页安全测试由哪个部门负责？"
    ask_in_chat(page, question)  # searched as typed: the panel names it, and no 检索内容 line
    sources = page.locator("#sources")
    expect(sources).to_contain_text(SCRIPT)
    expect(sources).to_contain_text(IMG)
    expect(sources).to_contain_text(TEMPLATE)
    expect(page.locator('#chat [data-testid="user"]').last).to_contain_text(IMG)
    page.locator("#sources summary").first.click()
    expect(page.locator("#sources .src-ctx-text").first).to_contain_text(SCRIPT)
    for where in ("#sources", "#chat"):
        assert page.locator(f"{where} script").count() == 0
        assert page.locator(f"{where} img[src='x']").count() == 0
    time.sleep(0.5)  # an onerror handler would have fired by now
    screenshot(page, "ui-escaped.png")
    assert page.dialogs == []


# -- the API ------------------------------------------------------------------------------------------
@pytest.mark.e2e
def test_api_ask_returns_structured_answer(corpus_app):
    from gradio_client import Client

    client = Client(corpus_app, verbose=False)
    result = client.predict(SHUANG, api_name="/ask")
    assert result["refused"] is False
    assert result["searched"] == SHUANG
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", result["text"])}
    assert markers and markers == {c["n"] for c in result["citations"]}
    assert result["mode"] == "extractive" and result["unsupported"] == [] and result["statements"]
    assert any("双报到" in c["text"] for c in result["citations"])
    first = result["citations"][0]
    assert set(first) >= {"n", "title", "source", "section", "text", "quote", "start", "end", "page"}
    assert first["quote"] in first["text"]

    refused = client.predict("明天北京会下雨吗？", api_name="/ask")
    assert refused["refused"] is True and refused["citations"] == [] and refused["nearest"]

    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="empty"):
        client.predict("   ", api_name="/ask")


@pytest.mark.e2e
def test_browser_local_model_answer_streams_and_a_down_backend_falls_back(corpus_app, page):
    """The answer-mode choice: the real local model answers with citations; a broken backend never leaves a blank."""
    from playwright.sync_api import expect

    page.goto(corpus_app)
    page.locator("#settings").get_by_text("设置 Settings").click()
    page.locator("#answer-mode").get_by_text("本地模型 Local model").click()
    box = page.locator("#question textarea")
    box.fill(SHUANG)
    box.press("Enter")
    bot = page.locator('#chat [data-testid="bot"]').last
    expect(page.locator("#sources .src-for")).to_contain_text(SHUANG, timeout=300_000)
    expect(bot).to_contain_text("[1]")
    expect(bot).not_to_contain_text("▍")  # the streaming cursor is gone: the verified answer replaced the draft
    assert "双报到" in " ".join(page.locator("#sources .src-text").all_inner_texts())
    screenshot(page, "ui-local-model.png")

    # The OpenAI-compatible backend is not configured here: it cannot be chosen, and the page says so
    # in plain words (a backend that fails when asked is answered extractively: test_ui_chat_parts.py).
    expect(page.locator("#answer-mode")).not_to_contain_text("OpenAI")
    expect(page.locator("#modes-off .mode-off[data-mode=openai]")).to_contain_text(
        "未配置 OpenAI 兼容服务，请联系管理员"
    )
    assert page.locator("#modes-off input[type=radio]:disabled").count() >= 1
    screenshot(page, "ui-backend-fallback.png")
    assert page.dialogs == []


def test_answer_message_flags_unsupported_sentences_and_unverified_refusals():
    answer = Answer(question="q", text="甲。[1]乙。〔未找到依据〕", refused=False, unsupported=["乙。"])
    assert "有 1 句话在文件中找不到依据" in answer_message(answer, "问题")
    assert "1 sentence(s) not supported" in answer_message(answer, "a question")
    refused = Answer(question="q", text="知识库中没有找到能回答这个问题的内容。", refused=True, generated="乙。")
    assert "无法在文件中找到依据" in answer_message(refused, "问题")
    quoted = Answer(
        question="q",
        text="模型给出的回答无法在文件中找到依据，因此不予采用；以下是文件原文摘录：\n甲。[1]",
        refused=False,
        generated="乙。",
        fallback="extractive",
    )
    message = answer_message(quoted, "问题")
    assert message.startswith("> **ⓘ 模型给出的回答无法在文件中找到依据") and message.endswith("\n\n甲。\\[1\\]")


@pytest.mark.e2e  # real Chroma
def test_delete_from_the_knowledge_base_view(tmp_path):
    import shutil

    from conftest import CORPUS, HashEmbedder, models_dir

    from assistant.api import Assistant
    from assistant.app.ui.documents_tab import delete_sources, source_choices

    shutil.copy(CORPUS / "001_74ca4dddf80f577d.txt", tmp_path / "a <b>.txt")
    kb = Assistant(Settings.load(tmp_path / "home", models=str(models_dir())), embedder=HashEmbedder())
    kb.ingest([tmp_path / "a <b>.txt"])
    ((label, source),) = source_choices(kb)
    assert label.startswith("a <b>.txt —《") and str(tmp_path) not in label  # name and title, no server path
    assert "请先选择" in delete_sources(kb, [])
    message = delete_sources(kb, [source])
    assert message.startswith("已删除 Deleted 1") and "<b>" not in message  # file names shown as text
    assert kb.documents() == [] and source_choices(kb) == []
    assert "删除失败" in delete_sources(kb, [source])
    kb.close()
