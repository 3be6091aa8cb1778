"""python-zaqarclient's ``zaqarclient.queues``."""
