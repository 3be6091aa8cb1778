"""Shared plumbing of the adapters: error translation, updates."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, Protocol, TypeVar

from zaqarkit.compat.zaqarclient import errors
from zaqarkit.compat.zaqarclient.transport import errors as transport_errors
from zaqarkit.errors import ApiError, UnsupportedOperation

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise zaqarkit's errors under python-zaqarclient's class names (the
    new classes subclass zaqarkit's, so ``except zaqarkit.NotFound`` still works)."""
    try:
        yield
    except ApiError as exc:
        new = transport_errors.from_api_error(exc)
        if new is exc:
            raise
        raise new from exc
    except UnsupportedOperation as exc:
        if isinstance(exc, errors.InvalidOperation):
            raise
        raise errors.InvalidOperation(str(exc)) from exc


def translate(function: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`translated`."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with translated():
            return function(*args, **kwargs)

    return wrapper


class _Updatable(Protocol):
    def update(self, changes: Mapping[str, Any] | None = None) -> None: ...


def update_mirrored(adapter: object, handle: _Updatable, data: Mapping[str, Any]) -> None:
    """python-zaqarclient's ``update(data)``: send it through the zaqarkit
    ``handle``, then set the same attributes on ``adapter``, as it does."""
    handle.update(data)
    for key, value in data.items():
        setattr(adapter, key, value)
