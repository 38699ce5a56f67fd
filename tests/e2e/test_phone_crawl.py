"""On a 390 x 844 phone, every page each role reaches from its home page within two clicks
fits the screen's width, passes axe-core and logs no console error.

One URL per endpoint and role keeps the walk short: a second person's page or another cycle's
results use the same template as the first.
"""

import time
from urllib.parse import urlsplit

from tests.e2e.conftest import AXE_JS, PHONE, WCAG_TAGS
from trainer import create_app

ROLES = ["employee", "manager", "hr", "admin"]
DEPTH = 2  # clicks from the home page
# Links that download a file rather than show a page.
FILES = (".csv", ".json", ".pdf")


def _endpoints():
    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True})
    return app.url_map.bind("localhost")


def _endpoint(adapter, path):
    try:
        return adapter.match(path, method="GET")[0]
    except Exception:  # noqa: BLE001 (a redirect, a 404 or a POST-only URL: not a page)
        return None


def _links(page, origin):
    hrefs = page.eval_on_selector_all(
        "a[href]:not([download])", "els => els.map(e => e.href.split('#')[0])"
    )
    return [
        h
        for h in hrefs
        if h.startswith(origin)
        and not urlsplit(h).path.endswith(FILES)
        and not urlsplit(h).path.startswith("/static/")
    ]


# The outermost elements that stick out past the screen's right edge, outside any scrolling box.
WIDEST = """(limit) => {
  const scrolls = (e) => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.getBoundingClientRect().right <= limit + 1) continue;
    let up = e.parentElement, inside = false;
    while (up && !inside) { inside = scrolls(up) || out.includes(up); up = up.parentElement; }
    if (!inside) out.push(e);
  }
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className ? '.' + e.className : '');
  return out.slice(0, 3).map(name);
}"""


# Tables not inside the shared scroll region: a focusable, named region of class table-wrap.
BARE_TABLES = """() => [...document.querySelectorAll('table')].filter(t => {
  const region = t.closest('.table-wrap');
  return !(region && region.getAttribute('role') === 'region'
           && region.getAttribute('tabindex') === '0'
           && (region.getAttribute('aria-label') || region.getAttribute('aria-labelledby')));
}).map(t => (t.caption ? t.caption.textContent.trim() : t.className || 'table').slice(0, 60))"""


def _problems(page, axe=True):
    """Return what is wrong with the page on a phone: sideways overflow, and unless `axe` is
    false, axe-core's WCAG 2.1 AA violations."""
    found = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        wide = page.evaluate(WIDEST, PHONE["width"])
        found.append(f"{width} px wide (widest: {wide})")
    bare = page.evaluate(BARE_TABLES)
    if bare:
        found.append(f"tables outside a labelled scroll region (_tables.html): {bare}")
    if not axe:
        return found
    page.evaluate(AXE_JS)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    found += [
        f"axe {v['id']}: {v['help']} at " + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
    ]
    return found


def _check(page, url, axe, console) -> list[str]:
    """Open `url` (None: the page as it is), and return its problems."""
    if url is not None:
        console.clear()
        response = page.goto(url)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            return []
        if page.locator("[data-src]").count():  # wait for the charts' data
            page.wait_for_load_state("networkidle")
    return _problems(page, axe=axe) + [f"console: {c}" for c in console]


def test_every_page_within_two_clicks_fits_a_phone(page, login, live_url):
    adapter = _endpoints()
    console = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    report, visited, axed = {}, 0, set()
    started = time.monotonic()
    for role in ROLES:
        page.context.clear_cookies()
        login(page, f"{role}@example.com")
        seen = {_endpoint(adapter, urlsplit(page.url).path)}
        frontier = [None]  # the home page, where signing in lands
        for depth in range(DEPTH + 1):
            next_frontier = []
            for url in frontier:
                endpoint = _endpoint(adapter, urlsplit(url or page.url).path)
                # Every role's page is measured; axe-core, the slow part, runs once per endpoint.
                problems = _check(page, url, endpoint not in axed, console)
                axed.add(endpoint)
                visited += 1
                if problems:
                    report[f"{role} {urlsplit(page.url).path}"] = problems
                if depth == DEPTH:
                    continue
                for link in _links(page, live_url):
                    endpoint = _endpoint(adapter, urlsplit(link).path)
                    if endpoint and endpoint not in seen:
                        seen.add(endpoint)
                        next_frontier.append(link)
            frontier = next_frontier
    print(
        f"phone crawl: {visited} pages, {len(axed)} checked by axe-core, "
        f"in {time.monotonic() - started:.0f} s"
    )
    assert not report, "pages that do not fit a phone:\n" + "\n".join(
        f"{where}: {'; '.join(problems)}" for where, problems in sorted(report.items())
    )
