"""An answer with its citations as a Word .docx (real footnotes) or as Markdown (footnotes [^n])."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from assistant.errors import ExportError
from assistant.results import Answer, Citation, Passage, Statement

FORMATS = {".docx": "docx", ".md": "markdown", ".markdown": "markdown"}
MARKER = re.compile(r"\[(\d+)\]")
# Characters XML 1.0 cannot hold (a document's stray control characters would make Word refuse the file).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def answer_from_json(data: dict[str, Any] | Answer) -> Answer:
    """An Answer from its JSON (as stored with a conversation or returned by the API); unknown keys are ignored."""
    if isinstance(data, Answer):
        return data

    def build(kind: type, value: dict[str, Any]) -> Any:
        names = {f.name for f in fields(kind)}
        return kind(**{k: v for k, v in value.items() if k in names})

    answer = build(Answer, data)
    answer.citations = [build(Citation, c) for c in data.get("citations") or []]
    answer.nearest = [build(Passage, p) for p in data.get("nearest") or []]
    answer.statements = [build(Statement, s) for s in data.get("statements") or []]
    return answer


def answer_json(answer: Answer) -> dict[str, Any]:
    """The whole Answer as JSON-able data (what a conversation stores)."""
    return asdict(answer)


# -- what a source says of itself ---------------------------------------------------------------
def _sources(answer: Answer) -> dict[int, list[Citation]]:
    groups: dict[int, list[Citation]] = {}
    for c in answer.citations:
        groups.setdefault(c.n, []).append(c)
    return dict(sorted(groups.items()))


def source_fields(item: Citation | Passage) -> list[tuple[str, str]]:
    """(label, value) of a source: document, office, section, file and page, as far as they are known."""
    out = [("文件标题 Document", f"《{item.title}》")]
    if item.office:
        out.append(("发文机关 Office", item.office))
    printed = " · ".join(v for v in (item.doc_number, item.date) if v)
    if printed:
        out.append(("文号/日期 Number/date", printed))
    if item.section:
        out.append(("章节 Section", item.section))
    name = Path(item.source).name if item.source else ""
    if name:
        out.append(("文件 File", name))
    if item.page:
        out.append(("页码 Page", f"第 {item.page} 页 (p. {item.page})"))
    if item.superseded:
        out.append(("已替代 Superseded", item.superseded))
    return out


def _quotes(cs: Iterable[Citation]) -> list[str]:
    return list(dict.fromkeys(c.quote.strip() for c in cs if c.quote.strip()))


def _lead(answer: Answer) -> str:
    if answer.refused:
        return "⚠ 知识库中没有找到答案。No answer in the documents."
    if answer.partial:
        missing = "；".join(answer.missing)
        return "◐ 部分回答 Partial answer" + (f"（文件中未说明 not stated：{missing}）" if missing else "")
    return ""


# -- Markdown ---------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$])")


def md_text(text: str) -> str:
    """Document text shown literally in Markdown ("**市人民政府办公室" must not turn bold)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_body(text: str, sources: dict[int, list[Citation]]) -> str:
    # Escape the text between the markers, and turn each [n] of a source into a footnote reference.
    out, at = [], 0
    for m in MARKER.finditer(text):
        out.append(md_text(text[at : m.start()]))
        n = int(m.group(1))
        out.append(f"[^{n}]" if n in sources else md_text(m.group(0)))
        at = m.end()
    out.append(md_text(text[at:]))
    return "".join(out)


def markdown_of(answer: Answer | dict[str, Any]) -> str:
    """The question, the answer with [^n] footnote references, and the footnoted sources with their quotes."""
    answer = answer_from_json(answer)
    sources = _sources(answer)
    body = _md_body(answer.text, sources)
    lines = [
        "# 问答导出 Answer export",
        "",
        "## 问题 Question",
        "",
        md_text(answer.question.strip()),
        "",
        "## 回答 Answer",
    ]
    lines.append("")
    if lead := _lead(answer):
        lines += [f"**{md_text(lead)}**", ""]
    lines += [body.strip(), ""]
    if answer.unsupported:
        lines += [
            f"**⚠ {len(answer.unsupported)} 句话在文件中找不到依据 sentence(s) not supported by the documents.**",
            "",
        ]
    if sources:
        lines += ["## 来源 Sources", ""]
        for n, cs in sources.items():
            meta = "；".join(f"{label}：{md_text(value)}" for label, value in source_fields(cs[0]))
            quotes = " ".join(f"“{md_text(q)}”" for q in _quotes(cs))
            lines.append(f"[^{n}]: \\[{n}\\] {meta}；引文 Quote：{quotes}")
        lines.append("")
    elif answer.refused and answer.nearest:
        lines += ["## 最接近的段落（不回答此问题）Nearest passages (they do not answer the question)", ""]
        for i, p in enumerate(answer.nearest, 1):
            meta = "；".join(f"{label}：{md_text(value)}" for label, value in source_fields(p))
            lines.append(f"{i}. {meta}\n   > {md_text(' '.join(p.text.split()))}")
        lines.append("")
    mode = f"；回答方式 mode：{answer.mode}" if answer.mode else ""
    lines.append(f"*由办公文档问答助手生成，仅依据知识库中的文件{mode}。*")
    return "\n".join(lines) + "\n"


# -- Word ------------------------------------------------------------------------------------
def _xml_text(text: str) -> str:
    return NOT_XML.sub("", text)


def _footnotes_part(document: Any) -> Any:
    """The document's footnotes part (python-docx's default template has none): created with its separators."""
    from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import XmlPart
    from docx.oxml import parse_xml

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    xml = (
        f'<w:footnotes xmlns:w="{w}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
        "</w:footnote></w:footnotes>"
    )
    part = XmlPart(PackURI("/word/footnotes.xml"), CONTENT_TYPE.WML_FOOTNOTES, parse_xml(xml), document.part.package)
    document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)
    return part


