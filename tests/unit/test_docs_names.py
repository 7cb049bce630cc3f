"""The public names issue 26 fixes are findable, word for word, in the CHANGELOG and the README."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lines_of(name: str) -> list[str]:
    return (ROOT / name).read_text(encoding="utf-8").splitlines()


def test_the_changelog_names_the_buttons_and_settings_on_one_line() -> None:
    text = lines_of("CHANGELOG.md")
    for name in ("**Approve up to 2 more hours**", "`refill draft 10h`", "[max N per month]", "`refill_edit`"):
        assert any(name in line for line in text), name


def test_the_readme_jobs_section_says_how_to_run_the_allotments_job() -> None:
    text = "\n".join(lines_of("README.md"))
    jobs = text.split("## Alerts and scheduled jobs", 1)[1].split("\n## ", 1)[0]
    assert "`blocktime jobs run allotments`" in jobs
