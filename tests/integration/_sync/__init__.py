# This file is generated from tests/integration/_async/__init__.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""Integration tests of the async facade; tests/integration/_sync is generated from them."""
