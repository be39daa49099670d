"""Headless Chromium for the report tests: load a file, read the DOM after scripts ran,
take a screenshot. Offline by construction: every networked Chromium service is off.

Uses the command line only (``--dump-dom`` / ``--screenshot``), not the DevTools
protocol, so nothing beyond Debian's ``chromium`` package is needed. The page's own
self-check script writes its findings into ``<html data-...>`` attributes, which the
dumped DOM carries back.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")

FLAGS = (
    "--headless",
    "--no-sandbox",  # runs as root in CI containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--enable-logging=stderr",
    "--v=0",
)
_TOOLBAR = 200
# Chromium prints every console message of the page as `...:CONSOLE:<line>] "<text>"`.
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)\] (.*)")


def chromium_path() -> str | None:
    for path in CHROMIUM_CANDIDATES:
        if Path(path).is_file():
            return path
    return shutil.which("chromium")


@dataclass(frozen=True)
class PageCheck:
    dom: str
    errors: list[str]  # from the page's error hook (script errors, policy violations)
    console: list[str]  # every console line Chromium logged while loading
    charts: int
    charts_ok: int
    charts_bad: str
    page_height: int
    selfcheck_done: bool


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="sparkseg-chromium-") as profile:
        return subprocess.run(
            [*args[:1], *FLAGS, f"--user-data-dir={profile}", *args[1:]],
            capture_output=True, text=True, timeout=timeout, check=False,
        )


def _attr(dom: str, name: str) -> str | None:
    m = re.search(rf'<html[^>]*\s{re.escape(name)}="([^"]*)"', dom)
    return None if m is None else m.group(1)


def check_page(chromium: str, html_file: Path, *, width: int = 1280, timeout: float = 60
               ) -> PageCheck:
    """Load the page, let its scripts run, return what its self-check recorded."""
    proc = _run([chromium, f"--window-size={width},1000", "--virtual-time-budget=5000",
                 "--dump-dom",
                 html_file.resolve().as_uri()], timeout)
    dom = proc.stdout
    raw_errors = _attr(dom, "data-errors")
    errors = json.loads(raw_errors.replace("&quot;", '"')) if raw_errors else ["no error hook"]
    console = [m.group(1) for m in _CONSOLE.finditer(proc.stderr)]
    return PageCheck(
        dom=dom,
        errors=errors,
        console=console,
        charts=int(_attr(dom, "data-charts") or -1),
        charts_ok=int(_attr(dom, "data-charts-ok") or -1),
        charts_bad=_attr(dom, "data-charts-bad") or "",
        page_height=int(_attr(dom, "data-page-height") or 0),
        selfcheck_done=_attr(dom, "data-selfcheck") == "done",
    )


def screenshot(chromium: str, html_file: Path, png: Path, *, width: int = 1280,
               height: int = 2000, timeout: float = 60) -> Path:
    """A PNG of the top ``width`` x ``height`` pixels of the page."""
    from PIL import Image  # installed with matplotlib

    png.parent.mkdir(parents=True, exist_ok=True)
    # Headless Chromium's viewport is the window less its (invisible) toolbar, and the
    # screenshot leaves that strip unpainted: ask for a taller window, keep the top.
    proc = _run([chromium, f"--window-size={width},{height + _TOOLBAR}",
                 "--virtual-time-budget=5000", f"--screenshot={png.resolve()}",
                 html_file.resolve().as_uri()], timeout)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot (exit {proc.returncode}): "
                           f"{proc.stderr[-2000:]}")
    with Image.open(png) as image:
        top = image.crop((0, 0, width, height))
    top.save(png)
    return png
