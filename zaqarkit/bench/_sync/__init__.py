# This file is generated from zaqarkit/bench/_async/__init__.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
