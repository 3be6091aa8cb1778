# This file is generated from zaqarkit/transports/_async/__init__.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""Async transport parts; zaqarkit/transports/_sync is generated from them by scripts/unasync.py."""
