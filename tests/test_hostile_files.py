"""Hostile and broken files, generated here (never downloaded), ingested by a real Assistant.

Each bad file must end up in the report with a reason a user understands, the good files next
to it must be indexed whole, and an index that existed before must come out of the batch exactly
as it went in. The slow group (a 200 MB file, permission denied in a subprocess) is marked
`slow`; `.ci/run` runs it with the rest.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import CORPUS, ROOT, finishes_within, models_dir
from pypdf import PdfWriter

from assistant.api import Assistant
from assistant.settings import Settings
from ingest.chunking import chunk_document
from ingest.documents import prepare_documents
from ingest.loaders import LoadError, load

pytestmark = pytest.mark.e2e

MB = 1024 * 1024
GOOD = CORPUS / "001_74ca4dddf80f577d.txt"
PRE = CORPUS / "002_8249a0a6eaf71200.txt"  # the index that exists before the hostile batch
PRE_QUESTION = "怎样解决大党独有难题？"
GOOD_QUESTION = "建设政治型模范机关有哪些做法？"

# Good files in unusual encodings and names: each says something no other file says.
ENCODED = {
    "档案-gb18030.txt": (
        "gb18030",
        "关于档案数字化工作的通知\n市档案馆的档案数字化扫描由综合处负责，每周五下午集中办理。经费预算：100€，联系人：刘䶮。\n",
    ),
    "用车-utf8.txt": ("utf-8", "关于公务用车管理的通知\n公务用车实行统一调度，用车须提前一天向机关事务科申请。\n"),
    "会议室-utf16.txt": (
        "utf-16",
        "关于会议室预约的通知\n会议室预约统一通过办公自动化系统办理，临时会议可向行政科电话预约。\n",
    ),
    "节电-utf8-bom.md": (
        "utf-8-sig",
        "# 关于节约用电的通知\n下班前须关闭办公室电脑和空调电源，由各处室安全员每日检查。\n",
    ),
}
ODD_NAME = "会议 纪要 “第一期” 'draft' \"v2\".txt"
ODD_TEXT = "第一期会议纪要\n会议决定由办公室牵头起草年度读书月活动方案，十二月底前报送市委宣传部。\n"
LONG_LINE_CHARS = 30_000  # one line, no punctuation at all (the 300k case is tested without the model below)

# name -> words of the reason a user would look for
BAD = {
    "empty.txt": ["empty file"],
    "whitespace.txt": ["empty file"],
    "photo.txt": ["binary file, not text"],
    "nul-bytes.txt": ["damaged text file", "NUL byte"],
    "junk-markers-only.md": ["no text left after cleaning"],
    "truncated.pdf": ["corrupt PDF", "truncated"],
    "secret.pdf": ["encrypted PDF", "password"],
    "scanned.pdf": ["no text layer", "OCR found no text"],
    "broken.docx": ["not a valid .docx", "bad zip"],
    "bomb.docx": ["zip bomb", "unpack to 201.0 MB", "limit of 200.0 MB"],
    "forged-size.docx": ["not a valid .docx", "bad zip", "CRC"],
}


# --------------------------------------------------------------------------- generators


def blank_pdf(user_password: str | None = None) -> bytes:
    """A one-page PDF with no text at all (what a scanner without OCR produces), optionally encrypted."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if user_password:
        # RC4 needs no extra package; a non-empty user password means it cannot be opened without it.
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def zip_of_zeros(path: Path, name: str, size: int) -> None:
    """A .docx-shaped zip holding `size` zero bytes, written 1 MB at a time (a few hundred KB on disk)."""
    block = bytes(MB)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open(name, "w") as member:
            for _ in range(size // MB):
                member.write(block)


def forged_size_docx(path: Path, real: int = 64 * MB, declared: int = 1000) -> None:
    """A zip whose headers claim word/document.xml unpacks to `declared` bytes while it really holds `real`."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            block = b"<" + b" " * (MB - 1)
            for _ in range(real // MB):
                member.write(block)
    data = bytearray(path.read_bytes())
    target = b"word/document.xml"
    for signature, name_len_at, name_at, size_at in ((b"PK\x03\x04", 26, 30, 22), (b"PK\x01\x02", 28, 46, 24)):
        at = data.find(signature)
        while at >= 0:
            (name_len,) = struct.unpack_from("<H", data, at + name_len_at)
            if data[at + name_at : at + name_at + name_len] == target:
                struct.pack_into("<I", data, at + size_at, declared)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def long_line(chars: int) -> str:
    """Real Chinese text with every punctuation mark and line break removed, repeated to `chars` characters."""
    # from another file than GOOD, so these chunks do not compete with it for GOOD_QUESTION
    letters = "".join(ch for ch in (CORPUS / "003_3979e3c1054974f1.txt").read_text(encoding="utf-8") if ch.isalnum())
    return (letters * (chars // len(letters) + 1))[:chars]


def write_bad_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    good_text = GOOD.read_text(encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "whitespace.txt").write_bytes(b" \t\r\n" * 200 + "\u3000\u3000\n".encode())
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16)
    # a text file padded with NULs, as a crash while saving leaves it
    (folder / "nul-bytes.txt").write_bytes(good_text[:800].encode() + b"\x00" * 4096 + good_text[800:1600].encode())
    (folder / "junk-markers-only.md").write_text("##paidbegin##\n\n##paidend##\n", encoding="utf-8")
    whole = blank_pdf()
    (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    (folder / "secret.pdf").write_bytes(blank_pdf(user_password="secret"))
    (folder / "scanned.pdf").write_bytes(whole)
    (folder / "broken.docx").write_bytes(b"PK\x03\x04" + b"this is not really a zip archive" * 10)
    zip_of_zeros(folder / "bomb.docx", "word/document.xml", 201 * MB)  # default limit: 200 MB unpacked
    forged_size_docx(folder / "forged-size.docx", real=16 * MB)
    # symlink loops: a folder that links back to its parent, a link to itself, a dangling link
    loops = folder / "loops"
    loops.mkdir()
    (loops / "back").symlink_to(folder, target_is_directory=True)
    (folder / "self.txt").symlink_to(folder / "self.txt")
    (folder / "dangling.txt").symlink_to(folder / "missing.txt")


def write_good_files(folder: Path) -> None:
    shutil.copy(GOOD, folder / "good.txt")
    for name, (encoding, text) in ENCODED.items():
        (folder / name).write_bytes(text.encode(encoding))
    (folder / ODD_NAME).write_text(ODD_TEXT, encoding="utf-8")
    (folder / "long-line.txt").write_text(long_line(LONG_LINE_CHARS), encoding="utf-8")


# --------------------------------------------------------------------------- the hostile batch


def snapshot(kb: Assistant) -> dict:
    answer = kb.ask(PRE_QUESTION)
    return {
        "store": sorted(kb.store.chunk_ids()),
        "vectors": kb.store.count(),
        "documents": [(d.doc_id, d.source, d.title, d.n_chunks, d.complete) for d in kb.documents()],
        "texts": {d.doc_id: kb.document_text(d.doc_id) for d in kb.documents()},
        "bm25_rows": len(kb.bm25),
        "answer": (answer.refused, answer.text, [(c.n, c.doc_id, c.start, c.end, c.quote) for c in answer.citations]),
    }


def by_name(pairs: list[tuple[str, str]]) -> dict[str, str]:
    return {Path(source).name: reason for source, reason in pairs}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, e5_embedder):
    """A knowledge base with one document, then a folder of bad files (alone, then next to good ones)."""
    base = tmp_path_factory.mktemp("hostile")
    pre = base / "pre"
    pre.mkdir()
    shutil.copy(PRE, pre / "pre.txt")
    folder = base / "inbox"
    write_bad_files(folder)

    kb = Assistant(Settings.load(base / "home", models=str(models_dir())), embedder=e5_embedder)
    assert [Path(s).name for s in kb.ingest([pre]).added] == ["pre.txt"]
    before = snapshot(kb)
    bad_only = kb.ingest([folder])
    after_bad = snapshot(kb)
    write_good_files(folder)
    mixed = kb.ingest([folder])
    yield SimpleNamespace(
        kb=kb,
        base=base,
        folder=folder,
        pre=pre,
        before=before,
        bad_only=bad_only,
        after_bad=after_bad,
        mixed=mixed,
        after_mixed=snapshot(kb),
    )
    kb.close()


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_file_fails_with_a_reason_a_user_understands(hostile, name):
    for report in (hostile.bad_only, hostile.mixed):
        reasons = by_name(report.failed)
        assert name in reasons, f"{name} not reported as failed: {report.failed}"
        for words in BAD[name]:
            assert words in reasons[name], f"{name}: {reasons[name]!r} lacks {words!r}"


def test_nothing_else_fails_and_nothing_of_the_bad_files_is_indexed(hostile):
    assert set(by_name(hostile.mixed.failed)) == set(BAD)
    assert set(by_name(hostile.bad_only.failed)) == set(BAD)
    assert hostile.bad_only.added == [] and hostile.bad_only.chunks_added == 0
    bad_sources = {str((hostile.folder / name).resolve()) for name in BAD}
    assert not bad_sources & set(hostile.kb.registry.sources())


def test_an_index_that_existed_is_untouched_by_a_batch_of_bad_files(hostile):
    assert hostile.after_bad == hostile.before  # vectors, documents, texts, BM25 rows and the answer


def test_an_index_that_existed_keeps_its_documents_when_good_files_join_it(hostile):
    before, after = hostile.before, hostile.after_mixed
    assert set(before["store"]) <= set(after["store"])
    for doc in before["documents"]:
        assert doc in after["documents"]
        assert after["texts"][doc[0]] == before["texts"][doc[0]]
    kb = hostile.kb
    assert len(kb.store.chunk_ids()) == len(kb.bm25) == sum(d.n_chunks for d in kb.documents())
    assert kb.incomplete() == []


def test_good_files_next_to_bad_ones_are_added_whole(hostile):
    added = sorted(Path(s).name for s in hostile.mixed.added)
    assert added == sorted(["good.txt", *ENCODED, ODD_NAME, "long-line.txt"])
    kb = hostile.kb
    for name in ["good.txt", *ENCODED, ODD_NAME]:
        path = hostile.folder / name
        docs = kb.registry.documents(str(path.resolve()))
        assert len(docs) == 1 and docs[0].complete
        # nothing lost: what is indexed is the cleaned text of the file, decoded exactly
        expected = prepare_documents(load(path))[0].text
        assert kb.document_text(docs[0].doc_id) == expected
    gb = kb.document_text(kb.registry.documents(str((hostile.folder / "档案-gb18030.txt").resolve()))[0].doc_id)
    assert "刘䶮" in gb and "100€" in gb  # characters only GB18030 (not GBK) has


@pytest.mark.parametrize(
    ("question", "name", "words"),
    [
        ("档案数字化扫描由哪个处负责？", "档案-gb18030.txt", "综合处"),
        ("公务用车要提前多久申请？", "用车-utf8.txt", "提前一天"),
        ("会议室怎么预约？", "会议室-utf16.txt", "办公自动化系统"),
        ("下班前要关闭哪些电源？", "节电-utf8-bom.md", "空调"),
        ("读书月活动方案由谁起草？", ODD_NAME, "办公室牵头"),
        (GOOD_QUESTION, "good.txt", "政治型模范机关"),
    ],
    ids=["gb18030", "utf-8", "utf-16-bom", "utf-8-bom", "odd-file-name", "good"],
)
def test_the_new_files_answer_questions_with_citations_that_resolve(hostile, question, name, words):
    kb = hostile.kb
    answer = kb.ask(question)
    assert not answer.refused
    source = str((hostile.folder / name).resolve())
    cited = [c for c in answer.citations if c.source == source]
    # The words are in the cited sentence or in the heading it sits under (headings are never answer lines).
    assert cited and any(words in c.quote or words in c.section for c in cited)
    for c in answer.citations:
        assert kb.document_text(c.doc_id)[c.start : c.end] == c.quote
        assert Path(c.source).exists()  # spaces, quotes and Chinese in the name survive as they are


def test_extremely_long_line_without_punctuation_is_chunked_within_bounds(hostile):
    kb = hostile.kb
    source = str((hostile.folder / "long-line.txt").resolve())
    (doc,) = kb.registry.documents(source)
    text = kb.document_text(doc.doc_id)
    assert len(text) >= LONG_LINE_CHARS - 40  # the first 32 characters may have become the title
    records = kb.registry.chunks_of_document(doc.doc_id)
    assert len(records) == doc.n_chunks >= LONG_LINE_CHARS // kb.settings.chunk_size - 1
    covered = 0
    for r in sorted(records, key=lambda r: r.start):
        assert 0 < r.end - r.start <= kb.settings.chunk_size
        assert r.start <= covered  # no text lost between chunks
        covered = max(covered, r.end)
    assert covered == len(text)


def test_symlink_loops_end_and_are_reported(hostile):
    for report in (hostile.bad_only, hostile.mixed):
        skipped = by_name(report.skipped)
        assert "symbolic links" in skipped["self.txt"]  # "Too many levels of symbolic links"
        assert skipped["dangling.txt"].startswith("broken link")
    # the folder linking back to its parent is not walked again: every file is ingested once
    sources = hostile.kb.registry.sources()
    assert not any("/loops/" in s for s in sources)
    assert len(sources) == len(set(sources)) == 1 + len(hostile.mixed.added)


def test_reingesting_the_hostile_folder_changes_nothing(hostile):
    kb = hostile.kb
    count = kb.store.count()
    again = kb.ingest([hostile.folder])
    assert again.added == [] and again.updated == []
    assert set(by_name(again.failed)) == set(BAD)
    assert kb.store.count() == count


# --------------------------------------------------------------------------- limits, without the model


def test_300k_characters_on_one_line_load_clean_and_chunk_within_bounds(tmp_path):
    path = tmp_path / "one-line.txt"
    path.write_text(long_line(300_000), encoding="utf-8")
    # a hang guard only (a quadratic pass over 300k characters would take hours, not seconds)
    (doc,) = finishes_within(300, lambda: prepare_documents(load(path)))
    chunks = finishes_within(300, chunk_document, doc.doc_id, doc.text, size=300, overlap=60)
    assert len(doc.text) >= 300_000 - 40
    assert len(chunks) >= 999 and all(0 < len(c.text) <= 300 for c in chunks)
    assert "".join(c.text for c in chunks) == doc.text  # no punctuation, so no overlap and nothing lost
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """The largest growth of this process's resident memory while the block runs (sampled every 2 ms)."""

    def __enter__(self) -> PeakRSS:
        self.baseline = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())
        self.growth = self.peak - self.baseline


