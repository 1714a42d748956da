"""Running a batch on Dask distributed: a LocalCluster sized to the machine, or a running cluster.

One code path for both: every recording still to do is one `client.submit(review_job, ...)` with a
retry count (the client lists and stats the files; the workers read and hash them); results are taken
`as_completed`, kept in the index the moment they arrive, and the table is written at the end (also
after Ctrl-C, with what was done). A worker that dies has its recordings
rescheduled on the others by the scheduler; one that keeps killing workers (or raising unexpected
errors) ends as a row with the error, not kept in the index, so that a rerun tries it again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...config import Config
from ...errors import InputError
from .index import BatchIndex
from .jobs import Job, job_key, settings_fingerprint
from .table import write_table
from .task import OUTPUT_FILES, Outcome, error_row, review_job, unreadable

log = logging.getLogger(__name__)

#: Memory to plan per local worker, bytes: a review with video holds mediapipe's models and a
#: reduced landmark track (peak measured in benchmarks/bench_batch.py, with room to spare).
WORKER_MEMORY = 1.5e9
#: How long to wait for a scheduler to answer, s.
CONNECT_TIMEOUT_S = 20
#: Dask settings for the local cluster, so that its workers run a review as `attune review` does and
#: Dask's own upkeep stays under 1% of a core (docs/batch.md, measured with benchmarks/bench_batch.py):
#: - no MALLOC_TRIM_THRESHOLD_ (Dask's 65536 turns glibc's adaptive mmap threshold off, so every decoded
#:   video frame is mapped and unmapped again: +20 to 25% CPU on a video review);
#: - no statistical profiler (it samples the task every 10 ms for a dashboard a local batch does not start);
#: - the event-loop health check, system monitor and memory monitor at 0.5 s, 5 s and 1 s instead of
#:   20 ms, 0.5 s and 0.1 s (an idle worker and its client took 4% of a core, now 0.7%): reviews take
#:   seconds to minutes and memory grows over seconds, so nothing needs watching more often.
#: The rest as Dask has it: OMP_NUM_THREADS=1 and kin, one thread per worker.
LOCAL_WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                       "distributed.worker.profile.enabled": False,
                       "distributed.admin.tick.interval": "500ms",
                       "distributed.admin.system-monitor.interval": "5s",
                       "distributed.worker.memory.monitor-interval": "1s"}


def batch_config(config: Config) -> Config:
    """The settings a batch reviews with: `config` with the trained models (onnxruntime) on one thread
    each, `[diarization] nn_threads` and `[words] threads` = 1. A batch keeps every core busy with a
    review of its own, where a second thread per model only waits and spins: one thread costs 30 to
    50% less CPU per audio recording, with the same results (docs/batch.md, tests/session/test_batch.py)."""
    return config.replace("diarization", nn_threads=1).replace("words", threads=1)


@dataclass
class BatchResult:
    """What a batch did: the rows of every recording it has (in input order), and counts."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    reviewed: int = 0
    skipped: int = 0
    failed: int = 0
    submitted: int = 0
    interrupted: bool = False
    tables: tuple[Path, Path] | None = None
    seconds: float = 0.0
    task_seconds: float = 0.0
    workers: int = 0

    @property
    def done(self) -> int:
        return self.reviewed + self.skipped


def default_workers() -> int:
    """One worker per core this process may use, fewer when memory would not hold them."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return cores
    return max(1, min(cores, int(memory // WORKER_MEMORY)))


@contextlib.contextmanager
def dask_client(*, scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A distributed.Client: connected to the running scheduler at `scheduler`, or to a LocalCluster of
    `workers` processes (default: default_workers()) with one thread each and LOCAL_WORKER_CONFIG,
    closed afterwards."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as e:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({e.__class__.__name__})") from None
        with client:
            yield client
        return
    if workers is not None and workers < 1:
        raise InputError(f"--workers takes a count of 1 or more, got {workers}")
    import dask

    # the worker processes inherit SIGINT ignored: Ctrl-C is the client's to handle
    with _ctrl_c_for_us_alone(), dask.config.set(LOCAL_WORKER_CONFIG):
        cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _ctrl_c_for_us_alone() -> Iterator[None]:
    """SIGINT ignored while child processes are started (they keep it ignored), then as it was."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def plan(jobs: Sequence[Job], index: BatchIndex, *, fingerprint: str, out: Path
         ) -> tuple[dict[int, list[dict]], list[tuple[int, Job, str | None, frozenset[str]]]]:
    """Split `jobs` into those already done ({position: rows}: from the index, and those absent here, as
    error rows) and those to submit [(position, job, key or None, done keys)], reading no recording:
    a file's key is known from a `stat` when it is unchanged since a worker hashed it (else None: the
    worker hashes it, and skips the review if the key is among `done keys`, the finished reviews kept
    under the job's name). `fingerprint`: the batch's settings_fingerprint."""
    known: dict[int, list[dict]] = {}
    todo = []
    for i, job in enumerate(jobs):
        try:
            content = index.known_digest(job.path)
            rttm = index.known_digest(job.settings.rttm) if job.settings.rttm else None
        except OSError as e:
            known[i] = [error_row(job, unreadable(job, e))]
            continue
        if content is None or (job.settings.rttm and rttm is None):
            done = frozenset(k for k in index.keys_of(job.name) if _finished(index.entry(k), out / job.name))
            todo.append((i, job, None, done))
            continue
        key = job_key(job, content=content, fingerprint=fingerprint, rttm=rttm)
        entry = index.entry(key)
        if _finished(entry, out / job.name):
            known[i] = entry["rows"]
        else:
            todo.append((i, job, key, frozenset()))
    return known, todo


