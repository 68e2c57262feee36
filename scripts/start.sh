#!/usr/bin/env bash
# One command to a running assistant on the bundled sample corpus (set-up included, fast when done).
set -euo pipefail
cd "$(dirname "$0")/.."
export ASSISTANT_HOME=${ASSISTANT_HOME:-$PWD/.home}
bash scripts/setup.sh
# Ingestion is incremental: unchanged files are skipped, so this is quick after the first run.
.venv/bin/python -m assistant ingest data/corpus
if [ -f assistant/ui.py ]; then
  exec .venv/bin/python -m assistant serve "$@"
fi
.venv/bin/python -m assistant ask "机关是怎样落实在职党员“双报到”制度的？"
