"""Integration tests of the async facade; tests/integration/_sync is generated from them."""
