#!/usr/bin/env bash
# One command to a running assistant on the bundled sample corpus (set-up included, fast when done).
# Extra arguments go to `python -m assistant serve` (e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
export ASSISTANT_HOME=${ASSISTANT_HOME:-$PWD/.home}
bash scripts/setup.sh
# Ingestion is incremental: unchanged files are skipped, so this is quick after the first run.
.venv/bin/python -m assistant ingest data/corpus
echo "Starting the chat at http://${ASSISTANT_HOST:-127.0.0.1}:${ASSISTANT_PORT:-7860} (Ctrl-C stops it)"
exec .venv/bin/python -m assistant serve "$@"
