"""Find loadable files among the files and folders a user gives, with a reason for each one skipped."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ingest.loaders.base import SUPPORTED_SUFFIXES

_SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_SUFFIXES))


def unsupported_reason(path: Path) -> str:
    """The user-facing reason a file with this suffix is not loaded, with the supported suffixes."""
    suffix = path.suffix
    what = f"unsupported format {suffix.lower()}" if suffix else "unsupported format: no file extension"
    return f"{what} (supported: {_SUPPORTED_LIST})"


def _is_hidden(name: str, st: os.stat_result | None) -> bool:
    # "~$name.docx" are Word's lock files: hidden on Windows, junk everywhere else.
    if name.startswith((".", "~$")):
        return True
    attributes = getattr(st, "st_file_attributes", 0) if st is not None else 0
    return bool(attributes & stat.FILE_ATTRIBUTE_HIDDEN)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Find the loadable files among files and folders, walking folders recursively.

    Folders are walked in sorted name order, so the result is deterministic. Hidden files and
    folders (names starting with ".", Windows hidden ones, Word "~$" lock files) are ignored
    silently. Symlinked folders are followed once: a folder reached again (a symlink loop or a
    second link to it) is not walked again, and a file reached twice is listed once.

    Args:
        paths: Files and folders, as the user gave them.

    Returns:
        The supported files, in walk order, and the skipped paths with a user-facing reason
        ("unsupported format .xlsx (supported: …)", "no such file or folder", …).
    """
    found: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    seen_files: set[tuple[int, int]] = set()
    seen_dirs: set[tuple[int, int]] = set()

    def add_file(path: Path, st: os.stat_result) -> None:
        if not stat.S_ISREG(st.st_mode):
            skipped.append((path, "not a regular file (device, pipe or socket)"))
            return
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append((path, unsupported_reason(path)))
            return
        key = (st.st_dev, st.st_ino)
        if key not in seen_files:
            seen_files.add(key)
            found.append(path)

    def walk(root: Path, root_st: os.stat_result) -> None:
        # Explicit stack instead of recursion so deep trees cannot hit the recursion limit.
        # Entries are pushed in reverse sorted order, so they pop in sorted order, depth first:
        # the same order as sorting all paths.
        stack: list[tuple[Path, os.stat_result]] = [(root, root_st)]
        while stack:
            path, st = stack.pop()
            if not stat.S_ISDIR(st.st_mode):
                add_file(path, st)
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen_dirs:
                continue  # a symlink back to a folder already walked (or a loop)
            seen_dirs.add(key)
            try:
                with os.scandir(path) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except PermissionError:
                skipped.append((path, "cannot read folder: permission denied; check its permissions"))
                continue
            except OSError as exc:
                skipped.append((path, f"cannot read folder: {exc.strerror or exc}"))
                continue
            children: list[tuple[Path, os.stat_result]] = []
            for entry in entries:
                child = path / entry.name
                if entry.name.startswith((".", "~$")):
                    continue
                try:
                    # os.stat, not entry.stat: on Windows the latter leaves st_dev/st_ino at zero.
                    child_st = os.stat(child)  # follows symlinks
                except FileNotFoundError:
                    skipped.append((child, "broken link: its target does not exist"))
                    continue
                except OSError as exc:
                    skipped.append((child, f"cannot read: {exc.strerror or exc}"))
                    continue
                if not _is_hidden(entry.name, child_st):
                    children.append((child, child_st))
            stack.extend(reversed(children))

    for given in paths:
        path = Path(given)
        try:
            st = path.stat()
        except FileNotFoundError:
            skipped.append((path, "no such file or folder"))
            continue
        except PermissionError:
            skipped.append((path, "cannot read: permission denied; check its permissions"))
            continue
        except OSError as exc:
            skipped.append((path, f"cannot read: {exc.strerror or exc}"))
            continue
        if stat.S_ISDIR(st.st_mode):
            walk(path, st)
        else:
            add_file(path, st)
    return found, skipped
