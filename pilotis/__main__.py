"""``python -m pilotis``: the command-line interface."""

from pilotis.cli import main

raise SystemExit(main())
