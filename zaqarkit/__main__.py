"""``python -m zaqarkit``: the command line, or a one-line hint when its extra is missing.

Also the console script's entry point (``zaqarkit = zaqarkit.__main__:main``):
click and rich are imported only here, lazily, because they are optional.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

HINT = "zaqarkit's command line needs: pip install 'zaqarkit[cli]'"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``zaqarkit`` command line (exits the process).

    Example::

        main(["queue", "list", "-f", "json"])
    """
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError as exc:
        sys.stderr.write(f"{HINT} (missing {exc.name})\n")
        raise SystemExit(1) from None
    from zaqarkit.cli.main import main as cli_main

    cli_main(argv)


if __name__ == "__main__":
    main()
