"""`attune batch INPUT --out DIR`: many recordings reviewed on Dask, one table, resumable (docs/batch.md)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from .output import wants_stdout, write_json_to


def batch(args, config) -> int:
    """Review every recording of a folder or manifest as `attune review` would; the table and an overview."""
    from ..session.batch import Settings, dask_client, find_jobs, run_batch
    from ..session.batch.jobs import split_names

    defaults = Settings(speakers=args.speakers, channels_are_speakers=args.channels_are_speakers,
                        names=split_names(args.names) if args.names else None, me=args.me,
                        no_video=args.no_video)
    jobs = find_jobs(args.input, defaults=defaults)
    if not getattr(args, "debug", False):
        # Dask's INFO lines (the scheduler, workers starting) are not for the user; importing
        # distributed sets its loggers' levels, so ours comes after it.
        import distributed  # noqa: F401

        logging.getLogger("distributed").setLevel(logging.ERROR)
    out = sys.stderr if wants_stdout(args.json) else sys.stdout
    progress = Progress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        with dask_client(scheduler=args.scheduler, workers=args.workers) as client:
            result = run_batch(jobs, args.out, config=config, client=client, retries=args.retries,
                               on_start=progress.start, on_result=progress.advance)
    finally:
        progress.stop()
    folder = Path(args.out)
    report = None
    if args.report is not None:
        from ..session.batch.overview import write_overview

        report = Path(args.report) if args.report else folder / "overview.html"
        write_overview(report, result.rows, config=config, title=f"Batch overview: {Path(args.input).name}")
    if args.json:
        write_json_to(args.json, _summary_json(args, result, report))
    if not args.quiet:
        _print_summary(result, report, out)
    if result.interrupted:
        print(f"attune: interrupted: kept {result.done} of {result.total} recordings in {folder} "
              f"(table and index); run the same command again to go on", file=sys.stderr)
        return 130
    return 0


class Progress:
    """A progress line on standard error (a terminal only): files done, rate, failures, time left."""

    def __init__(self, *, enabled: bool):
        self.enabled, self.bar, self.failed, self.t0 = enabled, None, 0, 0.0

    def start(self, result, to_do: int) -> None:
        if not self.enabled or to_do == 0:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self.failed, self.t0 = 0, time.monotonic()
        self.bar = Bar(TextColumn(f"reviewing ({result.skipped} already done)"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[failed]} failed"),
                       TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.task = self.bar.add_task("batch", total=to_do, rate="", failed=0)
        self.bar.start()

    def advance(self, outcome) -> None:
        if self.bar is None:
            return
        self.failed += outcome.error is not None
        done = self.bar.tasks[0].completed + 1
        rate = done / max(time.monotonic() - self.t0, 1e-9) * 60
        self.bar.update(self.task, advance=1, failed=self.failed, rate=f"{rate:.1f}/min")

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _summary_json(args, result, report) -> dict:
    parquet, csv = result.tables
    return {"input": str(args.input), "out": str(args.out), "recordings": result.total,
            "reviewed": result.reviewed, "skipped": result.skipped, "failed": result.failed,
            "interrupted": result.interrupted, "seconds": round(result.seconds, 3), "workers": result.workers,
            "table": {"parquet": str(parquet), "csv": str(csv)}, "report": str(report) if report else None,
            "errors": [{"file": r["file"], "error": r["error"]} for r in result.rows if r["error"]]}


def _print_summary(result, report, out) -> None:
    rate = result.reviewed / result.seconds * 60 if result.seconds > 0 and result.reviewed else 0.0
    print(f"{result.total} recordings: {result.reviewed} reviewed"
          + (f" ({rate:.1f} per minute on {result.workers} worker{'s' if result.workers != 1 else ''})"
             if result.reviewed else "")
          + f", {result.skipped} already done, {result.failed} could not be reviewed", file=out)
    errors = [r for r in result.rows if r["error"]]
    for r in errors[:10]:
        print(f"  {r['file']}: {r['error']}", file=out)
    if len(errors) > 10:
        print(f"  ... and {len(errors) - 10} more (the table's error column)", file=out)
    parquet, csv = result.tables
    print(f"Table: {parquet} and {csv}", file=out)
    if report is not None:
        print(f"Overview: {report}", file=out)
