"""What an official document says about itself: for now, the office that issued or reports it."""

from __future__ import annotations

import re
from collections import Counter

# "市委办公厅", "**市人民政府办公室党总支部", "省政府办公厅": a level, the body, its general office and,
# where the document is a Party branch's report, the branch. Without the level ("办公厅") the name
# is ambiguous, and a longer prefix would swallow the words before it ("制定市委办公室").
_OFFICE = re.compile(
    r"(?P<level>省|市|县|区|州|旗)(?P<body>委|人民政府|政府|人大常委会|政协)办公(?P<kind>厅|室)"
    r"(?P<branch>机关党委|党总支部?|党支部)?"
)
SCAN_CHARS = 3000  # an issuer names itself early: in the title, the opening, or the first paragraphs


def issuing_office(text: str) -> str | None:
    """The office a document speaks for, as the name it uses most often in its opening (None if none).

    Variants of one name count together ("市人民政府办公室党总支部" and "市政府办公室党总支" are one
    office); on a tie the name with its Party branch wins, since a branch's report names the office
    it belongs to as well.
    """
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for m in _OFFICE.finditer(text[:SCAN_CHARS]):
        body = "政府" if m.group("body") == "人民政府" else m.group("body")
        branch = "党总支" if (m.group("branch") or "").startswith("党总支") else (m.group("branch") or "")
        name = f"{m.group('level')}{body}办公{m.group('kind')}{branch}"
        counts[name] += 1
        first.setdefault(name, m.start())
    if not counts:
        return None
    # The most frequent name; on a tie the longer one (the branch that reports), then the earlier one.
    return max(counts, key=lambda n: (counts[n], len(n), -first[n]))
