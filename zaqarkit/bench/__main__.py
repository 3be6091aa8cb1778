"""``python -m zaqarkit.bench``: the same command as ``zaqarkit bench``."""

from __future__ import annotations

import sys

HINT = "zaqarkit bench needs: pip install 'zaqarkit[bench]' (or 'zaqarkit[cli]')"


def main() -> None:
    try:
        from zaqarkit.cli.bench import bench
    except ImportError as exc:
        sys.stderr.write(f"{HINT} (missing {exc.name})\n")
        raise SystemExit(1) from None
    bench.main(prog_name="python -m zaqarkit.bench")


if __name__ == "__main__":
    main()
