"""The parts of an OFD package: XML parsed safely, ST_Loc paths resolved inside the zip, number lists read."""

from __future__ import annotations

import posixpath

from ingest.loaders.base import LoadError

NS = "http://www.ofdspec.org/2016"
RESAVE = "open it in an OFD reader (数科, 福昕) and export it again, or save it as PDF"


def tag(name: str) -> str:
    """The qualified name of an OFD element."""
    return f"{{{NS}}}{name}"


def parse_xml(data: bytes, what: str) -> object:
    """One XML part of the package, or a LoadError naming it when it is not well-formed."""
    from lxml import etree

    # No DTDs, entities or network: an OFD part is plain XML from an untrusted file.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise LoadError(f"not a valid .ofd: {what} is not well-formed XML ({exc}); {RESAVE}") from None


def floats(value: str | None, n: int) -> list[float]:
    """The first n numbers of a space-separated list ("x y w h"), zeros where missing or unreadable."""
    try:
        numbers = [float(v) for v in (value or "").split()]
    except ValueError:
        return [0.0] * n
    return (numbers + [0.0] * n)[:n]


def resolve(base_dir: str, loc: str) -> str:
    """A part's path inside the zip: an ST_Loc is absolute ("/Doc_0/…") or relative to the referring part's folder."""
    return posixpath.normpath(loc.lstrip("/") if loc.startswith("/") else posixpath.join(base_dir, loc))
