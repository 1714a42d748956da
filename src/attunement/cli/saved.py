"""Handlers of the commands on saved sessions and kept reviews: summary, history, export."""

from __future__ import annotations

from .output import wants_stdout, write_json_to

#: File name endings of the export formats.
EXTENSIONS = {"json": ".json", "rttm": ".rttm", "textgrid": ".TextGrid", "csv": ".csv", "vtt": ".vtt"}


def summary(args, config) -> int:
    """`attune summary SESSION`: the summary again (a killed session is rebuilt from its store)."""
    from ..session.runners.rebuild import load_review
    from ..session.store.ending import ended_summary
    from ..session.store.history import find_session
    from ..session.store.kept import is_kept_review, kept_summary
    from ..summary.text import summarize

    folder = find_session(args.session)
    if is_kept_review(folder):
        print(kept_summary(folder))
        return 0
    saved = ended_summary(folder)  # an ended session says what it said at its end (its words included)
    print(saved if saved is not None else summarize(load_review(folder, config=config), config=config.summary).text())
    return 0


def history(args, config) -> int:
    """`attune history`: past sessions, rehearsals and kept reviews, oldest first."""
    from ..session.store.history import history as past_sessions

    past = past_sessions()
    if args.json:
        write_json_to(args.json, past)
    if wants_stdout(args.json):
        return 0
    if not past:
        print("No sessions yet: start one with 'attune session'.")
    for h in past:
        print(f"{(h['date'] or '')[:16]}  {h['kind']:<9}  {h['length_s'] or 0:6.0f} s  {h['status']:<11}  "
              f"{h['summary']}")
    return 0


def export(args, config) -> int:
    """`attune export SESSION --format F`: a saved session's results for analysis tools."""
    from ..session.runners.rebuild import load_review
    from ..session.store.history import find_session
    from ..session.store.kept import export_kept, is_kept_review
    from ..summary.exports import export as write_export

    folder = find_session(args.session)
    out = args.out or f"{folder.name}{EXTENSIONS[args.format]}"
    if is_kept_review(folder):
        export_kept(folder, args.format, out)
    else:
        write_export(load_review(folder, config=config), args.format, out)
    print(f"Wrote {out}")
    return 0
