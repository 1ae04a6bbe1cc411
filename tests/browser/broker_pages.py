"""The embedded Pact Broker's pages in a real browser (Debian's chromium, driven by
Playwright), against a server tests/e2e/broker_pages.rs started and filled: the index
loads with the key as Basic credentials, every link on it is followed and loads, the
badge on a pact's page renders, the matrix filter works, nothing logs a console error or
runs a script (the hostile pact's markup must stay text), and axe-core finds no serious
or critical accessibility violation on any page.

Environment: BROKER_URL (…/broker), BROKER_KEY, CHROMIUM (the executable), AXE_JS
(axe-core's axe.min.js); BROKER_SCREENSHOTS, a folder to save each page's screenshot in. Prints what it checked; exits 1 with every failure listed.
"""

import os
import sys

from playwright.sync_api import sync_playwright

BASE = os.environ["BROKER_URL"].rstrip("/")
KEY = os.environ["BROKER_KEY"]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_JS = os.environ["AXE_JS"]

failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


def watch(page, where):
    """Console errors, page errors and dialogs (an alert() would be injected script)."""
    def console(m):
        if m.type != "error":
            return
        source = (m.location or {}).get("url", "")
        if source.endswith("/favicon.ico"):
            # The browser's own probe for a JSON document's icon, at the server's root,
            # which is not the broker's; the pages name their icon and never cause it.
            print(f"note: favicon probe on {where()}")
            return
        fail(f"console error on {where()}: {m.text} ({source})")

    page.on("console", console)
    page.on("pageerror", lambda e: fail(f"page error on {where()}: {e}"))
    page.on(
        "response",
        lambda r: r.status >= 400
        and r.status != 401  # the Basic challenge, answered with the credentials
        and fail(f"{r.url} answered {r.status} on {where()}"),
    )

    def dialog(d):
        fail(f"a dialog opened on {where()}: {d.message!r}")
        d.dismiss()

    page.on("dialog", dialog)


def load(page, url):
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200:
        fail(f"{url}: status {response.status if response else 'none'}")
        return None
    return response


def is_html(response):
    return response.headers.get("content-type", "").startswith("text/html")


def no_scripts(page, url):
    # The pages have none; one here would be the hostile pact's markup come alive.
    count = page.evaluate("() => document.querySelectorAll('script').length")
    if count:
        fail(f"{url}: {count} script element(s) in the page")


def axe_check(page, url):
    page.add_script_tag(path=AXE_JS)
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})); }"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    for v in bad:
        fail(f"axe on {url}: {v['impact']} {v['id']}: {v['help']} at {v['nodes']}")
    minor = [v for v in result if v not in bad]
    for v in minor:
        print(f"axe note on {url}: {v['impact']} {v['id']}: {v['help']}")
    return len(bad)


def main():
    credentials = {"username": "browser", "password": KEY}
    checked_by_axe = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # The pages' own Content-Security-Policy is in force here: a style it did not
        # allow, or any script, would show as a console error.
        context = browser.new_context(http_credentials=credentials)
        page = context.new_page()
        current = {"url": BASE + "/"}
        watch(page, lambda: current["url"])

        index = load(page, current["url"])
        if index is None or not is_html(index):
            fail("the index is not an HTML page")
            return
        title = page.title()
        print(f"index: {title!r}")
        if not title:
            fail("the index has no title")
        no_scripts(page, current["url"])
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        links = list(dict.fromkeys(links))
        pages = [current["url"]]
        for link in links:
            current["url"] = link
            response = load(page, link)
            if response is not None and is_html(response):
                no_scripts(page, link)
                pages.append(link)
        print(f"links followed: {len(links)}, of which pages: {len(pages) - 1}")
        if len(links) < 4:
            fail(f"the index has only {len(links)} links: {links}")

        # A pact's page shows its badge: an SVG image that the browser decoded.
        pact_pages = [u for u in pages if u.endswith("/latest")]
        if not pact_pages:
            fail("no pact page linked from the index")
        for url in pact_pages:
            current["url"] = url
            load(page, url)
            images = page.evaluate(
                "() => [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0, alt: i.alt}))"
            )
            badges = [i for i in images if i["src"].endswith("/badge")]
            if not badges or not all(i["ok"] for i in badges):
                fail(f"{url}: the badge did not render: {images}")
            else:
                print(f"badge rendered: {badges[0]['alt']!r}")
            text = page.inner_text("main")
            if "%3Csvg" in url:
                # The hostile team's pact: its markup is there, as text.
                if "<script>alert(" in text and "<img src=x onerror=" in text:
                    print(f"hostile markup shown as text on {url}")
                else:
                    fail(f"{url}: the hostile pact's descriptions are not shown as text")

        # The matrix filter: a branch with no pacts empties the table; main fills it.
        matrix = next((u for u in pages if "/matrix/provider/docintel/consumer/docintel-sdk" in u), None)
        if matrix is None:
            fail("no matrix page for docintel-sdk linked from the index")
        else:
            current["url"] = matrix
            load(page, matrix)
            rows_before = page.locator("tbody tr").count()
            page.fill("input[name=consumer_branch]", "no-such-branch")
            with page.expect_navigation():
                page.click("button[type=submit]")
            current["url"] = page.url
            emptied = page.locator("tbody tr").count() == 0 and page.get_by_text(
                "No pacts between these versions."
            ).is_visible()
            page.fill("input[name=consumer_branch]", "main")
            page.check("input[name=provider_latest]")
            with page.expect_navigation():
                page.click("button[type=submit]")
            current["url"] = page.url
            rows_after = page.locator("tbody tr").count()
            kept = page.input_value("input[name=consumer_branch]") == "main"
            if rows_before >= 1 and emptied and rows_after >= 1 and kept and "consumer_branch=main" in page.url:
                print(f"matrix filter: ok ({rows_before} rows, 0 on no-such-branch, {rows_after} on main)")
            else:
                fail(
                    f"matrix filter: {rows_before} rows before, emptied={emptied}, "
                    f"{rows_after} after, kept={kept}, url={page.url}"
                )
            pages.append(page.url)
        context.close()

        # axe-core is injected as a script, which the pages' policy rightly refuses, so
        # this context sets the policy aside to audit the same pages.
        audit = browser.new_context(http_credentials=credentials, bypass_csp=True)
        page = audit.new_page()
        # Here a script that slipped past the escaping would run: a dialog fails the check.
        watch(page, lambda: page.url)
        serious = 0
        shots = os.environ.get("BROKER_SCREENSHOTS")  # a folder, to look at the pages
        for url in dict.fromkeys(pages):
            response = load(page, url)
            if response is not None and is_html(response):
                serious += axe_check(page, url)
                checked_by_axe.append(url)
                if shots:
                    page.screenshot(path=os.path.join(shots, f"{len(checked_by_axe)}.png"), full_page=True)
        audit.close()
        browser.close()
    print(f"axe: {serious} serious or critical violations on {len(checked_by_axe)} pages")


if __name__ == "__main__":
    main()
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("ok")
