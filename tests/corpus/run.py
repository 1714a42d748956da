"""Runs corpus cases through `attune` in-process (`attunement.cli.main`), each bounded in time,
and says what each gave: a result (exit 0), a clean error (exit 2, one `attune: error:` line),
or a failure (anything else: a traceback, exit 1, a hang, a partial output file)."""

from __future__ import annotations

import contextlib
import io
import os
import signal
from dataclasses import dataclass

from attunement.cli import main

from .damaged import Case

#: Longest one case may take, s (the slowest, a 4K video, takes a few).
LIMIT_S = 60


class Hang(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    case: Case
    status: int | None
    stderr: str
    failure: str | None  # why the case failed, None when it gave a result or a clean error


def run_case(case: Case, *, limit_s: float = LIMIT_S) -> Outcome:
    """`attune *case.argv` in this process with standard output and error captured."""
    err, out = io.StringIO(), io.StringIO()

    def alarm(*_):
        raise Hang(f"still running after {limit_s} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            status = main(list(case.argv))
    except Hang as e:
        return Outcome(case, None, err.getvalue(), str(e))
    except BaseException as e:  # noqa: BLE001 - anything escaping main is a failure to report
        return Outcome(case, None, err.getvalue(), f"{type(e).__name__} escaped main: {e}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return Outcome(case, status, err.getvalue(), judge(case, status, err.getvalue()))


def judge(case: Case, status: int | None, stderr: str) -> str | None:
    """Why this outcome is a failure, or None: exit 0 with its outputs whole, or exit 2 with one error line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    if "Traceback" in stderr:
        return "a traceback"
    if status == 0:
        for path in case.outputs:  # an RTTM of no speech is empty; JSON never
            if path.endswith(".json") and os.path.exists(path) and os.path.getsize(path) == 0:
                return f"an empty output file {path}"
        return None
    if status != 2:
        return f"exit {status}: {stderr.strip()[-300:]}"
    errors = [line for line in lines if line.startswith("attune: error:")]
    if len(errors) != 1:
        return f"{len(errors)} 'attune: error:' lines in {stderr.strip()[-300:]!r}"
    for path in case.outputs:
        if os.path.exists(path):
            return f"a partial output file {path} after the error"
    return None