def test_forged_zip_sizes_are_refused_without_inflating_the_archive(tmp_path):
    path = tmp_path / "forged.docx"
    forged_size_docx(path, real=256 * MB, declared=1000)
    assert path.stat().st_size < 2 * MB
    with PeakRSS() as rss, pytest.raises(LoadError, match="CRC") as info:
        load(path)
    assert str(info.value).startswith("not a valid .docx (bad zip")
    assert rss.growth < 50 * MB, f"RSS grew by {rss.growth / MB:.0f} MB"


def test_zip_bomb_is_refused_before_unpacking_with_a_lowered_limit(tmp_path):
    path = tmp_path / "bomb.docx"
    zip_of_zeros(path, "word/document.xml", 8 * MB)
    with PeakRSS() as rss, pytest.raises(LoadError, match="zip bomb"):
        load(path, max_uncompressed_bytes=4 * MB)
    assert rss.growth < 20 * MB


def test_the_size_limit_comes_from_the_settings(hostile, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "two-mb.txt").write_text("正文内容。" * (2 * MB // 15 + 1), encoding="utf-8")
    kb = Assistant(
        Settings.load(tmp_path / "home", models=str(models_dir()), max_file_mb=1), embedder=hostile.kb.embedder
    )
    try:
        reasons = by_name(kb.ingest([folder]).failed)
    finally:
        kb.close()
    assert reasons["two-mb.txt"].startswith("file too large: 2.0 MB > limit 1.0 MB")
    assert "ASSISTANT_MAX_FILE_MB" in reasons["two-mb.txt"]


@pytest.mark.slow
def test_a_200_mb_text_file_is_refused_quickly_without_reading_it_into_memory(hostile, tmp_path, monkeypatch):
    folder = tmp_path / "huge"
    folder.mkdir()
    path = folder / "huge.txt"
    with open(path, "wb") as fh:  # sparse: real text at both ends, 200 MB in size, almost nothing on disk
        fh.write("机关工作总结，正文开始。\n".encode())
        fh.truncate(200 * MB)
        fh.seek(200 * MB - 64)
        fh.write("正文结束。\n".encode())
    assert path.stat().st_size >= 200 * MB
    kb = hostile.kb
    before = snapshot(kb)
    # quick because the size is checked first: the file is neither hashed nor loaded
    import assistant.kb.indexer as indexer_module

    touched = []
    for name in ("sha256_file", "load"):
        real = getattr(indexer_module, name)
        monkeypatch.setattr(
            indexer_module, name, lambda p, *a, _real=real, **kw: touched.append(Path(p).name) or _real(p, *a, **kw)
        )
    with PeakRSS() as rss:
        report = finishes_within(300, kb.ingest, [folder])  # a hang guard, not a speed target
    reason = by_name(report.failed)["huge.txt"]
    assert reason.startswith("file too large: 200.0 MB > limit 50.0 MB")  # settings.max_file_mb, default 50
    assert "huge.txt" not in touched
    assert rss.growth < 100 * MB, f"RSS grew by {rss.growth / MB:.0f} MB"
    assert snapshot(kb) == before


# --------------------------------------------------------------------------- permission denied, for real

_PERMISSION_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from assistant.api import Assistant
    from assistant.settings import Settings

    home, models, pre, inbox, good = sys.argv[1:6]
    try:
        open(Path(inbox) / "locked.txt", "rb")
        denied = False
    except PermissionError:
        denied = True
    kb = Assistant(Settings.load(home, models=models))
    kb.ingest([pre])

    def state():
        a = kb.ask("公务接待的标准是什么？")
        return [sorted(kb.store.chunk_ids()), [(c.doc_id, c.quote) for c in a.citations], a.refused]

    before = state()
    bad_only = kb.ingest([inbox])
    after_bad = state()
    Path(good).rename(Path(inbox) / "good.txt")
    mixed = kb.ingest([inbox])
    after_mixed = state()
    print("RESULT " + json.dumps({
        "denied": denied, "before": before, "after_bad": after_bad, "after_mixed": after_mixed,
        "bad_only": {"failed": bad_only.failed, "skipped": bad_only.skipped, "added": bad_only.added},
        "mixed": {"failed": mixed.failed, "skipped": mixed.skipped, "added": mixed.added},
    }, ensure_ascii=False))
    """
)


def _deny_command() -> list[str]:
    """A command prefix under which the file permission bits apply to this process's files."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv (util-linux) is missing: cannot make a file unreadable to root")
    # root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH is bound by permission bits like anyone else,
    # and still owns the venv, the models and the test folders (so, unlike user nobody, it can run them).
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", "--"]


@pytest.mark.slow
def test_permission_denied_is_reported_for_real(tmp_path):
    pre, inbox = tmp_path / "pre", tmp_path / "inbox"
    pre.mkdir()
    inbox.mkdir()
    (pre / "接待.txt").write_text(
        "关于公务接待的规定\n公务接待的标准是工作餐一菜一汤，不得安排宴请。\n", encoding="utf-8"
    )
    locked = inbox / "locked.txt"
    locked.write_text("关于保密工作的通知\n涉密文件一律不得带出办公室。\n", encoding="utf-8")
    locked_dir = inbox / "locked-folder"
    locked_dir.mkdir()
    (locked_dir / "inside.txt").write_text("文件夹里的文件。\n", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text("关于考勤管理的通知\n工作人员上午八点半前到岗签到。\n", encoding="utf-8")
    prefix = _deny_command()
    locked.chmod(0)
    locked_dir.chmod(0)
    try:
        probe = subprocess.run([*prefix, "cat", str(locked)], capture_output=True, text=True)
        if probe.returncode == 0:
            pytest.skip(
                "this environment lets the test process read a mode-000 file even with DAC capabilities dropped"
            )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        run = subprocess.run(
            [
                *prefix,
                sys.executable,
                "-c",
                _PERMISSION_SCRIPT,
                str(tmp_path / "home"),
                str(models_dir()),
                str(pre),
                str(inbox),
                str(good),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)
        locked_dir.chmod(stat.S_IRWXU)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["denied"], "the subprocess could read the locked file: the mechanism did not apply"
    for batch in ("bad_only", "mixed"):
        failed = by_name(result[batch]["failed"])
        assert set(failed) == {"locked.txt"}
        assert "permission denied" in failed["locked.txt"].lower()
        skipped = by_name(result[batch]["skipped"])
        assert skipped["locked-folder"] == "cannot read folder: permission denied; check its permissions"
    assert result["bad_only"]["added"] == []
    assert [Path(s).name for s in result["mixed"]["added"]] == ["good.txt"]
    assert result["after_bad"] == result["before"]  # the existing index is exactly as it was
    assert set(result["before"][0]) <= set(result["after_mixed"][0])
    assert not result["before"][2] and result["after_mixed"][1] == result["before"][1]
