"""The ``zaqarkit`` command line (``pip install 'zaqarkit[cli]'``).

``zaqarkit queue list``, ``zaqarkit message post QUEUE``, ``zaqarkit tail QUEUE``,
``zaqarkit server up`` ...: every ``openstack messaging`` verb plus what it lacks.
Subcommands are imported when used, so ``zaqarkit --help`` stays fast; add one
by naming it in :data:`SUBCOMMANDS`.

Example::

    $ zaqarkit server up
    $ eval "$(zaqarkit server env)"
    $ zaqarkit queue create orders
"""

from __future__ import annotations

from zaqarkit.cli.main import SUBCOMMANDS, cli, main

__all__ = ["SUBCOMMANDS", "cli", "main"]
