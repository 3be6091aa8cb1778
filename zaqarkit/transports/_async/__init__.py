"""Async transport parts; zaqarkit/transports/_sync is generated from them by scripts/unasync.py."""
