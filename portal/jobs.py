"""The background job queue: Huey with SQLite storage embedded, Redis at scale.

Feature packages mark functions with ``@job`` in their ``tasks.py``; ``enqueue(fn, ...)``
sends a call to the worker. One Huey task type runs every job inside an app context of the
worker's own app and commits once, like a request.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey

from portal.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, Callable[..., Any]] = {}


def job(fn: F) -> F:
    """Register a function so that it can be run by the worker."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    _REGISTRY[name] = fn
    fn.job_name = name  # type: ignore[attr-defined]
    return fn


def build_huey(app: Flask) -> Huey:
    immediate = bool(app.config.get("JOBS_IMMEDIATE"))
    if app.config.get("REDIS_URL"):
        huey: Huey = RedisHuey(
            name=app.config.get("JOBS_QUEUE_NAME", "portal"),
            url=app.config["REDIS_URL"],
            immediate=immediate,
        )
    else:
        path = app.config.get("JOBS_SQLITE_PATH") or str(Path(app.instance_path) / "jobs.sqlite")
        huey = SqliteHuey(name=app.config.get("JOBS_QUEUE_NAME", "portal"), filename=path, immediate=immediate)

    @huey.task(name="portal.run_job")
    def run_job(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        fn = _REGISTRY.get(name)
        if fn is None:
            raise LookupError(f"no job named {name}")
        with app.app_context():
            try:
                result = fn(*args, **kwargs)
                db.session.commit()
                return result
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    huey.portal_run_job = run_job  # type: ignore[attr-defined]
    return huey


def init_app(app: Flask) -> None:
    app.extensions["huey"] = build_huey(app)


def enqueue(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Queue ``fn(*args, **kwargs)`` for the worker; return the queue's task id."""
    name = getattr(fn, "job_name", None)
    if name is None:
        raise TypeError(f"{fn!r} is not registered with @job")
    huey: Huey = current_app.extensions["huey"]
    result = huey.portal_run_job(name, list(args), kwargs)  # type: ignore[attr-defined]
    return result.id if hasattr(result, "id") else ""


def run_worker(app: Flask, workers: int = 2) -> None:
    """Run the consumer in this process until interrupted."""
    huey: Huey = app.extensions["huey"]
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    os.environ.setdefault("PORTAL_WORKER", "1")
    consumer.run()
