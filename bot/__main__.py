"""``python -m bot`` runs the ``calfbot`` command."""

from bot.cli import main

raise SystemExit(main())
