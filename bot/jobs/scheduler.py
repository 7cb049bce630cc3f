"""APScheduler 3.x wiring: the outbox dispatcher every few seconds (and at once after a commit that
wrote an alert), and the daily and monthly jobs at their times in the workspace timezone. Every bot
process runs a scheduler; ``run_once`` makes each job happen once per due time across them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.dispatcher import Dispatcher, worker_name
from bot.jobs.runs import RunOutcome, run_once
from bot.jobs.tasks import HOURLY, JOBS, REPEATABLE
from bot.services import Context
from bot.services.timers import ask_about_long_timers

log = logging.getLogger("blocktime.scheduler")
DISPATCH_JOB = "dispatch"
TIMERS_JOB = "timers"
TIMER_CHECK_MINUTES = 5  # how often timers that ran too long are looked for (each owner asked once)


def triggers(ctx: Context) -> dict[str, Any]:
    """When each job is due: the schedule, separate from the scheduler so it can be checked."""
    settings = ctx.settings
    zone = settings.timezone
    hour, minute = (int(part) for part in settings.digest_time.split(":"))
    nudge_hour, nudge_minute = (int(part) for part in settings.nudge_time.split(":"))
    return {
        "expiry": CronTrigger(hour=0, minute=5, timezone=zone),
        "renewal": CronTrigger(hour=0, minute=10, timezone=zone),
        "digest": CronTrigger(day_of_week=settings.digest_days, hour=hour, minute=minute, timezone=zone),
        # every hour on the 1st and 2nd: each client's statements go at 08:00 on the 1st in its own time zone
        "statement": CronTrigger(day="1-2", minute=0, timezone=zone),
        "nudge": CronTrigger(day_of_week=settings.nudge_days, hour=nudge_hour, minute=nudge_minute, timezone=zone),
        # every hour: a recurring allotment's period begins at midnight in the client's own time zone
        "allotments": CronTrigger(minute=2, timezone=zone),
    }


def run_job(ctx: Context, name: str, day: date, owner: str | None = None, repeat: bool = False) -> RunOutcome:
    """Run job ``name`` for ``day`` unless it already ran (here or in another process); with
    ``repeat`` (a person asked), a job in ``REPEATABLE`` runs again and answers what it did now."""
    work = JOBS[name]
    due_key = f"{day.isoformat()}T{ctx.now():%H}" if name in HOURLY else day.isoformat()
    outcome = run_once(ctx, name, due_key, owner or worker_name(), lambda: work(ctx, day))
    if outcome.ran or not repeat or name not in REPEATABLE:
        return outcome
    return RunOutcome(name, day.isoformat(), True, work(ctx, day))


class Scheduler:
    def __init__(self, ctx: Context, dispatcher: Dispatcher) -> None:
        self.ctx = ctx
        self.dispatcher = dispatcher
        self.scheduler = BackgroundScheduler(timezone=ctx.settings.timezone)
        self.scheduler.add_job(
            self._dispatch,
            IntervalTrigger(seconds=ctx.settings.dispatch_seconds),
            id=DISPATCH_JOB,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(),
        )
        self.scheduler.add_job(
            self._timers,
            IntervalTrigger(minutes=TIMER_CHECK_MINUTES),
            id=TIMERS_JOB,
            max_instances=1,
            coalesce=True,
        )
        for name, trigger in triggers(ctx).items():
            self.scheduler.add_job(
                self._job(name), trigger, id=name, max_instances=1, coalesce=True, misfire_grace_time=3600
            )
        ctx.db.outbox_subscribers.append(self.kick)

    def _dispatch(self) -> None:
        try:
            self.dispatcher.run_once()
        except Exception:
            log.exception("dispatcher pass failed; the next pass retries")

    def _timers(self) -> None:
        try:
            ask_about_long_timers(self.ctx)
        except Exception:
            log.exception("timer check failed; the next pass retries")

    def _job(self, name: str) -> Callable[[], None]:
        def run() -> None:
            try:
                run_job(self.ctx, name, self.ctx.today())
            except Exception:
                log.exception("job %s failed", name)

        return run

    def kick(self) -> None:
        """Deliver new alerts now instead of at the next tick."""
        if self.scheduler.running:
            self.scheduler.modify_job(DISPATCH_JOB, next_run_time=datetime.now(self.scheduler.timezone))

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)
