"""From a loaded file to cleaned documents: titles, compilations split into articles, page offsets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ingest.clean import clean_text, clean_title, derive_title, looks_like_title, split_compilation
from ingest.loaders import LoadError, RawDocument


@dataclass(frozen=True)
class Document:
    """A cleaned document (or one article of a compilation); chunk offsets refer to `text`."""

    doc_id: str
    source: str
    title: str
    text: str
    format: str
    collection: str | None = None  # title of the compilation this article belongs to
    page_starts: list[tuple[int, int]] | None = field(default=None, compare=False)

    @property
    def content_hash(self) -> str:
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()


def make_doc_id(source: str, index: int) -> str:
    """Stable id of the `index`-th document of a source file."""
    return hashlib.sha1(f"{source}#{index}".encode()).hexdigest()[:16]


def prepare_documents(raw: RawDocument) -> list[Document]:
    """Clean a loaded file into one document, or one per article when it is a compilation.

    Raises:
        LoadError: nothing readable is left after cleaning.
    """
    source = str(raw.source)
    if len(raw.parts) == 1:
        split = split_compilation(raw.parts[0].text)
        if split is not None:
            collection, articles = split
            docs = []
            for index, article in enumerate(articles):
                text = clean_text(article.body)
                if text:
                    docs.append(
                        Document(make_doc_id(source, index), source, article.title, text, raw.format, collection)
                    )
            if docs:
                return docs

    # Clean page by page so page numbers survive as offsets into the joined text.
    texts: list[str] = []
    page_starts: list[tuple[int, int]] = []
    offset = 0
    for part in raw.parts:
        cleaned = clean_text(part.text)
        if not cleaned:
            continue
        if part.page is not None:
            page_starts.append((offset, part.page))
        texts.append(cleaned)
        offset += len(cleaned) + 1
    text = "\n".join(texts)
    if not text:
        raise LoadError("no text left after cleaning (only whitespace or junk markers); check the file")

    title = clean_title(raw.title) if raw.title else ""
    first, _, rest = text.partition("\n")
    if first.lstrip("#").strip() == title and rest:
        text = rest  # the title line is metadata, not body text
        page_starts = [(max(0, s - len(first) - 1), p) for s, p in page_starts]
    elif (
        not title and rest and looks_like_title(first) and len(first) <= 60 and not first.startswith(("一、", "（一）"))
    ):
        title, text = clean_title(first), rest
        page_starts = [(max(0, s - len(first) - 1), p) for s, p in page_starts]
    if not title:
        title = derive_title(text)
    return [Document(make_doc_id(source, 0), source, title, text, raw.format, None, page_starts or None)]
