#!/usr/bin/env bash
# One command for the whole test suite (set-up included): lint, format and type checks, then unit and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASSISTANT_HOME=${ASSISTANT_HOME:-$PWD/.home}
bash scripts/setup.sh --dev
echo "[test] ruff check, ruff format --check, mypy"
.venv/bin/ruff check assistant ingest bench tests prompts
.venv/bin/ruff format --check assistant ingest bench tests prompts
.venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"
