"""Where results go: JSON to a file or standard output, RTTM, the report, the printed summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError


def wants_stdout(target: str | None) -> bool:
    """True when `--json -` asks for JSON on standard output."""
    return target == "-"


def write_json_to(target: str, data: Any) -> None:
    """`data` as JSON to the file `target` (created 0600), or to standard output for `-`."""
    from ..summary.json_out import write_private

    text = json.dumps(data, indent=2) + "\n"
    if wants_stdout(target):
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_private(target, text)


def emit(review, args, config, *, file_id: str, kept: tuple[Path, str | None] | None = None) -> None:
    """The outputs asked for, the summary, and where a kept review's report is (`kept`: its folder
    and trend). With `--json -` everything but the JSON goes to standard error."""
    from ..conversation.rttm import format_rttm
    from ..summary.json_out import review_to_json, write_private
    from ..summary.text import summarize

    out = sys.stderr if wants_stdout(args.json) else sys.stdout
    if args.json:
        write_json_to(args.json, review_to_json(review))
    if args.rttm_out:
        write_private(args.rttm_out, format_rttm(review.segments, file_id=file_id))
    folder, better = kept if kept is not None else (None, None)
    report = folder / "report.html" if folder is not None else None
    if args.report is not None or (args.open and report is None):
        from ..summary.report import write_report

        if args.report:
            report = Path(args.report)
        elif args.json and not wants_stdout(args.json):
            report = Path(args.json).with_suffix(".html")
        else:
            report = Path.cwd() / f"{file_id}.report.html"
        write_report(report, review, config=config, trend=better)
    if not args.quiet:
        print(file=out)
        print(summarize(review, config=config.summary).text(), file=out)
        if better:
            print(f"\nSince last time\n  - {better}", file=out)
        print(file=out)
    if folder is not None:
        print(f"Saved in your history: {folder} (`attune history`; --no-save keeps nothing)", file=out)
    if report is not None:
        print(f"Report: {report}", file=out)
        if args.open:
            import webbrowser

            webbrowser.open(report.resolve().as_uri())


def existing(path: str | Path) -> Path:
    """`path` as a Path; InputError when there is no such file."""
    p = Path(path)
    try:
        found = p.exists()
    except OSError as e:  # a name or path longer than the system allows, a loop of links
        raise InputError(f"cannot use the path {str(p)[:80]}...: {e.strerror or e}") from None
    if not found:
        raise InputError(f"no such file: {p}")
    return p