def _finished(entry: dict | None, folder: Path) -> bool:
    """A kept review whose outputs are all in `folder`, or a kept error of the file itself."""
    return entry is not None and bool(entry["error"] or all((folder / f).exists() for f in OUTPUT_FILES))


def run_batch(jobs: Sequence[Job], out: str | Path, *, config: Config, client, retries: int = 2,
              on_result: Callable[[Outcome], None] | None = None,
              on_start: Callable[[BatchResult, int], None] | None = None) -> BatchResult:
    """Review every recording of `jobs` not already done in `out` on the Dask `client` with
    batch_config(`config`); write the table.

    `on_start(result, to_do)` is called once the plan is made, `on_result(outcome)` as each recording
    finishes. Ctrl-C (KeyboardInterrupt) cancels what is in flight, writes the table of what was done
    and returns with `interrupted` set.
    """
    t0 = time.perf_counter()
    out = Path(out).resolve()
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    index = BatchIndex(out)
    config = batch_config(config)
    fingerprint = settings_fingerprint(config)
    known, todo = plan(jobs, index, fingerprint=fingerprint, out=out)
    result = BatchResult(total=len(jobs), skipped=sum(1 for r in known.values() if not _failed_rows(r)),
                         failed=sum(1 for r in known.values() if _failed_rows(r)),
                         workers=len(client.scheduler_info().get("workers", {})))
    result.submitted = len(todo)
    if on_start is not None:
        on_start(result, len(todo))
    run = secrets.token_hex(4)  # two batches on one scheduler never share a task
    futures = {client.submit(review_job, job, job_key=key, config=config, out=str(out), fingerprint=fingerprint,
                             done=done, retries=retries, pure=False, key=f"attune-review-{run}-{i}"): (i, job)
               for i, job, key, done in todo}
    try:
        _collect(futures, known, index, result, on_result)
    except KeyboardInterrupt:
        result.interrupted = True
        with contextlib.suppress(Exception):
            client.cancel(list(futures), force=True)
    result.rows = [row for i in range(len(jobs)) if i in known for row in known[i]]
    result.tables = write_table(result.rows, out)
    result.seconds = time.perf_counter() - t0
    return result


def _collect(futures: dict, known: dict[int, list[dict]], index: BatchIndex, result: BatchResult,
             on_result: Callable[[Outcome], None] | None) -> None:
    from distributed import as_completed

    for fut in as_completed(list(futures)):
        i, job = futures.pop(fut)
        try:
            outcome = fut.result()
        except Exception as e:  # noqa: BLE001 - retries used up or workers lost: a row, not a crash
            message = _lost(e)
            outcome = Outcome("", job.name, [error_row(job, message)], error=message, final=False)
            log.warning("%s: %s", job.file, message)
        fut.release()
        if outcome.skipped:  # touched, not changed: the kept review, now also under the file's new stat
            entry = index.entry(outcome.key)
            outcome = dataclasses.replace(outcome, rows=entry["rows"], error=entry["error"])
        if outcome.final:
            index.record(key=outcome.key, name=job.name, rows=outcome.rows, error=outcome.error,
                         digests=outcome.digests)
        known[i] = outcome.rows
        if outcome.skipped and outcome.error is None:
            result.skipped += 1
        elif outcome.error is None:
            result.reviewed += 1
            result.task_seconds += outcome.seconds
        else:
            result.failed += 1
        if on_result is not None:
            on_result(outcome)


def _failed_rows(rows: list[dict]) -> bool:
    return any(r.get("error") for r in rows)


def _lost(e: BaseException) -> str:
    """One line for a recording Dask gave up on."""
    name = e.__class__.__name__
    if name == "KilledWorker":
        return "the workers reviewing it died each time it was tried; a rerun tries again"
    if name == "CancelledError":
        return "cancelled before it finished; a rerun tries again"
    text = " ".join(str(e).split())[:300]
    return f"internal error: {name}: {text} (a rerun tries again)"
