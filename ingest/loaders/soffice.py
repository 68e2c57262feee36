"""LibreOffice headless as a converter: legacy office files in, .docx (or .pptx) out, with a private profile and a time limit.

Why LibreOffice and not antiword/catdoc (measured on 2 busy cores, Debian 12 packages): all three
read the Chinese of a Word 97 .doc, but antiword and catdoc turn characters outside the BMP
(扩展B, e.g. 𠀀) into garbage, lose the heading styles (antiword) or hard-wrap lines (catdoc),
and read neither .rtf nor .odt. LibreOffice keeps every character and, converted to .docx,
the heading styles and tables, so the .docx reader gives the same structure as for a real .docx.
Its cost: ~260 MB installed (libreoffice-writer-nogui) against <1 MB, and ~2.5 s to start per
call (then ~0.1 s per extra file in the same call) against ~3 ms per file; `convert` takes
several files so one start can serve a batch. PowerPoint 97–2003 .ppt goes the same way to .pptx
through Impress (libreoffice-impress-nogui, 16.8 MB more with the Draw part it needs), which a
Writer-only LibreOffice lacks: `impress_installed` tells before a start is wasted on it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders.base import LoadError

INSTALL_HINT = (
    "install LibreOffice (Debian/Ubuntu: apt-get install --no-install-recommends libreoffice-writer-nogui; "
    "scripts/setup.sh does this) or save the file as .docx in Word/WPS"
)


@dataclass(frozen=True)
class Target:
    """A format LibreOffice writes: its export filter, and what messages tell a user to do."""

    convert_to: str  # the --convert-to argument: extension and export filter
    install: str  # how to get LibreOffice (or the part of it this needs)
    resave: str  # what to do instead when LibreOffice fails on the file


IMPRESS_INSTALL_HINT = (
    "install LibreOffice Impress (Debian/Ubuntu: apt-get install --no-install-recommends libreoffice-impress-nogui; "
    "scripts/setup.sh does this) or save the file as .pptx in PowerPoint/WPS"
)
TARGETS = {
    "docx": Target("docx:MS Word 2007 XML", INSTALL_HINT, "open the file in Word/WPS and save it as .docx"),
    "pptx": Target(
        "pptx:Impress MS PowerPoint 2007 XML",
        IMPRESS_INSTALL_HINT,
        "open the file in PowerPoint/WPS and save it as .pptx",
    ),
}
# Impress's own library (package libreoffice-impress-nogui) and the PowerPoint import filter (in
# libreoffice-draw-nogui, which Impress depends on), in LibreOffice's program folder; neither is
# ever merged into libmergedlo. Without them a .ppt "could not be loaded" — the same words as for a
# damaged file — and with Impress removed but its configuration left behind, soffice crashed (measured).
_IMPRESS_LIBRARIES = ("libslideshowlo.so", "libsdfiltlo.so")
# A cold start on a loaded machine takes seconds; a document that LibreOffice cannot finish in
# this time is treated as unreadable rather than blocking ingestion.
START_SECONDS = 60.0
PER_FILE_SECONDS = 20.0


# The private profile's settings. LibreOffice fetches images a document links to (measured: an
# .odt with <draw:image xlink:href="http://…"> made it send "OPTIONS /track.png" while converting),
# which would let an untrusted file reach the network or beacon out; BlockUntrustedRefererLinks
# stops that (checked by tests/test_loaders_word.py). Macros never run in a conversion.
_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" \
oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" \
oor:op="fuse"><value>true</value></prop></item>
</oor:items>
"""


