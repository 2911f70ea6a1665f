"""Regenerate the README's screenshot of the --html page.

    python docs/make_page_image.py            # docs/images/page-neuron.png
    python docs/make_page_image.py OUT.png    # somewhere else

Needs Playwright (in the test extra) and a Chromium: /usr/bin/chromium
(Debian's `chromium` package) or the binary in CIRCUIT_RUN_CHROMIUM.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main(out: Path) -> None:
    import runner
    from playwright.sync_api import sync_playwright
    from runner.present.page import write_html

    chromium = os.environ.get("CIRCUIT_RUN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    result = runner.run_spec(runner.load_spec(HERE.parent / "circuits" / "neuron.yaml"))
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        page_file = Path(folder) / "neuron.html"
        write_html(result, page_file)
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 720})
        page.goto(page_file.as_uri())
        page.evaluate("circuitRun.set('x', -1.5)")  # moved once, as a reader would
        page.screenshot(path=str(out))
        browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "images" / "page-neuron.png")
