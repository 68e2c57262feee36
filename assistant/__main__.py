"""python -m assistant: the command line (see assistant/app/cli.py)."""

import sys

from assistant.app.cli import main

sys.exit(main())
