"""A genuine Excel 5/95 workbook (BIFF5, 8-bit strings in a code page), written by hand for the tests.

No tool here writes one: LibreOffice's "MS Excel 95" export filter fails, xlwt writes BIFF8 (Unicode) only.
Chinese archives still hold Excel 5/95 files whose strings are GBK bytes, announced by a CODEPAGE record (936).

The records follow [MS-XLS] (the BIFF5 forms, as in OpenOffice's "Excel File Format" document) and the
container [MS-CFB] version 3 (512-byte sectors). The "Book" stream is padded with zeros to 4096 bytes, the
mini-stream cutoff, so it is a regular stream in whole sectors and no mini stream or mini FAT is needed
(Excel pads small workbook streams the same way). Layout: header, sector 0 the FAT, sectors 1..n the Book
stream, the last sector the directory (root entry and "Book").
"""

from __future__ import annotations

import struct

Cell = str | float | int | None

# Record ids, [MS-XLS] 2.3 (BIFF5 numbers where they differ from BIFF8).
BOF = 0x0809  # 2.4.21
EOF = 0x000A  # 2.4.103
CODEPAGE = 0x0042  # 2.4.52
WINDOW1 = 0x003D  # 2.4.345
FONT = 0x0031  # 2.4.122
XF = 0x00E0  # 2.4.353 (BIFF5 layout: 16 bytes)
STYLE = 0x0293  # 2.4.269
BOUNDSHEET = 0x0085  # 2.4.28 (BIFF5: 8-bit name, no Unicode flag byte)
DIMENSIONS = 0x0200  # 2.4.90 (BIFF5: 10 bytes)
LABEL = 0x0204  # 2.4.148 (BIFF5: 8-bit string in the workbook's code page)
NUMBER = 0x0203  # 2.4.180
WINDOW2 = 0x023E  # 2.4.346 (BIFF5: 10 bytes)

_BIFF5 = 0x0500  # BOF vers: BIFF5/BIFF7 (Excel 5.0 and 95)
_GLOBALS, _WORKSHEET = 0x0005, 0x0010  # BOF dt
_BUILD, _YEAR = 2412, 1993  # Excel 5.0's rupBuild/rupYear
_CELL_XF = 15  # XF 0-14 are style XFs, 15 the default cell XF, as Excel writes them

_SECTOR = 512
_CUTOFF = 4096  # [MS-CFB] 2.2: streams smaller than this live in the mini stream
_FREESECT, _ENDOFCHAIN, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _record(rid: int, body: bytes) -> bytes:
    return struct.pack("<HH", rid, len(body)) + body


def _bof(dt: int) -> bytes:
    return _record(BOF, struct.pack("<HHHH", _BIFF5, dt, _BUILD, _YEAR))


def _short_string(text: str, encoding: str) -> bytes:
    """An 8-bit string with a 1-byte length (BOUNDSHEET, FONT)."""
    raw = text.encode(encoding)
    return struct.pack("<B", len(raw)) + raw


def _sheet_stream(rows: list[list[Cell]], encoding: str) -> bytes:
    columns = max((len(row) for row in rows), default=0)
    out = [_bof(_WORKSHEET), _record(DIMENSIONS, struct.pack("<HHHHH", 0, len(rows), 0, columns, 0))]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                raw = value.encode(encoding)  # rw, col, ixfe, cch, then the bytes (at most 255 in Excel 5)
                out.append(_record(LABEL, struct.pack("<HHHH", r, c, _CELL_XF, len(raw)) + raw))
            else:
                out.append(_record(NUMBER, struct.pack("<HHHd", r, c, _CELL_XF, float(value))))
    # WINDOW2: grbit (gridlines, headers, zeros, default colour, outline symbols, selected, shown), top row, left column.
    out.append(_record(WINDOW2, struct.pack("<HHHI", 0x06B6, 0, 0, 0)))
    out.append(_record(EOF, b""))
    return b"".join(out)


