"""The ring's own watch can fail: a page that logs an error, throws, or breaks its Content-Security-Policy
is caught (each test here then says it expected that, so its teardown passes)."""

from __future__ import annotations

from typing import Any

from tests.browser.harness import ConsoleWatch


def test_an_error_logged_on_the_console_is_caught(page: Any, console: ConsoleWatch) -> None:
    page.set_content("<!doctype html><html lang=en><title>t</title><script>console.error('boom')</script></html>")
    assert console.messages == ["console error: boom"]
    console.expect("boom")


def test_an_uncaught_exception_is_caught(page: Any, console: ConsoleWatch) -> None:
    page.set_content("<!doctype html><html lang=en><title>t</title><script>null.x</script></html>")
    assert [m for m in console.messages if m.startswith("page error: ")] != []
    console.expect("null")


def test_a_content_security_policy_violation_is_caught(page: Any, console: ConsoleWatch) -> None:
    page.set_content(
        "<!doctype html><html lang=en><head><title>t</title>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'\"></head>"
        "<body><p style='color: red'>styled inline</p></body></html>"
    )
    page.wait_for_load_state()
    assert any("style-src" in m for m in console.messages), console.messages
    console.expect("style-src")
