"""Run a view's service call: commit it once, or roll it back and say why.

A view validates its form, hands the service call to :func:`run_action`, then redirects or
renders. The helper owns the request's one commit. When the service refuses with one of the
error classes the view names, everything the service flushed is rolled back and the refusal
goes to ``on_error``: flashed by default, or put under a form field with :func:`attach_to`
so that the form re-renders with what was typed. Any other exception is not caught; the
error pages (``portal/errors.py``) roll back and show a plain message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import flash
from wtforms import Field

from portal.extensions import db

T = TypeVar("T")
E = TypeVar("E", bound=Exception)


@dataclass(frozen=True)
class Outcome(Generic[T, E]):
    """What :func:`run_action` did: the action's ``value`` once committed, or its ``refusal``."""

    value: T | None = None
    refusal: E | None = None

    @property
    def committed(self) -> bool:
        return self.refusal is None


def flash_refusal(exc: Exception) -> None:
    """Flash a refusal's message as an error (the default ``on_error``)."""
    flash(str(exc), "error")


def _message(exc: Exception) -> list[str]:
    return [str(exc)]


def attach_to(field: Field, messages: Callable[[E], Iterable[str]] = _message) -> Callable[[E], None]:
    """Return an ``on_error`` that adds the refusal's ``messages`` to ``field``'s errors."""

    def attach(exc: E) -> None:
        field.errors = [*field.errors, *messages(exc)]

    return attach


def run_action(
    action: Callable[[], T],
    *,
    errors: type[E] | tuple[type[E], ...],
    success: str | Callable[[T], str] | None = None,
    category: str = "success",
    on_error: Callable[[E], object] = flash_refusal,
) -> Outcome[T, E]:
    """Run ``action`` and commit, flashing ``success``; on one of ``errors``, roll back and call ``on_error``.

    ``success`` may be a function of the action's result; it is called after the commit, so
    it describes the rows as the action left them. Give ``None`` to flash nothing.
    """
    try:
        value = action()
    except errors as exc:
        db.session.rollback()
        on_error(exc)
        return Outcome(refusal=exc)
    db.session.commit()
    if success is not None:
        flash(success(value) if callable(success) else success, category)
    return Outcome(value=value)
