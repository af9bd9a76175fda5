"""Browser tests: a live portal with the demo hospital, driven by Playwright in Debian's chromium.

Screenshots land in tests/screenshots/ (not committed) so that people can look at them.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from portal import create_app
from tests.support import drop_database, fresh_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
AXE = ROOT / "portal" / "static" / "vendor" / "axe-core" / "axe.min.js"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
    if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
        skip = pytest.mark.skip(reason="Debian's chromium is not installed (apt-get install -y chromium)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


class LiveServer:
    def __init__(self, app: Any, url: str):
        self.app = app
        self.url = url

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve the portal with the demo hospital and a job worker, on a free local port."""
    tmp = tmp_path_factory.mktemp("live")
    database_url = fresh_database(tmp, "live")
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "live-test-secret",
        "JOBS_SQLITE_PATH": str(tmp / "jobs.sqlite"),
        "JOBS_QUEUE_NAME": f"live-{uuid.uuid4().hex[:8]}",
        "RATELIMIT_KEY_PREFIX": f"live-{uuid.uuid4().hex}",
        "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    }
    app = create_app(config)
    app.instance_path = str(tmp)
    with app.app_context():
        from portal.cli import init_database
        from portal.demo import build_demo
        from portal.extensions import db

        init_database()
        build_demo()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    consumer = app.extensions["huey"].create_consumer(workers=1, worker_type="thread", periodic=False)
    consumer.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        consumer.stop(graceful=False)
        server.shutdown()
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
        drop_database(database_url)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


def _context(browser: Any, viewport: dict[str, int]) -> Any:
    # bypass_csp lets the tests inject axe-core; the portal's own pages never need it.
    context = browser.new_context(viewport=viewport, bypass_csp=True, locale="en-GB",
                                  timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh phone-sized page (390 × 844)."""
    context = _context(browser, PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    """A fresh desktop-sized page (1280 × 900)."""
    context = _context(browser, DESKTOP)
    yield context.new_page()
    context.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_accessibility(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.1 A and AA rules) and fail on serious or critical violations."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
    )
    serious = [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
    assert not serious, "Accessibility violations:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} on {[n['target'] for n in v['nodes']][:3]}" for v in serious
    )
    return result["violations"]


def sign_in(page: Any, live_server: LiveServer, email: str, password: str) -> None:
    page.goto(live_server("/account/sign-in"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Wait for the redirect away from the form: checks made straight after a click
    # could otherwise still be looking at the sign-in page.
    page.wait_for_url(lambda url: "/account/sign-in" not in url)


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/account/sign-in" in url)
