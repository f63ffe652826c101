"""``python -m pilotis``: the command-line interface."""

from pilotis.cli.main import main

raise SystemExit(main())
