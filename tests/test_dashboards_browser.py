"""The dashboards in a real browser (Debian's chromium): every chart drawn by the service's own
plotly.js, no request leaving the machine, screenshots kept under tests/artifacts/."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from conftest import REQUIRE_BROWSER, _unavailable
from sqlalchemy import select
from werkzeug.serving import make_server

from dashboards import charts
from dashboards.democracy import BUILDERS as DEMOCRACY
from ledger.commons.models import Commons
from ledger.extensions import db

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("LEDGER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def live_server(app, runner):
    """The demo installation served on a free local port from a background thread."""
    assert runner.invoke(["demo"]).exit_code == 0
    db.session.commit()
    slugs = list(db.session.scalars(select(Commons.slug).order_by(Commons.slug)))
    db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", slugs
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser():
    # A missing browser fails a run that requires one (CI), as conftest's browser_page does.
    try:
        from playwright import sync_api
    except ImportError:
        _unavailable("chromium", REQUIRE_BROWSER)
    if not os.path.exists(CHROMIUM):
        _unavailable("chromium", REQUIRE_BROWSER)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def test_every_dashboard_draws_each_chart_with_local_plotly_and_nothing_leaves_the_machine(live_server, browser):
    origin, slugs = live_server
    ARTIFACTS.mkdir(exist_ok=True)
    requested: list[str] = []
    refused: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: message.type == "error" and refused.append(message.text))

    def guard(route):
        # Anything not served by the service is refused, so a leak cannot go unnoticed or succeed.
        if route.request.url.startswith((origin + "/", "data:", "blob:")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    pages = [("installation", "/transparency")] + [(slug, f"/transparency/{slug}") for slug in slugs]
    for name, path in pages:
        for lang in ("fr", "en"):
            response = page.goto(f"{origin}{path}?lang={lang}")
            assert response.status == 200
            plots = page.locator(".plot[data-figure]")
            expected = page.locator("section.chart").count()
            # A commons adds its democratic health, whose charts may be empty (no vote yet: "nothing to show").
            assert expected == len(charts.BUILDERS) + (0 if name == "installation" else len(DEMOCRACY))
            assert plots.count() == expected - page.locator("section.chart p.empty").count()
            assert plots.count() >= len(charts.BUILDERS), f"{name}: a chart has no data on the demo"
            expected = plots.count()
            page.wait_for_function(
                "n => document.querySelectorAll('.plot[data-rendered=true]').length === n", arg=expected, timeout=20_000
            )
            for index in range(expected):
                plot = plots.nth(index)
                assert plot.locator(".main-svg").count() >= 1, f"{name}: chart {index} not drawn"
                # Something was really drawn: bars, lines or sankey links, not an empty frame.
                assert plot.locator("path, rect.bg").count() > 0
            page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}-{lang}.png"), full_page=True)
    response = page.goto(f"{origin}/transparency/ledger?lang=en")
    assert response.status == 200
    assert page.locator("td.check-verified").count() > 0 and page.locator("td[class^=check-]:not(.check-verified)").count() == 0
    page.screenshot(path=str(ARTIFACTS / "public-ledger-en.png"), full_page=True)

    assert refused == []
    assert requested and all(url.startswith((origin + "/", "data:", "blob:")) for url in requested)
    assert any(url.startswith(f"{origin}/transparency/plotly-") for url in requested)
