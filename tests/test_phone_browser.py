"""At phone width (390 px) in Debian's chromium, on the demo: every page each kind of person can
reach by following links is no wider than the screen and stays clean for axe-core; the menu folds
behind one button that works with the keyboard. And `/transparency` in a fresh browser: its load
is measured and printed, and plotly.js travels compressed, then comes from the cache."""

from __future__ import annotations

import os
import re
import threading
import time
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from dashboards import plotly_asset
from ledger.demo import PASSWORD
from tests.dashboards_support import demo_app  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Who browses, by the demo's logins (ledger/demo/base.py, payouts.py); the member contributes too.
ROLES = {
    "anonymous": None,
    "member": "mathis.girard@demo.communs.example",
    "steward": "camille.morel@demo.communs.example",
    "accountant": "comptabilite@ecotone.demo.communs.example",
    "fund manager": "jade.francois@demo.communs.example",
    "admin": "admin@demo.communs.example",
}
# Pages no link leads to: what a mailed link, a mistyped address or the footer opens.
EXTRA = ["/invitation/not-a-token", "/password/reset/not-a-token", "/no-such-page"]
# Not pages: files, JSON, redirects and a Swagger UI drawn by its own package.
NOT_PAGES = re.compile(r"\.(csv|txt|pem|js|css|ico)$|^/api/|^/lang/|^/static/|/salary-lines$|^/(healthz|readyz)$")
# The dashboards are the same for everyone but the members of a commons (they also see a table of
# names): drawing their charts again for every role would only slow the test down.
DASHBOARDS, DASHBOARD_ROLES = re.compile(r"^/transparency"), ("anonymous", "member")
# Endpoints the crawl cannot reach on the demo, each for a reason the test states.
UNREACHED = {
    "static",
    "dashboards.static",
    "dashboards.plotly_js",
    "dashboards.installation_csv",
    "dashboards.commons_csv",
    "dashboards.ledger_checkpoint",
    "downloads.signing_key_pem",
    "health.healthz",
    "health.readyz",
    "auth.switch_language",
    "home.favicon",  # no page links it: a browser asks for it by itself
    "payout_pages.cae_salary_lines",  # a CSV file
    "rounds_pages.confirm_finalize",  # only while a round awaits finalizing; the demo has none
}


@pytest.fixture(scope="module")
def demo_server(demo_app):
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="phone-server", daemon=True)
    thread.start()
    yield demo_app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium():
    executable = os.environ.get("LEDGER_CHROMIUM", "/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        from conftest import REQUIRE_BROWSER, _unavailable

        _unavailable("chromium", REQUIRE_BROWSER)
    if not os.path.exists(executable):
        from conftest import REQUIRE_BROWSER, _unavailable

        _unavailable("chromium", REQUIRE_BROWSER)
    from conftest import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label(re.compile("Adresse e-mail|Email")).fill(email)
    page.get_by_label(re.compile("Mot de passe|Password")).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Se connecter|Log in")).click()
    page.wait_for_url(lambda url: "/login" not in url)


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def shape(path: str) -> str:
    """One visit per kind of page: /rounds/12 and /rounds/13 are the same page."""
    return re.sub(r"/\d+(?=/|$)", "/N", urlsplit(path).path)


def links(page) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]:not([download])", "els => els.map(e => e.getAttribute('href'))")
    return [h.split("#")[0] for h in hrefs if h.startswith("/") and not h.startswith("//")]


def wait_for_charts(page) -> None:
    # A chart is drawn after the page loads; only then is its width final.
    page.wait_for_function(
        "document.querySelectorAll('.plot[data-rendered=true]').length === document.querySelectorAll('.plot').length",
        timeout=20_000,
    )


