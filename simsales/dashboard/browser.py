"""Drive the dashboard in a real browser (Playwright + a system Chromium): serve, fill in, run, read, screenshot.

Used by the browser test (tests/test_dashboard_browser.py) and by docs/dashboard_screenshot.py.
Playwright's own browser download is not needed: `launch()` starts the Chromium found at
`CHROMIUM` (the Debian `chromium` package) headless.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from simsales.dashboard.__main__ import command, server_env

CHROMIUM = os.environ.get("SIMSALES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: Labels of the sidebar inputs, by the Settings field they set.
INPUT_LABELS = {
    "n_consumers": "Consumers (agents)",
    "replicates": "Replicates",
    "days": "Recorded days (empty: scenario's own)",
    "warmup_days": "Warm-up days (empty: scenario's own)",
    "root_seed": "Root seed",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(port: int | None = None, timeout: float = 60.0, log: Path | None = None) -> Iterator[str]:
    """Start the dashboard server on 127.0.0.1 and yield its URL; it is killed on exit.

    Raises RuntimeError (with the server's output) if it does not answer within `timeout` seconds.
    """
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/"
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(command("127.0.0.1", port), stdout=out, stderr=subprocess.STDOUT, env=server_env())
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dashboard server exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"dashboard server did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log is not None:
            out.close()  # type: ignore[union-attr]


def launch(playwright: Any) -> Any:
    """The system Chromium, headless, through Playwright."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def choose(page: Any, label: str, option: str) -> None:
    """Pick `option` in the select box labelled `label`."""
    # found by its visible label: Vuetify 3 names the select's input "Open", Vuetify 2 by the label
    box = page.locator(".v-select", has=page.locator("label", has_text=re.compile(f"^{re.escape(label)}$"))).first
    box.click()
    page.locator(".v-list-item:visible", has=page.get_by_text(option, exact=True)).first.click()


def upload(page: Any, path: str | Path) -> str:
    """Upload a scenario file through the page's upload button; returns the message shown under it."""
    before = page.locator("[data-upload]").inner_text()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload a scenario .toml").click()
    chooser.value.set_files(str(path))
    page.wait_for_function("b => document.querySelector('[data-upload]').innerText !== b", arg=before, timeout=30_000)
    return page.locator("[data-upload]").inner_text()


def fill_and_run(
    page: Any,
    url: str,
    kind: str | None = None,
    scenario: str | None = None,
    timeout: float = 90.0,
    **sizes: int | None,
) -> None:
    """Open the dashboard, pick a scenario (kind, then name), type the sizes (Settings field names) and run;
    waits for the results."""
    page.goto(url, timeout=timeout * 1000)
    page.get_by_label(INPUT_LABELS["n_consumers"], exact=True).wait_for(timeout=timeout * 1000)
    if kind is not None:
        choose(page, "Kind", kind)
    if scenario is not None:
        choose(page, "Scenario", scenario)
    for field, value in sizes.items():
        box = page.get_by_label(INPUT_LABELS[field], exact=True)
        box.fill("" if value is None else str(value))
        box.press("Enter")
    page.get_by_role("button", name="Run").click()
    try:
        page.locator("[data-kpi]").first.wait_for(timeout=timeout * 1000)
        page.locator("img").last.wait_for(timeout=timeout * 1000)
    except Exception as exc:  # say what the page shows instead (an error message, a stuck progress bar)
        text = " | ".join(page.locator("body").inner_text().split("\n"))[:2000]
        raise RuntimeError(f"no results after {timeout:.0f} s; the page shows: {text}") from exc


def shown_values(page: Any, attribute: str) -> dict[str, tuple[str, float]]:
    """Elements with a `data-<attribute>` on the page: name -> (visible text, full-precision data-value)."""
    out = {}
    for el in page.locator(f"[data-{attribute}]").all():
        name = el.get_attribute(f"data-{attribute}")
        out[name] = (el.inner_text(), float(el.get_attribute("data-value")))
    return out
