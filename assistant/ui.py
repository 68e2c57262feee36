"""The browser chat (Gradio 6): questions with checkable citations, a sources panel, uploads, the /ask API."""

from __future__ import annotations

import html
import ipaddress
import logging
import os
import re
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

# Gradio reads this when it is imported: no usage statistics leave an offline machine.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402  (the environment variable must be set first)

from assistant.errors import AssistantError, QuestionError  # noqa: E402
from assistant.results import Answer, Citation  # noqa: E402

log = logging.getLogger("assistant.ui")

EXAMPLES = [
    "机关是怎样落实在职党员“双报到”制度的？",
    "How do offices run the 双报到 system?",
    "办公室怎样做好保密工作？",
    "办公室如何开展督查督办工作？",
    "机关是如何开展清廉机关建设的？",
]
UPLOAD_TYPES = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")
CONTEXT_CHARS = 300  # characters of the document shown before and after a passage


# -- settings of the server -----------------------------------------------------------------
@dataclass(frozen=True)
class ServerOptions:
    """What the web server needs, taken from the knowledge base's Settings (ASSISTANT_HOST, …)."""

    host: str = "127.0.0.1"
    port: int = 7860
    user: str = ""
    password: str = ""
    max_upload_mb: int = 50
    max_upload_files: int = 20

    @classmethod
    def from_settings(cls, settings: Any) -> "ServerOptions":
        return cls(host=settings.host, port=settings.port, user=settings.ui_user, password=settings.ui_password,
                   max_upload_mb=settings.max_upload_mb, max_upload_files=settings.max_upload_files)

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.user, self.password) if self.user else None


def is_loopback(host: str) -> bool:
    """True when a server bound to `host` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, auth: tuple[str, str] | None) -> str | None:
    """The warning to show when the server is reachable from other machines without a password."""
    if auth is not None or is_loopback(host):
        return None
    return (f"服务器监听 {host}，且未设置密码：同一网络中的任何人都能查看并修改知识库。"
            "请设置 ASSISTANT_UI_USER 和 ASSISTANT_UI_PASSWORD。"
            f" The server listens on {host} without a password: anyone on the network can read and change"
            " the knowledge base. Set ASSISTANT_UI_USER and ASSISTANT_UI_PASSWORD.")


# -- follow-up questions -----------------------------------------------------------------------
_QUOTED = re.compile(r"[“\"「『‘']([^”\"」』’']{1,20})[”\"」』’']")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[A-Za-z][A-Za-z0-9'’-]*|\d+")
_PUNCT = re.compile(r"[\s，。！？；：、,.!?;:()（）《》<>\[\]【】“”\"'‘’…—-]+")
# Question words and particles: they say how something is asked, not what about.
_ZH_STOP = ("是怎样", "是如何", "怎么样", "怎样", "怎么", "如何", "是什么", "什么", "哪些", "哪个", "哪里", "为什么",
            "是否", "多少", "请问", "请", "一下", "的", "了", "吗", "呢", "吧", "啊")
# Words that frame a question ("how do offices implement …") rather than name its topic: a
# follow-up such as "那保密工作呢？" keeps the frame and swaps the topic.
_ZH_FRAME = ("党委办公厅", "政府办公厅", "党员干部", "党组织", "办公室", "办公厅", "党支部", "机关", "单位", "部门", "干部",
             "落实", "开展", "推进", "推动", "加强", "建立", "健全", "实行", "执行", "实施", "贯彻", "做好", "抓好",
             "组织", "做法", "措施", "经验", "成效", "要求")
_ZH_PRONOUN = ("它们", "它的", "它", "其", "这个", "这些", "这项", "这种", "这一", "该", "上述", "此", "那个", "那些")
_ZH_SWAP_LEAD = ("那么", "那", "还有", "另外", "此外", "至于", "关于", "以及", "再说说", "说说")
_ZH_SWAP_TAIL = ("又是怎样的", "是怎样的", "又如何", "情况如何", "怎么样", "如何", "怎样", "方面", "的情况", "呢", "吗")
# Questions that only make sense about what was just discussed.
_ZH_GENERIC = {"具体做法", "具体措施", "做法", "措施", "要求", "成效", "效果", "原因", "目的", "意义", "怎么做", "具体怎么做",
               "为什么", "有哪些", "例子", "举例", "详细", "详细说说", "展开说说", "具体", "还有吗", "还有呢"}
_EN_STOP = {"how", "what", "why", "when", "where", "which", "who", "whom", "do", "does", "did", "is", "are", "was", "were",
            "the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "about", "with", "by", "can", "could",
            "should", "would", "will", "their", "its", "it", "they", "them", "this", "that", "these", "those", "be",
            "been", "have", "has", "had", "tell", "me", "please", "there", "any", "so", "then", "also"}
_EN_FRAME = {"office", "offices", "agency", "agencies", "department", "departments", "unit", "units", "organ", "organs",
             "organisation", "organisations", "organization", "organizations", "run", "runs", "implement",
             "implements", "carry", "carries", "out", "organise", "organize", "handle", "handles", "manage",
             "manages", "promote", "strengthen", "establish", "measures", "practice", "practices", "experience",
             "requirements"}
_EN_SWAP = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(.*)$|^\s*and\s+(.*)$|^\s*what\s+of\s+(.*)$", re.I)
_EN_PRONOUN_WORD = re.compile(r"\b(it|its|they|their|them|this|these|those)\b", re.I)
_EN_PRONOUN = re.compile(r"^\s*(?:and\s+)?(it|its|it's|they|their|them|this|that|these|those)\b", re.I)


def _strip_zh_stop(text: str) -> str:
    for word in _ZH_STOP:
        text = text.replace(word, " ")
    return text


def _content(text: str) -> str:
    """The words of a question without punctuation, question words and particles."""
    return _PUNCT.sub("", _strip_zh_stop(text))


def _split_terms(text: str) -> list[tuple[str, bool]]:
    """A question's key terms in order, each flagged True when it frames rather than names the topic."""
    terms: list[tuple[str, bool]] = []
    # Quoted terms (“双报到”) are names: keep them whole before anything cuts them.
    pieces = _QUOTED.split(text)
    for i, piece in enumerate(pieces):
        if i % 2 == 1:
            terms.append((piece.strip(), False))
            continue
        for token in _TOKEN.findall(_strip_zh_stop(piece)):
            if token[0].isascii():
                low = token.lower()
                if low not in _EN_STOP:
                    terms.append((token, low in _EN_FRAME))
                continue
            terms.extend(_cut_frame(token))
    seen: set[str] = set()
    out = []
    for term, frame in terms:
        if len(term) >= 2 and term not in seen:  # one character alone (是, 在) carries no meaning
            seen.add(term)
            out.append((term, frame))
    return out


