"""The audit log: append-only rows, date bounds, CSV (Excel-readable Chinese) and JSON Lines export."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from assistant.conversations.audit import ANONYMOUS, AuditLog, export_audit, open_audit
from assistant.errors import AuditError


def test_actions_are_recorded_with_who_when_where_and_what(tmp_path):
    audit = open_audit(tmp_path)
    assert audit.path == tmp_path / "audit.sqlite3"
    assert audit.record("张三", "default", "ask", "机关是怎样落实“双报到”制度的？", via="chat")
    assert audit.record("", "default", "upload", "值班制度.docx", via="api")
    audit.record_many(None, "finance", "delete", ["a.txt", "b.pdf"], via="api")
    entries = audit.entries()
    assert [(e.user, e.kb, e.action, e.detail, e.via) for e in entries] == [
        ("张三", "default", "ask", "机关是怎样落实“双报到”制度的？", "chat"),
        (ANONYMOUS, "default", "upload", "值班制度.docx", "api"),
        (ANONYMOUS, "finance", "delete", "a.txt", "api"),
        (ANONYMOUS, "finance", "delete", "b.pdf", "api"),
    ]
    assert entries[0].at.endswith("+00:00") and "T" in entries[0].at
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record("x", "default", "rename", "y")
    # Another handle on the same file (another worker) sees the same rows.
    assert len(AuditLog(tmp_path / "audit.sqlite3").entries()) == 4


def test_the_log_is_append_only_even_through_sqlite(tmp_path):
    audit = open_audit(tmp_path)
    audit.record("u", "default", "ask", "q")
    db = sqlite3.connect(audit.path)
    for sql in ("UPDATE audit SET user = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql)
    db.close()
    assert [e.user for e in audit.entries()] == ["u"]


def test_since_and_until_are_inclusive_utc_days(tmp_path):
    audit = open_audit(tmp_path)
    db = sqlite3.connect(audit.path)
    with db:
        for at in ("2026-01-31T23:59:59+00:00", "2026-02-01T00:00:00+00:00", "2026-02-28T23:59:59+00:00"):
            db.execute(
                "INSERT INTO audit (at, user, kb, action, detail, via) VALUES (?, 'u', 'default', 'ask', ?, 'api')",
                (at, at),
            )
    db.close()
    assert len(audit.entries()) == 3
    assert [e.detail[:10] for e in audit.entries(since="2026-02-01")] == ["2026-02-01", "2026-02-28"]
    assert [e.detail[:10] for e in audit.entries(until="2026-02-28")] == ["2026-01-31", "2026-02-01", "2026-02-28"]
    assert [e.detail[:10] for e in audit.entries(since="2026-02-01", until="2026-02-01")] == ["2026-02-01"]
    assert audit.entries(until="2026-01-30") == []
    with pytest.raises(AuditError, match="YYYY-MM-DD"):
        audit.entries(since="2026/02/01")
    with pytest.raises(AuditError, match="swap"):
        audit.entries(since="2026-03-01", until="2026-02-01")


def test_export_csv_has_a_bom_for_excel_and_jsonl_is_one_entry_a_line(tmp_path):
    audit = open_audit(tmp_path / "kb")
    audit.record("李四", "default", "ask", "保密工作怎么抓，有哪些“要求”？", via="chat")
    audit.record("api-key:0123abcd", "default", "upload", "值班制度,新.docx", via="api")
    out = tmp_path / "审计.csv"
    assert export_audit(audit.entries(), out) == 2
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "at", "user", "kb", "action", "detail", "via"]
    assert rows[1][2:] == ["李四", "default", "ask", "保密工作怎么抓，有哪些“要求”？", "chat"]
    assert rows[2][5] == "值班制度,新.docx"  # a comma in a name is quoted, not a new column

    lines = tmp_path / "audit.jsonl"
    assert export_audit(audit.entries(), lines) == 2
    parsed = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    assert parsed[0]["user"] == "李四" and parsed[1]["action"] == "upload" and "李四" in lines.read_text("utf-8")

    # A question typed as a formula stays text in Excel; the JSON Lines keep it exactly.
    audit.record("王五", "default", "ask", '=HYPERLINK("http://evil","点我")', via="api")
    assert export_audit(audit.entries(), out) == 3
    with out.open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f))[3][5] == '\'=HYPERLINK("http://evil","点我")'
    export_audit(audit.entries(), lines)
    assert json.loads(lines.read_text(encoding="utf-8").splitlines()[2])["detail"].startswith("=HYPERLINK")

    assert export_audit([], tmp_path / "empty.csv") == 0
    with pytest.raises(AuditError, match=r"\.csv or \.jsonl"):
        export_audit(audit.entries(), tmp_path / "audit.xlsx")
    with pytest.raises(AuditError, match="writable"):
        export_audit(audit.entries(), tmp_path / "no-such-folder" / "a.csv")


def test_an_unwritable_log_is_reported_and_the_action_goes_on(tmp_path, caplog):
    audit = open_audit(tmp_path)
    audit.path.unlink()
    audit.path.mkdir()  # a folder where the file should be: SQLite cannot open it
    assert audit.record("u", "default", "ask", "q") is False
    assert "could not write the audit log" in caplog.text
    with pytest.raises(AuditError, match="cannot open the audit log"):
        AuditLog(audit.path)
