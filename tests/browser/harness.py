"""What the browser ring's tests share: finding the distribution's Chromium, watching a page's console,
and keeping screenshots as artefacts of the run."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
INSTALL_HINT = "no Chromium found: apt-get install chromium (or set BLOCKTIME_CHROMIUM to its path)"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Reports the page's CSP violations on its console too (Chromium logs most already, not every one).
WATCH_CSP = """document.addEventListener('securitypolicyviolation', (e) =>
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));"""

SCREENSHOTS: list[Path] = []


def find_chromium() -> str | None:
    """``BLOCKTIME_CHROMIUM`` if set, else the distribution's ``/usr/bin/chromium`` or one on the PATH."""
    configured = os.environ.get("BLOCKTIME_CHROMIUM", "").strip()
    for candidate in (configured,) if configured else CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


@dataclass
class ConsoleWatch:
    """What one page said on its console, threw, or failed to load: the test fails on any of it at teardown, except
    messages matching a pattern the test ``expect``-ed (a 404 page's own "Failed to load resource")."""

    messages: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))
        page.on("requestfailed", lambda request: self.messages.append(f"request failed: {request.url}"))

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning", "assert"):
            where = message.location.get("url", "")
            self.messages.append(f"console {message.type}: {message.text}" + (f" ({where})" if where else ""))

    def expect(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.expected)]


def screenshot(page: Any, folder: Path, name: str) -> Path:
    """The whole page as ``<folder>/<name>.png``, kept as an artefact of the run."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SCREENSHOTS.append(path)
    return path
