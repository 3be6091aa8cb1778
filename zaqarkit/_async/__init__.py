"""Client facade; zaqarkit/_sync is generated from zaqarkit/_async by scripts/unasync.py."""