def find_soffice() -> str | None:
    """The LibreOffice launcher on PATH (ASSISTANT_SOFFICE overrides), or None when it is not installed."""
    override = os.environ.get("ASSISTANT_SOFFICE")
    if override:
        return override if shutil.which(override) else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def impress_installed(soffice: str) -> bool | None:
    """Whether the LibreOffice behind the launcher `soffice` has Impress; None when its layout is not one known here.

    Known: a Linux install whose launcher resolves into its program folder (Debian's /usr/bin/soffice
    -> /usr/lib/libreoffice/program/soffice, or /opt/libreoffice*/program/soffice), next to soffice.bin.
    """
    found = shutil.which(soffice)
    if found is None:
        return None
    program = Path(os.path.realpath(found)).parent
    if not (program / "soffice.bin").is_file():
        return None  # a wrapper script or another platform's layout: let LibreOffice try
    return all((program / name).is_file() for name in _IMPRESS_LIBRARIES)


def convert(inputs: list[tuple[str, bytes]], target: str, timeout: float | None = None) -> list[bytes | str]:
    """Convert documents to `target` (a key of TARGETS: "docx", or "pptx" through Impress) with one LibreOffice start.

    Args:
        inputs: (suffix with dot, file bytes) pairs; the bytes are written to a private folder
            under neutral names, so odd file names and equal stems cannot clash.
        target: the format to write.
        timeout: seconds for the whole call; default START_SECONDS + PER_FILE_SECONDS per file.

    Returns:
        For each input, in order: the converted file's bytes, or a short reason when LibreOffice
        wrote nothing for it (it could not load the file).

    Raises:
        LoadError: LibreOffice (or its Impress part, for "pptx") is missing, failed to start or ran out of time.
    """
    spec = TARGETS[target]
    soffice = find_soffice()
    if soffice is None:
        needs = "LibreOffice with Impress" if target == "pptx" else "LibreOffice"
        raise LoadError(f"reading this format needs {needs}, which is not installed; {spec.install}")
    if target == "pptx" and impress_installed(soffice) is False:
        raise LoadError(
            f"reading this format needs LibreOffice Impress, which is not installed (LibreOffice is, without it); "
            f"{spec.install}"
        )
    if timeout is None:
        timeout = START_SECONDS + PER_FILE_SECONDS * len(inputs)
    with tempfile.TemporaryDirectory(prefix="assistant-soffice-") as tmp:
        work = Path(tmp)
        (work / "in").mkdir()
        (work / "profile" / "user").mkdir(parents=True)
        (work / "profile" / "user" / "registrymodifications.xcu").write_text(_PROFILE_SETTINGS, encoding="utf-8")
        names = []
        for index, (suffix, data) in enumerate(inputs):
            name = f"{index}{suffix.lower()}"
            (work / "in" / name).write_bytes(data)
            names.append(name)
        command = [
            soffice,
            # A profile of its own per call: two conversions at once (two app instances, parallel
            # tests) would otherwise fight over the user's profile lock and one would silently do nothing.
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--norestore",
            "--convert-to",
            spec.convert_to,
            "--outdir",
            str(work / "out"),
            *names,
        ]
        _run(command, work / "in", timeout, spec)
        results: list[bytes | str] = []
        for name in names:
            out = work / "out" / f"{Path(name).stem}.{target}"
            if out.is_file() and out.stat().st_size > 0:
                results.append(out.read_bytes())
            else:
                results.append("LibreOffice could not open it")
        return results


def _run(command: list[str], cwd: Path, timeout: float, spec: Target) -> None:
    """Run LibreOffice in its own process group, killing the whole group (soffice.bin too) on timeout."""
    env = dict(os.environ)
    env.pop("DISPLAY", None)  # headless: never try to reach an X server
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise LoadError(f"cannot start LibreOffice ({exc.strerror or exc}); {spec.install}") from None
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise LoadError(f"LibreOffice did not finish converting within {timeout:.0f} s; {spec.resave}") from None
    except BaseException:
        _kill_group(process)
        raise
    if process.returncode != 0 and b"could not be loaded" not in stderr:
        message = stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {process.returncode}"
        raise LoadError(f"LibreOffice failed ({detail}); {spec.resave}")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
