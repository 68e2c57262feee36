"""HTML and Markdown of the browser chat: the sources panel and chat messages, all text escaped."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant.answering.framing import FRAMING
from assistant.results import Answer, Citation, Passage
from assistant.text import is_english  # one rule for the language of a question, as the answer uses

log = logging.getLogger("assistant.app.ui.render")

CONTEXT_CHARS = 300  # characters of the document shown before and after a passage


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


_MASK_MARKS = "*＊ \u3000"  # anonymised text masks names with "*": a title should not start with one


def display_title(title: str | None) -> str:
    """A document's title as a person reads it: no leading mask marks ("*市委办公室…" -> "市委办公室…")."""
    return (title or "").lstrip(_MASK_MARKS) or (title or "")


def _meta_html(item: Passage | Citation) -> str:
    title, section, source, page = display_title(item.title), item.section, item.source, item.page
    parts = [f'<div class="src-title">《{esc(title)}》</div>']
    # The 公文 fields the document prints (issuer, 文种, date, 文号), on one line when there are any.
    printed = [v for v in (item.office, item.doc_type, item.date, item.doc_number, item.classification) if v]
    if printed:
        parts.append(f'<div class="src-meta"><span class="src-k">公文 Document</span> {esc(" · ".join(printed))}</div>')
    if item.superseded:  # a newer document replaces this one: say so before anything is read from it
        parts.append(
            f'<div class="src-meta src-superseded"><span class="src-k">已替代 Superseded</span> {esc(item.superseded)}</div>'
        )
    if section:
        parts.append(f'<div class="src-meta"><span class="src-k">章节 Section</span> {esc(section)}</div>')
    parts.append(f'<div class="src-meta"><span class="src-k">文件 File</span> {esc(file_label(source, page))}</div>')
    return "".join(parts)


def sources_html(
    answer: Answer | None, document_text: Callable[[str], str | None] | None = None, context_chars: int = CONTEXT_CHARS
) -> str:
    """The sources panel for an answer: each cited passage with its quote highlighted, or, for a
    refusal, the nearest passages marked as not answering. All document text is escaped."""
    if answer is None:
        return (
            '<div class="src-empty">提问后，答案引用的原文段落会显示在这里。<br>'
            "The passages an answer cites are shown here.</div>"
        )
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
    # The panel names the question its sources belong to (an older answer can be clicked back);
    # what was searched is shown only when a follow-up was rewritten into something else.
    parts.append(f'<div class="src-for">问题 Question：{esc(answer.question)}</div>')
    if answer.searched and answer.searched.strip() != answer.question.strip():
        parts.append(f'<div class="src-searched">检索内容 Searched：{esc(answer.searched)}</div>')
    if _a_reply_only(answer):
        # "谢谢", "这个呢？": a reply about the conversation, not a search that found nothing.
        parts.append('<div class="src-empty">这条回复没有引用文件。 · This reply cites no documents.</div>')
    elif answer.refused:
        parts.append(
            '<div class="src-refusal" role="note"><b>⚠ 知识库中没有找到答案 · No answer in the documents</b><br>'
            "以下是最接近的段落，仅供参考，<b>它们并不回答这个问题</b>。"
            "The nearest passages below are for reference only; they do not answer the question.</div>"
        )
        for i, p in enumerate(answer.nearest, 1):
            body = esc(p.text)
            parts.append(
                f'<div class="src src-nearest"><div class="src-head"><span class="src-badge src-badge-no">'
                f"最接近 {i} · 不回答此问题 / does not answer</span></div>"
                f"{_meta_html(p)}"
                f'<div class="src-text">{body}</div>'
                f"{_context_html(doc(p.doc_id), p.start, p.end, body, context_chars)}</div>"
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
            f"{_meta_html(first)}"
            f'<div class="src-text">{body}</div>'
            f"{_context_html(doc(first.doc_id), first.passage_start, first.passage_end, body, context_chars)}</div>"
        )
    return "".join(parts)


SOURCES_CSS = """
.src-empty { color: var(--body-text-color-subdued); padding: 8px 2px; }
.src-for { font-size: 0.9em; font-weight: 600; margin: 2px 0 4px; }
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
.src-superseded { color: #b00020; opacity: 1; font-weight: bold; }
.src-k { display: inline-block; min-width: 6.5em; }
.src-text { white-space: pre-wrap; margin-top: 6px; line-height: 1.6; }
.src-text mark, .src-ctx-text mark { background: #ffe066; color: #222; padding: 0 1px; }
.src-ctx summary { cursor: pointer; margin-top: 6px; color: var(--link-text-color, #2563eb); }
.src-ctx-text { white-space: pre-wrap; font-size: 0.92em; line-height: 1.6; margin-top: 4px;
                color: var(--body-text-color-subdued); max-height: 360px; overflow-y: auto; }
.src-in { color: var(--body-text-color); background: var(--color-accent-soft); }
.src-turn { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; font-size: 0.9em;
            border-bottom: 1px solid var(--border-color-primary); padding: 2px 0 6px; margin-bottom: 6px;
            scroll-margin-top: 8px; }
.src-turn b { font-size: 1.05em; }
.src-turn a { color: var(--link-text-color, #2563eb); cursor: pointer; }
.src { scroll-margin-top: 8px; }
.src-flash { outline: 3px solid var(--color-accent); outline-offset: 1px; background: var(--color-accent-soft); }
"""


