"""bench/formats.py on a few cheap formats: its rows stay well formed, so the README's format table can be rerun."""

from __future__ import annotations

from bench.format_samples import SAMPLES
from bench.formats import markdown, measure
from ingest.loaders.base import FORMAT_BY_SUFFIX


def test_the_table_has_one_well_formed_row_per_format_asked_for() -> None:
    rows = measure(["txt", "xlsx", "pptx"], rounds=1, copies=2)
    assert [row[0] for row in rows] == ["txt", "xlsx", "pptx"]
    for name, what, sample, files_per_min, pages_per_min, loader in rows:
        assert what and "chars" in sample and loader.startswith("`") and loader.endswith("`")
        assert float(files_per_min.replace(",", "")) > 0
        if name == "pptx":  # slides are its pages
            assert float(pages_per_min.replace(",", "")) > 0
        else:
            assert pages_per_min == "–"
    assert rows[2][2].startswith("4 slides")  # office_files.deck: four slides, one of them empty
    table = markdown(rows).splitlines()
    assert len(table) == 2 + len(rows) and all(line.count("|") == 7 for line in table)


def test_every_supported_format_has_a_sample() -> None:
    # A format added to the loaders without a bench sample would be missing from the README table.
    covered = {name.split(" ")[0] for name in (s.name for s in SAMPLES)} | {"image"}
    assert set(FORMAT_BY_SUFFIX.values()) <= covered
