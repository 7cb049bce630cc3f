"""The burn-down chart: the balance over time (hours), top-ups and expiries marked, and the projected
run-out as a dashed line. Rendered with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402 - the backend is chosen first
import matplotlib.pyplot as plt  # noqa: E402

from bot.services.reports import BalancePoint, ReportResult  # noqa: E402

WIDTH_PX, HEIGHT_PX, DPI = 1200, 600, 100
TOP_UPS = ("topup", "renewal")


def burndown_png(title: str, history: list[BalancePoint], now: datetime, run_out_on: date | None) -> bytes:
    """A PNG of ``WIDTH_PX`` x ``HEIGHT_PX``; the line is exactly the ledger's balance after each change."""
    figure, axes = plt.subplots(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    try:
        times = [p.at for p in history] + [now]
        hours = [p.balance_minutes / 60 for p in history] + [history[-1].balance_minutes / 60 if history else 0]
        axes.step(times, hours, where="post", color="#1f6feb", linewidth=2.2, label="balance")
        axes.fill_between(times, hours, step="post", alpha=0.08, color="#1f6feb")
        axes.axhline(0, color="#444444", linewidth=1)
        span = (times[-1] - times[0]).total_seconds() or 1.0
        placed: dict[str, list[datetime]] = {"up": [], "down": []}

        def lift(side: str, at: datetime) -> int:
            """How many labels of this side stand too close before this one: each goes a line further out,
            so labels never overlap."""
            near = [x for x in placed[side] if abs((at - x).total_seconds()) < span / 12]
            placed[side].append(at)
            return len(near)

        for point in history:
            if point.kind in TOP_UPS:
                axes.scatter([point.at], [point.balance_minutes / 60], marker="^", s=90, color="#2da44e", zorder=3)
                axes.annotate(
                    f"+{_h(point.minutes)} h",
                    (point.at, point.balance_minutes / 60),
                    textcoords="offset points",
                    xytext=(0, 9 + 13 * lift("up", point.at)),
                    ha="center",
                    color="#2da44e",
                    fontsize=10,
                )
            elif point.kind == "forfeit":
                axes.scatter([point.at], [point.balance_minutes / 60], marker="X", s=80, color="#cf222e", zorder=3)
                axes.annotate(
                    f"expired {_h(-point.minutes)} h",
                    (point.at, point.balance_minutes / 60),
                    textcoords="offset points",
                    xytext=(0, -16 - 13 * lift("down", point.at)),
                    ha="center",
                    color="#cf222e",
                    fontsize=10,
                )
        if run_out_on is not None and hours[-1] > 0:
            end = datetime.combine(run_out_on, time(12), now.tzinfo)
            axes.plot(
                [now, end],
                [hours[-1], 0],
                linestyle="--",
                color="#bf8700",
                linewidth=2,
                label=f"projected run-out {run_out_on:%d %b %Y}",
            )
            axes.annotate(
                f"runs out ~{run_out_on:%d %b}",
                (end, 0),
                textcoords="offset points",
                xytext=(-4, 10),
                ha="right",
                color="#bf8700",
                fontsize=11,
                fontweight="bold",
            )
            axes.set_xlim(right=max(end, now) + timedelta(days=3))
        axes.set_title(title, fontsize=15, loc="left", fontweight="bold")
        axes.set_ylabel("hours left", fontsize=12)
        axes.grid(True, axis="y", alpha=0.3)
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        axes.legend(loc="upper right", frameon=False)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
        return buffer.getvalue()
    finally:
        plt.close(figure)


def report_chart(result: ReportResult, now: datetime) -> bytes:
    """The burn-down of a report: its balance history and its projected run-out."""
    run_out = result.forecast.get("run_out_on")
    return burndown_png(
        f"{result.display_name}: balance in hours",
        result.history,
        now,
        date.fromisoformat(run_out) if run_out else None,
    )


def _h(minutes: int) -> str:
    return format((Decimal(minutes) / 60).quantize(Decimal("0.01")).normalize(), "f")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
