#!/usr/bin/env bash
# One command for the whole test suite (set-up included): unit and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASSISTANT_HOME=${ASSISTANT_HOME:-$PWD/.home}
bash scripts/setup.sh --dev
exec .venv/bin/python -m pytest -q "$@"
