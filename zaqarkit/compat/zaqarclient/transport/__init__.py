"""python-zaqarclient's ``zaqarclient.transport``: its error classes
(:mod:`.errors`) and names for its transport classes (:mod:`.http`,
:mod:`.base`, :mod:`.response`). Requests themselves go through zaqarkit's
transports."""