def _run(text: str, superscript: bool = False, size_half_points: int | None = None) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = OxmlElement("w:r")
    if superscript or size_half_points:
        props = OxmlElement("w:rPr")
        if superscript:
            align = OxmlElement("w:vertAlign")
            align.set(qn("w:val"), "superscript")
            props.append(align)
        if size_half_points:
            size = OxmlElement("w:sz")
            size.set(qn("w:val"), str(size_half_points))
            props.append(size)
        run.append(props)
    t = OxmlElement("w:t")
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    t.text = _xml_text(text)
    run.append(t)
    return run


def _superscript(child: Any) -> Any:
    """A run holding `child` (a footnote mark or reference) raised as a superscript."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    align = OxmlElement("w:vertAlign")
    align.set(qn("w:val"), "superscript")
    props.append(align)
    run.append(props)
    run.append(child)
    return run


def _add_footnote(part: Any, footnote_id: int, text: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    note = OxmlElement("w:footnote")
    note.set(qn("w:id"), str(footnote_id))
    paragraph = OxmlElement("w:p")
    paragraph.append(_superscript(OxmlElement("w:footnoteRef")))
    paragraph.append(_run(" " + text, size_half_points=18))
    note.append(paragraph)
    part.element.append(note)


def _reference(footnote_id: int) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ref = OxmlElement("w:footnoteReference")
    ref.set(qn("w:id"), str(footnote_id))
    return _superscript(ref)


def footnote_text(n: int, citations: list[Citation]) -> str:
    """A footnote: [n], the source's document, office, section, file, page, then the quoted sentence(s)."""
    meta = "；".join(f"{label.split()[0]}：{value}" for label, value in source_fields(citations[0]))
    quotes = " ".join(f"“{q}”" for q in _quotes(citations))
    return f"[{n}] {meta}；引文：{quotes}"


def docx_bytes(answer: Answer | dict[str, Any]) -> bytes:
    """The answer as a .docx: the question, the answer with a real Word footnote at each [n], then the sources."""
    from docx import Document

    answer = answer_from_json(answer)
    sources = _sources(answer)
    document = Document()
    document.core_properties.title = _xml_text(f"问答导出：{answer.question}"[:200])
    document.add_heading("问答导出 Answer export", level=1)
    document.add_heading("问题 Question", level=2)
    document.add_paragraph(_xml_text(answer.question.strip()))
    document.add_heading("回答 Answer", level=2)
    if lead := _lead(answer):
        document.add_paragraph().add_run(_xml_text(lead)).bold = True
    part = _footnotes_part(document) if sources else None
    next_id = 1
    body = document.element.body
    for line in answer.text.strip().split("\n"):
        paragraph = body.add_p()  # built run by run: python-docx has no footnote API
        at = 0
        for m in MARKER.finditer(line):
            n = int(m.group(1))
            if n not in sources or part is None:
                continue
            paragraph.append(_run(line[at : m.start()]))
            # Every [n] gets its own Word footnote (Word numbers them itself); each says which source [n] it is.
            _add_footnote(part, next_id, footnote_text(n, sources[n]))
            paragraph.append(_reference(next_id))
            next_id += 1
            at = m.end()
        paragraph.append(_run(line[at:]))
    if sources:
        document.add_heading("来源 Sources", level=2)
        for n, cs in sources.items():
            document.add_paragraph(_xml_text(footnote_text(n, cs)))
    elif answer.refused and answer.nearest:
        document.add_heading("最接近的段落（不回答此问题）Nearest passages (they do not answer the question)", level=2)
        for i, p in enumerate(answer.nearest, 1):
            meta = "；".join(f"{label.split()[0]}：{value}" for label, value in source_fields(p))
            document.add_paragraph(_xml_text(f"{i}. {meta}\n{' '.join(p.text.split())}"))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# -- files ------------------------------------------------------------------------------------
def writable_target(path: Path, suffixes: Iterable[str]) -> Path:
    """`path` checked before anything is written: a known suffix, an existing writable folder, not a folder itself."""
    allowed = tuple(suffixes)
    if path.suffix.lower() not in allowed:
        raise ExportError(
            f"{path}: unknown file type {path.suffix or '(none)'!r}; name the file with {' or '.join(allowed)}"
        )
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name inside it, e.g. {path / ('answer' + allowed[0])}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"the folder {folder} does not exist; create it first or choose another path")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ExportError(f"cannot write {path} (permission denied); choose a folder you can write to")
    return path


def export_answer(answer: Answer | dict[str, Any], path: Path | str) -> Path:
    """Write the answer to `path` as .docx or Markdown (.md), chosen by the file's suffix; returns the path."""
    target = writable_target(Path(path), FORMATS)
    data = docx_bytes(answer) if FORMATS[target.suffix.lower()] == "docx" else markdown_of(answer).encode("utf-8")
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(target)  # never a half-written file under the asked name
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {target} ({exc.strerror or exc}); choose a folder you can write to") from exc
    return target


def write_docx(answer: Answer | dict[str, Any], path: Path | str) -> Path:
    """Write the answer as a .docx (see `docx_bytes`)."""
    return export_answer(answer, Path(path).with_suffix(".docx"))


__all__ = [
    "FORMATS",
    "answer_from_json",
    "answer_json",
    "docx_bytes",
    "export_answer",
    "footnote_text",
    "markdown_of",
    "md_text",
    "source_fields",
    "writable_target",
    "write_docx",
]