# -- which answer the panel shows, and the links from an answer to its sources ----------------
def turn_panel(panels: list[str], turn: int) -> str:
    """The sources panel of answer `turn` (0-based), headed with which answer it is, of how many."""
    total = len(panels)
    head = f'<div class="src-turn" data-turn="{turn}"><b>第 {turn + 1} 个回答的来源</b>'
    head += f"<span>Sources of answer {turn + 1} of {total}</span>"
    if turn < total - 1:
        head += f'<a class="src-open" href="#answer-{total - 1}-sources">回到最新回答 Latest answer ›</a>'
    head += "</div>"
    body = panels[turn] or '<div class="src-empty">这个回答没有引用来源。No sources for this answer.</div>'
    return head + body


_ESCAPED_MARKER = re.compile(r"\\\[(\d+)\\\]")  # "[3]" as chat_text writes it: \[3\]


def cite_links(message: str, turn: int, numbers: Iterable[int]) -> str:
    """The [n] markers of an answer message (chat_text escaped) as links to the cards of answer `turn`."""
    wanted = set(numbers)

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in wanted:
            return match.group(0)
        # The chat's sanitiser drops data-* attributes; the link's address carries which answer and card.
        return f'<a class="cite" href="#answer-{turn}-source-{n}" title="查看来源 {n}">[{n}]</a>'

    return _ESCAPED_MARKER.sub(link, message)


def sources_link(turn: int, answer: Answer) -> str:
    """The line under an answer that opens its sources (on a phone: the sources drawer)."""
    if answer.citations:
        count = len({c.n for c in answer.citations})
        text = f"查看来源 Sources（{count}）›"
    elif answer.nearest:
        text = "查看最接近的段落 Nearest passages ›"
    else:
        return ""
    return f'<a class="src-open" href="#answer-{turn}-sources">{text}</a>'


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


# The answerer's replies about the conversation itself: nothing was looked for in the documents.
_REPLIES = frozenset(words[key] for words in FRAMING.values() for key in ("courtesy", "ready", "unclear"))


def _a_reply_only(answer: Answer) -> bool:
    """True for a reply about the conversation ("不客气…", "请把问题说完整…"), not a search that found nothing."""
    return answer.refused and answer.text in _REPLIES and not answer.nearest


def answer_message(answer: Answer, asked: str) -> str:
    """The chat message of an answer: what was searched, then the text with its [n] markers."""
    english = is_english(asked)
    lines = []
    if answer.searched and answer.searched.strip() != asked.strip():
        label = "Searched for" if english else "检索内容"
        lines.append(f"*{label}：{chat_text(answer.searched)}*")
        lines.append("")
    if _a_reply_only(answer):
        lines.append(chat_text(answer.text))  # a courtesy or a request to finish the question: no warning needed
    elif answer.refused:
        # A block quote sets a refusal apart from answers; the nearest passages go to the panel.
        head = answer.text.split("\n", 1)[0]
        lines.append(f"> **⚠ {chat_text(head)}**")
        if answer.generated:  # the model wrote something, but nothing of it was supported
            lines.append(">")
            lines.append(
                "> "
                + (
                    "The model's answer could not be verified against the documents, so it is not shown."
                    if english
                    else "模型给出的回答无法在文件中找到依据，因此不予采用。"
                )
            )
        if answer.nearest:
            lines.append(">")
            lines.append(
                "> "
                + (
                    "The nearest passages are listed under Sources; they do not answer the question."
                    if english
                    else "最接近的段落列在“来源”中，仅供参考，它们并不回答这个问题。"
                )
            )
    elif answer.fallback:
        # The model's reply was not verified; what follows is the extractive answer, and must read as quotes.
        head, _, rest = answer.text.partition("\n")
        lines.append(f"> **ⓘ {chat_text(head)}**")
        lines.append("")
        lines.append(chat_text(rest))
    elif answer.partial:
        # Set apart like a refusal, but with its citations: the documents say something, not the asked fact.
        head, _, rest = answer.text.partition("\n")
        label = "Partial answer" if english else "部分回答"
        lines.append(f"> **◐ {label}：{chat_text(head)}**")
        if rest:
            lines.append("")
            lines.append(chat_text(rest))
    else:
        lines.append(chat_text(answer.text))
        if answer.unsupported:
            # The flagged sentences carry 〔未找到依据〕 in the text; say what that means, visibly.
            lines.append("")
            lines.append(
                f"**⚠ {len(answer.unsupported)} sentence(s) not supported by any passage (marked "
                "[not supported by the documents]); check them before use.**"
                if english
                else f"**⚠ 有 {len(answer.unsupported)} 句话在文件中找不到依据（已标注〔未找到依据〕），请勿直接采用。**"
            )
    return "\n".join(lines)


def answer_dict(answer: Answer) -> dict[str, Any]:
    """An Answer as JSON-able data for the /ask API."""
    return {
        "question": answer.question,
        "text": answer.text,
        "refused": answer.refused,
        "partial": answer.partial,
        "missing": answer.missing,
        "fallback": answer.fallback,
        "citations": [asdict(c) for c in answer.citations],
        "nearest": [asdict(p) for p in answer.nearest],
        "searched": answer.searched,
        "evidence": answer.evidence,
        "seconds": answer.seconds,
        "mode": answer.mode,
        "statements": [asdict(st) for st in answer.statements],
        "unsupported": answer.unsupported,
    }


def fallback_note(error: Exception, english: bool) -> str:
    """The line shown above the extractive answer when the chat model failed."""
    if english:
        return f"**⚠ The chat model is unavailable ({chat_text(str(error))}). Here is the extractive answer instead:**"
    return f"**⚠ 语言模型不可用（{chat_text(str(error))}），以下改用抽取式回答：**"


__all__ = [
    "CONTEXT_CHARS",
    "SOURCES_CSS",
    "answer_dict",
    "answer_message",
    "chat_text",
    "cite_links",
    "display_title",
    "esc",
    "fallback_note",
    "file_label",
    "highlight",
    "is_english",
    "sources_html",
    "sources_link",
    "turn_panel",
]