def book_stream(sheets: dict[str, list[list[Cell]]], codepage: int | None = 936, encoding: str = "gbk") -> bytes:
    """The BIFF5 "Book" stream: workbook globals, then one worksheet substream per sheet.

    `codepage` is what the CODEPAGE record announces (None: no such record, as some old writers did);
    `encoding` is what the 8-bit strings are really encoded in, so a mismatch can be written on purpose.
    """
    head = [_bof(_GLOBALS)]
    if codepage is not None:
        head.append(_record(CODEPAGE, struct.pack("<H", codepage)))
    # WINDOW1: position, size, flags, active sheet, first tab, selected tabs, tab bar width.
    head.append(_record(WINDOW1, struct.pack("<HHHHHHHHH", 0, 0, 0x3000, 0x2000, 0x0038, 0, 0, 1, 0x0258)))
    # FONT 0-3 (Excel always writes four; index 4 is never used): 10 pt, normal weight, default charset.
    font = struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + _short_string("Arial", "ascii")
    head += [_record(FONT, font)] * 4
    # XF: font, format 0 (General), type/protection (style flag, parent 0xFFF for style XFs), alignment,
    # orientation/used attributes, then 8 bytes of fill and borders (pattern colours 64/65: automatic).
    fill = struct.pack("<II", 0x000020C0, 0)
    style_xf = struct.pack("<HHHBB", 0, 0, 0xFFF5, 0x20, 0x00) + fill
    cell_xf = struct.pack("<HHHBB", 0, 0, 0x0001, 0x20, 0x00) + fill
    head += [_record(XF, style_xf)] * 15 + [_record(XF, cell_xf)]
    head.append(_record(STYLE, struct.pack("<HBB", 0x8000, 0, 0xFF)))  # XF 0 is the built-in "Normal" style
    streams = [_sheet_stream(rows, encoding) for rows in sheets.values()]
    names = [_short_string(name, encoding) for name in sheets]
    # BOUNDSHEET: the stream offset of the sheet's BOF, visible (0), worksheet (0), the name.
    offset = sum(map(len, head)) + sum(4 + 6 + len(n) for n in names) + 4
    for name, stream in zip(names, streams):
        head.append(_record(BOUNDSHEET, struct.pack("<IBB", offset, 0, 0) + name))
        offset += len(stream)
    head.append(_record(EOF, b""))
    return b"".join(head + streams)


def _dir_entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
    """A 128-byte [MS-CFB] 2.6 directory entry: UTF-16 name, type (5 root, 2 stream), black, no siblings."""
    raw = (name + "\0").encode("utf-16-le") if name else b""
    return (
        raw.ljust(64, b"\0")
        + struct.pack("<HBBIII", len(raw), kind, 1, _NOSTREAM, _NOSTREAM, child)
        + bytes(16 + 4 + 8 + 8)  # CLSID, state bits, creation and modification times
        + struct.pack("<IQ", start, size)
    )


def compound_file(stream: bytes, name: str = "Book") -> bytes:
    """An [MS-CFB] version 3 file holding one stream, padded to the mini-stream cutoff (see the module doc)."""
    stream = stream.ljust(max(_CUTOFF, -(-len(stream) // _SECTOR) * _SECTOR), b"\0")
    n = len(stream) // _SECTOR
    assert n + 2 <= _SECTOR // 4, "one FAT sector maps 128 sectors: enough for a test workbook"
    directory = n + 1
    fat = [_FATSECT] + list(range(2, n + 1)) + [_ENDOFCHAIN, _ENDOFCHAIN]
    fat += [_FREESECT] * (_SECTOR // 4 - len(fat))
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + bytes(16)  # CLSID
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)  # minor, major version, byte order, 2^9, 2^6
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, directory, 0, _CUTOFF, _ENDOFCHAIN, 0, _ENDOFCHAIN, 0)
        + struct.pack("<109I", 0, *[_FREESECT] * 108)  # DIFAT: the one FAT sector is sector 0
    )
    entries = _dir_entry("Root Entry", 5, 1, _ENDOFCHAIN, 0) + _dir_entry(name, 2, _NOSTREAM, 1, len(stream))
    empty = bytes(64) + struct.pack("<HBBIII", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM) + bytes(48)
    return header + struct.pack("<128I", *fat) + stream + entries + empty * 2


def excel95_workbook(sheets: dict[str, list[list[Cell]]], codepage: int | None = 936, encoding: str = "gbk") -> bytes:
    """The bytes of an Excel 5/95 .xls holding `sheets` (name: rows of text, numbers or None)."""
    return compound_file(book_stream(sheets, codepage, encoding))