def _cut_frame(run: str) -> list[tuple[str, bool]]:
    """Split a run of Chinese characters into frame words and the topic fragments between them."""
    for word in _ZH_FRAME:  # longest first within each family, so 党组织 wins over 组织
        at = run.find(word)
        if at >= 0:
            return _cut_frame(run[:at]) + [(word, True)] + _cut_frame(run[at + len(word):])
    return [(run, False)] if run else []


def _swap_topic_zh(question: str) -> str | None:
    """The new topic of a "那X呢？" follow-up, or None when the question is not of that shape."""
    rest = _PUNCT.sub(" ", question).strip()
    lead = ""
    while True:  # "那么，还有…" carries several lead words
        word = next((w for w in _ZH_SWAP_LEAD if rest.startswith(w)), "")
        if not word:
            break
        lead += word
        rest = rest[len(word):].strip()
    tail = ""
    for w in _ZH_SWAP_TAIL:
        if rest.endswith(w):
            tail, rest = w, rest[: -len(w)].strip()
            break
    if not lead and tail not in ("呢", "怎么样", "如何", "又如何", "情况如何"):
        return None
    if not lead and len(_content(rest)) > 10:
        return None  # a long question that ends in 呢 stands on its own
    return rest


def rewrite_followup(question: str, history_questions: Sequence[str]) -> str:
    """What to search for a question asked after others, until a language model can rewrite it.

    A follow-up that swaps the topic ("那保密工作呢？", "what about confidentiality?") keeps the
    previous question's framing words (机关, 落实 …) and takes the new topic; one that refers back
    ("它有什么要求？", "why?", short questions) is searched together with the previous topic. Any
    other question is returned unchanged.

    Args:
        question: the question as typed.
        history_questions: earlier questions of the conversation, oldest first, as they were
            searched (already rewritten), so a chain of follow-ups keeps its context.

    Returns:
        The text to search: the question itself, or its key terms joined by spaces.
    """
    question = question.strip()
    previous = next((h.strip() for h in reversed(history_questions) if h and h.strip()), "")
    if not question or not previous:
        return question
    terms = _split_terms(previous)
    frame = [t for t, is_frame in terms if is_frame]
    topic = [t for t, is_frame in terms if not is_frame]
    english = bool(re.match(r"\W*[A-Za-z]", question))  # "what about 保密工作?" is framed in English

    new_topic: str | None = None
    refers_back = False
    if english:
        m = _EN_SWAP.match(question)
        words = re.findall(r"[A-Za-z']+", question)
        if m:
            new_topic = _PUNCT.sub(" ", next(g for g in m.groups() if g is not None)).strip()
            if _EN_PRONOUN.match(new_topic) or not new_topic:
                refers_back, new_topic = True, None
        elif _EN_PRONOUN.match(question) or len(words) <= 2 or (len(words) <= 6 and _EN_PRONOUN_WORD.search(question)):
            refers_back = True
    else:
        body = _PUNCT.sub("", question)
        if any(body.startswith(p) for p in _ZH_PRONOUN) and not body.startswith(("此外", "其他", "其中", "其实")):
            refers_back = True
        else:
            new_topic = _swap_topic_zh(question)
            if new_topic is not None and (not new_topic or any(new_topic.startswith(p) for p in _ZH_PRONOUN)):
                refers_back, new_topic = True, None
            elif new_topic is None:
                content = _content(question)
                if len(content) <= 2 or content in _ZH_GENERIC:
                    refers_back = True

    if new_topic and not any(not is_frame for _, is_frame in _split_terms(new_topic)):
        # "此外还有哪些措施？", "and why?": no new topic named, so it is about the previous one.
        refers_back, new_topic = True, None
    if new_topic:
        carried = [t for t in frame if t not in new_topic]
        return " ".join([new_topic, *carried]).strip()
    if refers_back:
        carried = [t for t in (topic or [t for t, _ in terms]) if t not in question]
        return " ".join([*carried, question]).strip()
    return question


