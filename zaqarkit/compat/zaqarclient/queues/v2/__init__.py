"""python-zaqarclient's ``zaqarclient.queues.v2`` resource classes."""
