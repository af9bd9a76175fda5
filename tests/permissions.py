"""The permission matrix's vocabulary: route cases, role sets and the lazily built context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLES = ("anonymous", "nurse", "other_manager", "manager", "admin")

ANYONE = frozenset(ROLES)
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
MEMBER_OF_WARD = frozenset({"nurse", "manager", "admin"})
MANAGER_OF_WARD = frozenset({"manager", "admin"})
ANY_MANAGER = frozenset({"manager", "other_manager", "admin"})
ADMIN_ONLY = frozenset({"admin"})
NOBODY_SIGNED_IN = frozenset({"anonymous"})


@dataclass(frozen=True)
class RouteCase:
    """One route and who may use it. ``url`` builds the address from the context."""

    endpoint: str
    method: str
    url: Callable[[Any], str]
    allowed: frozenset[str]
    data: Callable[[Any], dict[str, Any]] = field(default=lambda c: {})
    # Signing out lands on the sign-in page even for those allowed to do it.
    lands_on_login: bool = False


class Context:
    """Objects the URLs point at, built on first use by registered builders."""

    def __init__(self, base: dict[str, Any], builders: dict[str, Callable[[Context], Any]]):
        self._values = dict(base)
        self._builders = builders

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._values:
            if name not in self._builders:
                raise AttributeError(f"no context builder for {name!r}")
            self._values[name] = self._builders[name](self)
        return self._values[name]