def too_wide(page) -> str | None:
    width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width <= viewport:
        return None
    culprits = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
            .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))"""
    )
    return f"{width} px wide ({', '.join(culprits)})"


def test_every_page_fits_a_phone_for_everyone_and_stays_accessible(demo_server, chromium):
    app, base = demo_server
    started = time.monotonic()
    wide: dict[str, str] = {}
    violations: dict[str, list[str]] = {}
    checked_by_axe: set[str] = set()
    visited: set[str] = set()
    adapter = app.url_map.bind("127.0.0.1")
    for role, email in ROLES.items():
        context = chromium.new_context(viewport=PHONE)
        page = context.new_page()
        if email:
            log_in(page, base, email)
        queue, seen = ["/", *EXTRA], set()
        while queue:
            path = queue.pop(0)
            if shape(path) in seen or NOT_PAGES.search(urlsplit(path).path):
                continue
            if DASHBOARDS.search(path) and role not in DASHBOARD_ROLES:
                continue
            seen.add(shape(path))
            response = page.goto(base + path)
            assert response.status < 500, f"{role}: {path} answered {response.status}"
            wait_for_charts(page)
            if problem := too_wide(page):
                wide[f"{role} {path}"] = problem
            # axe once per kind of page (it is the slow part), by whoever reaches it first.
            if shape(path) not in checked_by_axe:
                checked_by_axe.add(shape(path))
                if found := serious_violations(page):
                    violations[path] = found
            try:
                visited.add(adapter.match(urlsplit(path).path)[0])
            except Exception:  # noqa: BLE001 (the 404 page matches no endpoint)
                pass
            queue += [link for link in links(page) if shape(link) not in seen]
        context.close()
    print(f"\n390 px: {len(checked_by_axe)} kinds of page, {len(ROLES)} roles, {time.monotonic() - started:.1f} s")
    assert wide == {}
    assert violations == {}, "\n".join(f"{path}: {found}" for path, found in violations.items())
    pages = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods and not rule.rule.startswith("/api/")}
    assert pages - visited - UNREACHED == set(), "pages the crawl never reached: link them or list them in EXTRA"


def test_the_menu_folds_behind_one_button_on_a_phone_and_opens_with_the_keyboard(demo_server, chromium):
    from playwright.sync_api import expect

    _, base = demo_server
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, base, ROLES["steward"])
    page.goto(f"{base}/?lang=en")
    nav = page.get_by_role("navigation", name="Main")
    button = nav.get_by_role("button", name="Menu")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="My account")).to_be_hidden()
    header = page.locator("header.site").bounding_box()
    assert header["height"] < 100, header  # two short lines at most, not six
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="My account")).to_be_visible()
    assert serious_violations(page) == []
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    # A wide table scrolls inside itself, and can be focused to scroll it with the keyboard.
    page.goto(f"{base}/transparency/ledger")
    table = page.locator("table.ledger")
    expect(table).to_have_attribute("tabindex", "0")
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")
    # On a desktop the whole menu shows and the button does not.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/?lang=en")
    expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
    expect(nav.get_by_role("link", name="My account")).to_be_visible()
    context.close()


def test_transparency_first_paint_in_a_fresh_browser_and_plotly_sent_compressed(demo_server, chromium):
    _, base = demo_server
    with open(plotly_asset.PATH, "rb") as source:
        uncompressed = len(source.read())
    context = chromium.new_context(viewport={"width": 1280, "height": 900})  # fresh: empty cache
    page = context.new_page()
    started = time.monotonic()
    page.goto(f"{base}/transparency")
    wait_for_charts(page)
    charts_drawn = time.monotonic() - started
    timing = page.evaluate(
        """() => {
            const nav = performance.getEntriesByType('navigation')[0];
            const paint = performance.getEntriesByName('first-contentful-paint')[0];
            const plotly = performance.getEntriesByType('resource').find(r => r.name.includes('/plotly-'));
            return {fcp: paint ? paint.startTime : null, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
                    transferred: plotly.transferSize, encoded: plotly.encodedBodySize, decoded: plotly.decodedBodySize};
        }"""
    )
    print(
        f"\n/transparency, fresh browser: first contentful paint {timing['fcp']:.0f} ms, "
        f"DOMContentLoaded {timing['dcl']:.0f} ms, load {timing['load']:.0f} ms, all charts drawn {charts_drawn * 1000:.0f} ms"
        f"\nplotly.js: {timing['transferred']:,} bytes transferred ({timing['encoded']:,} body) "
        f"for {uncompressed:,} bytes uncompressed ({uncompressed / timing['transferred']:.1f}x smaller)"
    )
    assert timing["decoded"] == uncompressed and timing["encoded"] == len(plotly_asset.gzipped()[0])
    assert timing["transferred"] < uncompressed / 3
    # The next page comes with plotly.js from the cache: nothing crosses the network for it.
    page.goto(f"{base}/transparency/roue-libre")
    wait_for_charts(page)
    again = page.evaluate("performance.getEntriesByType('resource').find(r => r.name.includes('/plotly-')).transferSize")
    assert again == 0
    context.close()
