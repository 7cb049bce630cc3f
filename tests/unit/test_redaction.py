"""A share link's token is replaced before a log record reaches any handler."""

from __future__ import annotations

import logging

import pytest

from bot import redaction


def test_a_share_link_in_a_log_message_or_its_arguments_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    redaction.install()
    token = "sRwASrycNQg2WBlQDzbSZPIOfFB7NXDjRq16glE-lQ8"
    with caplog.at_level(logging.DEBUG, logger="blocktime.bolt"):
        logging.getLogger("blocktime.bolt").debug('Responding with body: "%s"', f"https://h.example/c/{token}\\n")
    assert token not in caplog.text and "https://h.example/c/<redacted>" in caplog.text


def test_other_paths_are_left_alone() -> None:
    assert redaction.redact("see /c/short and /clients/acme") == "see /c/short and /clients/acme"


def test_a_url_encoded_share_link_is_redacted_too() -> None:
    token = "sRwASrycNQg2WBlQDzbSZPIOfFB7NXDjRq16glE-lQ8"
    said = redaction.redact(f"success_url=https%3A%2F%2Fh.example%2Fc%2F{token}%3Fbought%3Dbp_1&x=%2fC%2f{token}")
    assert token not in said and said.count("/c/<redacted>") == 2