# -- HTML of the sources panel (everything from documents or users is escaped first) ----------
def esc(text: Any) -> str:
    """Text made safe to place inside HTML (element content or a quoted attribute)."""
    return html.escape("" if text is None else str(text), quote=True)


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` escaped, with the given character spans wrapped in <mark> (added after escaping)."""
    spans = sorted((max(0, s), min(len(text), e)) for s, e in spans if e > s)
    out, pos = [], 0
    for s, e in spans:
        if e <= pos:
            continue
        s = max(s, pos)
        out.append(esc(text[pos:s]))
        out.append(f"<mark>{esc(text[s:e])}</mark>")
        pos = e
    out.append(esc(text[pos:]))
    return "".join(out)


def _quote_span(citation: Citation) -> tuple[int, int] | None:
    """Where the citation's quote lies inside its passage text."""
    s, e = citation.start - citation.passage_start, citation.end - citation.passage_start
    if 0 <= s < e <= len(citation.text) and citation.text[s:e] == citation.quote:
        return s, e
    at = citation.text.find(citation.quote) if citation.quote else -1
    return (at, at + len(citation.quote)) if at >= 0 else None


def file_label(source: str, page: int | None = None) -> str:
    name = Path(source).name if source else ""
    return f"{name}，第 {page} 页 (p. {page})" if page else name


def _context_html(doc_text: str | None, start: int, end: int, passage_html: str, chars: int) -> str:
    if not doc_text or not 0 <= start <= end <= len(doc_text):
        return ""
    before_at = max(0, start - chars)
    after_to = min(len(doc_text), end + chars)
    before = ("…" if before_at > 0 else "") + doc_text[before_at:start]
    after = doc_text[end:after_to] + ("…" if after_to < len(doc_text) else "")
    return (
        '<details class="src-ctx"><summary>查看上下文 · Show surrounding text</summary>'
        f'<div class="src-ctx-text">{esc(before)}<span class="src-in">{passage_html}</span>{esc(after)}</div></details>'
    )


def _meta_html(title: str, section: str, source: str, page: int | None) -> str:
    parts = [f'<div class="src-title">《{esc(title)}》</div>']
    if section:
        parts.append(f'<div class="src-meta"><span class="src-k">章节 Section</span> {esc(section)}</div>')
    parts.append(f'<div class="src-meta"><span class="src-k">文件 File</span> {esc(file_label(source, page))}</div>')
    return "".join(parts)


def sources_html(answer: Answer | None, document_text: Callable[[str], str | None] | None = None,
                 context_chars: int = CONTEXT_CHARS) -> str:
    """The sources panel for an answer: each cited passage with its quote highlighted, or, for a
    refusal, the nearest passages marked as not answering. All document text is escaped."""
    if answer is None:
        return ('<div class="src-empty">提问后，答案引用的原文段落会显示在这里。<br>'
                'The passages an answer cites are shown here.</div>')
    cache: dict[str, str | None] = {}

    def doc(doc_id: str) -> str | None:
        if document_text is None or not doc_id:
            return None
        if doc_id not in cache:
            try:
                cache[doc_id] = document_text(doc_id)
            except Exception:  # the panel still shows the passage when the document cannot be read
                log.exception("cannot read document %s", doc_id)
                cache[doc_id] = None
        return cache[doc_id]

    parts = []
    if answer.searched:
        parts.append(f'<div class="src-searched">检索内容 Searched：{esc(answer.searched)}</div>')
    if answer.refused:
        parts.append(
            '<div class="src-refusal" role="note"><b>⚠ 知识库中没有找到答案 · No answer in the documents</b><br>'
            '以下是最接近的段落，仅供参考，<b>它们并不回答这个问题</b>。'
            'The nearest passages below are for reference only; they do not answer the question.</div>'
        )
        for i, p in enumerate(answer.nearest, 1):
            body = esc(p.text)
            parts.append(
                f'<div class="src src-nearest"><div class="src-head"><span class="src-badge src-badge-no">'
                f'最接近 {i} · 不回答此问题 / does not answer</span></div>'
                f'{_meta_html(p.title, p.section, p.source, p.page)}'
                f'<div class="src-text">{body}</div>'
                f'{_context_html(doc(p.doc_id), p.start, p.end, body, context_chars)}</div>'
            )
        return "".join(parts)

    groups: dict[int, list[Citation]] = {}
    for c in answer.citations:
        groups.setdefault(c.n, []).append(c)
    if not groups:
        parts.append('<div class="src-empty">这个回答没有引用来源。No sources were cited.</div>')
    for n in sorted(groups):
        cs = groups[n]
        first = cs[0]
        spans = [span for span in (_quote_span(c) for c in cs) if span]
        body = highlight(first.text, spans)
        parts.append(
            f'<div class="src" id="source-{n}"><div class="src-head"><span class="src-badge">[{n}]</span></div>'
            f'{_meta_html(first.title, first.section, first.source, first.page)}'
            f'<div class="src-text">{body}</div>'
            f'{_context_html(doc(first.doc_id), first.passage_start, first.passage_end, body, context_chars)}</div>'
        )
    return "".join(parts)


SOURCES_CSS = """
.src-empty { color: var(--body-text-color-subdued); padding: 8px 2px; }
.src-searched { font-size: 0.9em; opacity: 0.75; margin: 2px 0 8px; }
.src-refusal { border: 1px solid #d99a00; background: rgba(255, 196, 0, 0.15); border-radius: 6px;
               padding: 8px 10px; margin-bottom: 10px; }
.src { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 8px 10px; margin-bottom: 10px; }
.src-nearest { border-style: dashed; opacity: 0.92; }
.src-badge { display: inline-block; font-weight: bold; border-radius: 4px; padding: 0 6px;
             background: var(--color-accent-soft); }
.src-badge-no { background: rgba(255, 196, 0, 0.25); font-weight: normal; }
.src-title { font-weight: bold; margin: 4px 0 2px; }
.src-meta { font-size: 0.88em; opacity: 0.8; }
.src-k { display: inline-block; min-width: 6.5em; }
.src-text { white-space: pre-wrap; margin-top: 6px; line-height: 1.6; }
.src-text mark, .src-ctx-text mark { background: #ffe066; color: #222; padding: 0 1px; }
.src-ctx summary { cursor: pointer; margin-top: 6px; color: var(--link-text-color, #2563eb); }
.src-ctx-text { white-space: pre-wrap; font-size: 0.92em; line-height: 1.6; margin-top: 4px;
                color: var(--body-text-color-subdued); max-height: 360px; overflow-y: auto; }
.src-in { color: var(--body-text-color); background: var(--color-accent-soft); }
"""


# -- chat messages (Markdown rendered by the Chatbot: escape HTML and Markdown both) ----------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#~|!$])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=])", re.M)  # list items, setext headings, rules
_MD_ORDERED = re.compile(r"^(\s*\d+)([.)])", re.M)  # "1." would start a numbered list


def chat_text(text: str) -> str:
    """Text shown literally in a Markdown chat message: no HTML, no Markdown, no LaTeX from it."""
    # Escape HTML without touching quotes, so no entity contains a character escaped below.
    escaped = html.escape(text, quote=False)
    escaped = _MD_SPECIAL.sub(r"\\\1", escaped)
    escaped = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    return _MD_ORDERED.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def answer_message(answer: Answer, asked: str) -> str:
    """The chat message of an answer: what was searched, then the text with its [n] markers."""
    english = len(re.findall(r"[A-Za-z]", asked)) > len("".join(_CJK_RUN.findall(asked)))
    lines = []
    if answer.searched and answer.searched.strip() != asked.strip():
        label = "Searched for" if english else "检索内容"
        lines.append(f"*{label}：{chat_text(answer.searched)}*")
        lines.append("")
    if answer.refused:
        # A block quote sets a refusal apart from answers; the nearest passages go to the panel.
        head = answer.text.split("\n", 1)[0]
        lines.append(f"> **⚠ {chat_text(head)}**")
        if answer.nearest:
            lines.append(">")
            lines.append("> " + (
                "The nearest passages are listed under Sources; they do not answer the question." if english
                else "最接近的段落列在“来源”中，仅供参考，它们并不回答这个问题。"
            ))
    else:
        lines.append(chat_text(answer.text))
    return "\n".join(lines)


def answer_dict(answer: Answer) -> dict[str, Any]:
    """An Answer as JSON-able data for the /ask API."""
    return {
        "question": answer.question,
        "text": answer.text,
        "refused": answer.refused,
        "citations": [asdict(c) for c in answer.citations],
        "nearest": [asdict(p) for p in answer.nearest],
        "searched": answer.searched,
        "evidence": answer.evidence,
        "seconds": answer.seconds,
    }


def ask_kb(kb: Any, question: str, k: int | None = None) -> Answer:
    """kb.ask, with a per-request number of passages when it differs from the knowledge base's own."""
    if k is None or int(k) == kb.settings.top_k:
        return kb.ask(question)
    return kb.ask(question, k=int(k))


# -- the knowledge-base tab ------------------------------------------------------------------
DOC_HEADERS = ["标题 Title", "文件 File", "片段 Chunks", "入库时间 Ingested (UTC)"]
RESULT_HEADERS = ["文件 File", "结果 Result", "说明 Details"]
RESULT_LABELS = {"added": "已添加 added", "updated": "已更新 updated", "unchanged": "未变化 unchanged",
                 "failed": "失败 failed", "skipped": "已跳过 skipped", "rejected": "未导入 rejected"}


def source_choices(kb: Any) -> list[tuple[str, str]]:
    """(label, source) pairs for the delete picker: the file name first, the full path after it."""
    return [(f"{Path(source).name} — {source}", source) for source in sorted({d.source for d in kb.documents()})]


def delete_sources(kb: Any, sources: Sequence[str] | None) -> str:
    """Remove the chosen files' documents; a message for the page (text, escaped by Markdown use)."""
    if not sources:
        return "请先选择要删除的文件。Choose the files to delete first."
    try:
        removed = kb.delete(list(sources))
    except AssistantError as exc:
        return f"删除失败 Delete failed：{chat_text(str(exc))}"
    names = "、".join(chat_text(Path(s).name) for s in removed)
    return f"已删除 Deleted {len(removed)}：{names}"


def document_rows(kb: Any) -> list[list[Any]]:
    rows = []
    for d in kb.documents():
        when = (d.ingested_at or "").replace("T", " ").removesuffix("+00:00")
        title = d.title + ("" if d.complete else "（未完成 incomplete）")
        rows.append([title, Path(d.source).name, d.n_chunks, when])
    return rows


def _safe_name(name: str) -> str:
    """The uploaded file's own name, without any folder part a browser might send."""
    name = Path(str(name).replace("\\", "/")).name.strip()
    return "" if name in ("", ".", "..") else name


def ingest_uploads(kb: Any, files: Sequence[Any] | None, *, max_mb: int, max_files: int,
                   progress: Callable[[int, int, str], None] | None = None) -> tuple[str, list[list[str]]]:
    """Copy uploaded files into <kb_dir>/uploads (keeping their names), ingest them, report per file.

    Returns:
        A one-line summary and the rows (file, result, details) of the per-file table.
    """
    paths = [getattr(f, "name", f) for f in (files or []) if f]
    if not paths:
        return "请先选择要上传的文件。Choose files to upload first.", []
    if len(paths) > max_files:
        return (f"一次最多上传 {max_files} 个文件，本次选择了 {len(paths)} 个。请分批上传。"
                f" At most {max_files} files per upload ({len(paths)} chosen)."), []
    folder = Path(kb.settings.kb_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    targets: dict[str, str] = {}  # resolved destination -> shown name
    limit = max_mb * 1024 * 1024
    for p in paths:
        src = Path(p)
        name = _safe_name(src.name)
        if not name or name.startswith("."):
            rows.append([name or str(src), RESULT_LABELS["rejected"], "文件名无效 invalid file name"])
            continue
        if src.suffix.lower() not in UPLOAD_TYPES:
            rows.append([name, RESULT_LABELS["rejected"],
                         f"不支持的格式（支持 {' '.join(UPLOAD_TYPES)}） unsupported format"])
            continue
        size = src.stat().st_size
        if size > limit:
            rows.append([name, RESULT_LABELS["rejected"],
                         f"文件过大：{size / 1048576:.1f} MB，上限 {max_mb} MB。 File too large (limit {max_mb} MB)."])
            continue
        dest = folder / name
        if dest.resolve() in {Path(t) for t in targets}:
            rows.append([name, RESULT_LABELS["rejected"], "同名文件已在本次上传中 duplicate name in this upload"])
            continue
        # Gradio's temporary copy disappears; the knowledge base keeps its own, under the original name.
        shutil.copyfile(src, dest)
        targets[str(dest.resolve())] = name
    if not targets:
        return "没有可导入的文件。Nothing to ingest.", rows
    report = kb.ingest([Path(t) for t in targets], progress=progress)
    chunks: dict[str, int] = {}
    docs: dict[str, int] = {}
    for d in kb.documents():
        chunks[d.source] = chunks.get(d.source, 0) + d.n_chunks
        docs[d.source] = docs.get(d.source, 0) + 1

    def detail(source: str) -> str:
        n_docs = docs.get(source, 0)
        text = f"{chunks.get(source, 0)} 个片段 chunks"
        return text + (f"，{n_docs} 篇文档 documents" if n_docs > 1 else "")

    outcome: dict[str, list[str]] = {}
    for kind in ("added", "updated", "unchanged"):
        for source in getattr(report, kind):
            outcome[source] = [RESULT_LABELS[kind], detail(source)]
    for kind in ("failed", "skipped"):
        for source, reason in getattr(report, kind):
            outcome[str(Path(source).resolve())] = [RESULT_LABELS[kind], reason]
    for target, name in targets.items():
        rows.append([name, *outcome.get(target, [RESULT_LABELS["failed"], "未处理 not processed"])])
    summary = (f"已添加 {len(report.added)}，已更新 {len(report.updated)}，未变化 {len(report.unchanged)}，"
               f"失败 {len(report.failed) + len(report.skipped) + sum(r[1] == RESULT_LABELS['rejected'] for r in rows)}"
               f"（用时 {report.seconds:.1f} 秒）。 added {len(report.added)}, updated {len(report.updated)}, "
               f"unchanged {len(report.unchanged)}.")
    return summary, rows


# -- the app ------------------------------------------------------------------------------------
def _new_session() -> dict[str, list]:
    # searched: what each turn searched (context for follow-ups); sources: the panel of each turn.
    return {"searched": [], "sources": []}


def _constant(value: str) -> Callable[[], str]:
    return lambda: value


def build_app(kb: Any, *, max_upload_mb: int | None = None, max_upload_files: int | None = None,
              warning: str | None = None) -> gr.Blocks:
    """The Gradio app for a knowledge base: chat with sources, knowledge-base tab, and the /ask API.

    Args:
        kb: an open Assistant.
        max_upload_mb: largest file accepted for upload (default settings.max_upload_mb).
        max_upload_files: most files per upload (default settings.max_upload_files).
        warning: a notice shown at the top of the page (e.g. the server is exposed without a password).
    """
    options = ServerOptions.from_settings(kb.settings)
    max_mb = max_upload_mb or options.max_upload_mb
    max_files = max_upload_files or options.max_upload_files
    default_k = max(1, min(10, kb.settings.top_k))

    def respond(question: str, history: list | None, session: dict | None, k: float):
        history = list(history or [])
        session = session or _new_session()
        question = (question or "").strip()
        if not question:
            gr.Warning("请输入问题。Type a question first.")
            return gr.update(), history, session, gr.update()
        searched = rewrite_followup(question, session["searched"])
        history.append({"role": "user", "content": chat_text(question)})
        try:
            answer = ask_kb(kb, searched, int(k))
        except QuestionError as exc:
            history.append({"role": "assistant", "content": f"**⚠ {chat_text(str(exc))}**"})
            session = {"searched": session["searched"], "sources": session["sources"] + [""]}
            return "", history, session, gr.update()
        except AssistantError as exc:
            log.warning("question failed: %s", exc)
            history.append({"role": "assistant", "content": f"**⚠ 出错了 Error：{chat_text(str(exc))}**"})
            session = {"searched": session["searched"], "sources": session["sources"] + [""]}
            return "", history, session, gr.update()
        if not answer.searched:
            answer.searched = searched
        panel = sources_html(answer, kb.document_text)
        history.append({"role": "assistant", "content": answer_message(answer, question)})
        session = {"searched": session["searched"] + [answer.searched], "sources": session["sources"] + [panel]}
        return "", history, session, panel

    def show_turn(session: dict | None, evt: gr.SelectData):
        # Clicking an earlier message shows the sources of that turn again.
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        sources = (session or {}).get("sources", [])
        if isinstance(index, int) and 0 <= index // 2 < len(sources) and sources[index // 2]:
            return sources[index // 2]
        return gr.update()

    def new_chat():
        return [], _new_session(), sources_html(None), ""

    def refresh_docs():
        return document_rows(kb), gr.update(choices=source_choices(kb), value=[])

    def run_delete(chosen):
        message = delete_sources(kb, chosen)
        return (message, *refresh_docs())

    def run_ingest(files, progress=gr.Progress()):  # noqa: B008 (how Gradio injects a progress bar)
        progress(0, desc="准备导入 Preparing…")

        def step(done: int, total: int, source: str) -> None:
            name = Path(source).name if source else "更新索引 updating the index"
            progress((done, max(total, 1)), desc=f"正在导入 Ingesting：{name}", unit="files")

        try:
            summary, rows = ingest_uploads(kb, files, max_mb=max_mb, max_files=max_files, progress=step)
        except AssistantError as exc:
            summary, rows = f"导入失败 Ingestion failed：{exc}", []
        return summary, rows, *refresh_docs(), None

    def api_ask(question: str, k: int = 0) -> dict:
        """Answer a question from the documents: text with [n] markers, refused flag, citations."""
        try:
            answer = ask_kb(kb, question, k or None)
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc
        return answer_dict(answer)

    with gr.Blocks(title="办公文档问答 · Office document Q&A", analytics_enabled=False) as app:
        session = gr.State(_new_session())
        gr.Markdown("## 办公文档问答助手 · Office document Q&A\n"
                    "答案只来自知识库中的文件，每句话都标注来源 [n]。"
                    "Answers come only from the documents in the knowledge base; every statement cites its source [n].")
        if warning:
            gr.HTML(f'<div class="ui-warning" role="alert">⚠ {esc(warning)}</div>',
                    css_template=".ui-warning { border: 1px solid #c0392b; background: rgba(192,57,43,.12);"
                                 " border-radius: 6px; padding: 8px 10px; }", js_on_load=None, elem_id="warning")
        with gr.Tabs():
            with gr.Tab("问答 Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=360):
                        chatbot = gr.Chatbot(
                            label="对话 Conversation", elem_id="chat", height=520, sanitize_html=True,
                            render_markdown=True, latex_delimiters=[], feedback_options=None, buttons=["copy"],
                            placeholder="请在下方输入问题，或点击示例。Ask a question below, or pick an example.",
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                show_label=False, placeholder="输入问题，按回车发送 · Type a question and press Enter",
                                scale=5, elem_id="question", max_lines=4, autofocus=True,
                            )
                            send = gr.Button("发送 Send", variant="primary", scale=1, min_width=90, elem_id="send")
                        with gr.Row():
                            gr.Markdown("示例问题 Examples：")
                        with gr.Row():
                            example_buttons = [gr.Button(e, size="sm", variant="secondary", elem_classes=["example"])
                                               for e in EXAMPLES]
                        with gr.Row():
                            clear = gr.Button("新对话 New conversation", size="sm", variant="secondary",
                                              elem_id="new-chat")
                        with gr.Accordion("设置 Settings", open=False, elem_id="settings"):
                            top_k = gr.Slider(1, 10, value=default_k, step=1,
                                              label="检索段落数 Passages to use (top k)", elem_id="top-k")
                            gr.Markdown("回答方式 Answer mode：抽取式（直接引用原文，无需语言模型）"
                                        " · extractive (quotes the documents; no language model).")
                    with gr.Column(scale=2, min_width=320):
                        gr.Markdown("### 来源 Sources")
                        sources = gr.HTML(sources_html(None), css_template=SOURCES_CSS, js_on_load=None,
                                          elem_id="sources", padding=False)
            with gr.Tab("知识库 Knowledge base", id="kb"):
                gr.Markdown(f"支持上传 {' '.join(UPLOAD_TYPES)}；每个文件不超过 {max_mb} MB，每次最多 {max_files} 个。"
                            f" Upload {' '.join(UPLOAD_TYPES)} files, up to {max_mb} MB each and {max_files} at a time.")
                with gr.Row():
                    uploads = gr.File(label="上传文件 Upload files", file_count="multiple",
                                      file_types=list(UPLOAD_TYPES), type="filepath", elem_id="upload")
                with gr.Row():
                    ingest_button = gr.Button("导入知识库 Ingest", variant="primary", elem_id="ingest")
                    refresh = gr.Button("刷新列表 Refresh", variant="secondary", elem_id="refresh")
                ingest_summary = gr.Markdown(elem_id="ingest-summary")
                ingest_table = gr.Dataframe(headers=RESULT_HEADERS, datatype=["str", "str", "str"], value=[],
                                            interactive=False, label="导入结果 Ingestion results",
                                            elem_id="ingest-results", wrap=True)
                documents = gr.Dataframe(headers=DOC_HEADERS, datatype=["str", "str", "number", "str"],
                                         value=document_rows(kb), interactive=False, wrap=True,
                                         label="知识库中的文件 Documents in the knowledge base", elem_id="documents")
                with gr.Row():
                    to_delete = gr.Dropdown(choices=source_choices(kb), multiselect=True, scale=4,
                                            label="从知识库删除 Remove from the knowledge base", elem_id="to-delete")
                    delete_button = gr.Button("删除 Delete", variant="stop", scale=1, elem_id="delete")
                delete_summary = gr.Markdown(elem_id="delete-summary")

        outputs = [question, chatbot, session, sources]
        question.submit(respond, [question, chatbot, session, top_k], outputs, api_visibility="private")
        send.click(respond, [question, chatbot, session, top_k], outputs, api_visibility="private")
        for button, text in zip(example_buttons, EXAMPLES, strict=True):
            button.click(_constant(text), None, question, api_visibility="private", queue=False).then(
                respond, [question, chatbot, session, top_k], outputs, api_visibility="private")
        chatbot.select(show_turn, [session], sources, api_visibility="private")
        clear.click(new_chat, None, [chatbot, session, sources, question], api_visibility="private")
        chatbot.clear(new_chat, None, [chatbot, session, sources, question], api_visibility="private")
        ingest_button.click(run_ingest, [uploads], [ingest_summary, ingest_table, documents, to_delete, uploads],
                            api_visibility="private")
        refresh.click(refresh_docs, None, [documents, to_delete], api_visibility="private")
        delete_button.click(run_delete, [to_delete], [delete_summary, documents, to_delete], api_visibility="private")
        app.load(refresh_docs, None, [documents, to_delete], api_visibility="private")
        gr.api(api_ask, api_name="ask")
    return app


def serve(kb: Any, host: str | None = None, port: int | None = None, **launch_kwargs: Any) -> None:
    """Start the browser chat for a knowledge base (blocks until stopped).

    Binds 127.0.0.1:7860 unless told otherwise (arguments, then settings.host/port, i.e.
    ASSISTANT_HOST/ASSISTANT_PORT). settings.ui_user and ui_password turn on a login.
    """
    options = ServerOptions.from_settings(kb.settings)
    host = host or options.host
    port = port or options.port
    warning = exposure_warning(host, options.auth)
    if warning:
        log.warning(warning)
        print(f"WARNING: {warning}", file=sys.stderr)
    app = build_app(kb, warning=warning)
    launch_kwargs.setdefault("max_file_size", f"{options.max_upload_mb}mb")  # a hard cap on top of our own check
    launch_kwargs.setdefault("ssr_mode", False)
    launch_kwargs.setdefault("show_error", True)
    app.queue(default_concurrency_limit=2)
    app.launch(server_name=host, server_port=port, auth=options.auth, **launch_kwargs)


__all__ = ["build_app", "serve", "rewrite_followup", "sources_html", "chat_text", "answer_dict", "ServerOptions",
           "exposure_warning", "delete_sources", "source_choices"]
