"""The `attune` command: review recordings, compute metrics from annotations, run the demo.

Errors the user can fix print one line `attune: error: ...` and exit 2; unexpected ones
exit 1 with one line (`--debug` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

from . import __version__
from .config import load_config
from .errors import AttuneError, InputError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, like every other input error
        raise InputError(f"{message} (try '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="attune", description="Gentle, offline feedback on practice conversations.")
    p.add_argument("--version", action="version", version=f"attunement {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    p.add_argument("--config", metavar="TOML", help="settings file overriding calibration/defaults.toml")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("review", help="review the turn-taking of a recorded conversation")
    r.add_argument("input", help="audio or video file (WAV, FLAC, MP3, M4A, Opus/OGG, MP4, MKV, MOV, WEBM)")
    r.add_argument("--channels-are-speakers", action="store_true",
                   help="each channel is one person's microphone")
    r.add_argument("--rttm", metavar="REF.rttm", help="take the speakers of mono audio from this annotation")
    r.add_argument("--file-id", help="which file of a multi-file RTTM to use")
    r.add_argument("--names", metavar="NAMES", help="comma-separated speaker names, one per channel")
    r.add_argument("--speakers", metavar="N", type=_speaker_count,
                   help="how many people share the one microphone (default: estimated, 2 to 6; 1 = one track)")
    r.add_argument("--me", metavar="SPEAKER", help="the speaker who is you (labelled 'me', the others 'partner')")
    r.add_argument("--no-video", action="store_true", help="ignore a video track (audio-only review)")
    r.add_argument("--profile", metavar="JSON", help="a calibration profile (eye contact and leaning baseline)")
    r.add_argument("--no-save", action="store_true",
                   help="do not keep this review in your history (by default its results and report are kept, "
                        "never the recording)")
    _outputs(r)

    m = sub.add_parser("metrics", help="turn-taking metrics from an RTTM annotation alone (no audio)")
    m.add_argument("rttm", metavar="REF.rttm")
    m.add_argument("--file-id", help="which file of a multi-file RTTM to use")
    _outputs(m)

    c = sub.add_parser("calibrate", help="record your neutral baseline: sit as usual and look into the lens")
    c.add_argument("video", help="a video whose first seconds show you looking into the lens")
    c.add_argument("--seconds", type=float, default=5.0, help="length of the calibration window, s (default 5)")
    c.add_argument("--profile", metavar="OUT", help="where to write the profile (default: your data folder)")

    dv = sub.add_parser("devices", help="list cameras and microphones")
    dv.add_argument("--json", action="store_true", help="print the list as JSON")
    ck = sub.add_parser("check", help="measure what the camera and microphone deliver")
    ck.add_argument("--camera", metavar="X",
                    help="index, /dev/video*, name, a file to replay, or 'none' (default: the first camera)")
    ck.add_argument("--mic", metavar="Y",
                    help="PortAudio index or name, a file to replay, or 'none' (default: the default input)")
    ck.add_argument("--seconds", metavar="N", type=float, default=5.0, help="how long to measure (default 5)")
    ck.add_argument("--json", action="store_true", help="print the measurements as JSON")
    ck.add_argument("--strict", action="store_true",
                    help="exit 1 when a limit for a live session is not met (docs/hil.md)")

    se = sub.add_parser("session", help="a live practice conversation with your webcam and microphone")
    se.add_argument("--camera", metavar="X",
                    help="index, /dev/video*, name, a video file to replay, or 'none' (default: the first camera)")
    se.add_argument("--mic", metavar="Y",
                    help="PortAudio index or name, an audio/video file to replay, or 'none' (default: default input)")
    se.add_argument("--duration", metavar="S", type=float, help="end after S seconds (default: Ctrl-C or Esc)")
    se.add_argument("--no-window", action="store_true", help="no preview window")
    se.add_argument("--keep-media", action="store_true", help="also keep the raw audio in the session folder")
    se.add_argument("--profile", metavar="P", help="a calibration profile (default: your saved one, if any)")
    se.add_argument("--calibrate", metavar="S", type=float,
                    help="calibrate during the first S seconds: look into the lens, sit as usual "
                         "(default 3 s when no profile is saved yet)")
    se.add_argument("--no-calibrate", action="store_true", help="skip calibration")
    se.add_argument("--channels-are-speakers", action="store_true",
                    help="the microphone has one channel per person (a device is opened with two channels)")
    se.add_argument("--speakers", metavar="N", type=_speaker_count,
                    help="how many people share the one microphone (default: estimated; 1 = only you)")
    se.add_argument("--me", metavar="SPEAKER", help="the speaker who is you (default: the voice whose mouth is on camera)")
    su = sub.add_parser("summary", help="the summary of a saved session (also one that was interrupted)")
    su.add_argument("session", help="a session folder, its name, or 'last'")
    sub.add_parser("history", help="your past sessions, newest last")
    ex = sub.add_parser("export", help="export a saved session for analysis tools")
    ex.add_argument("session", help="a session folder, its name, or 'last'")
    ex.add_argument("--format", required=True, choices=["json", "rttm", "textgrid", "csv"])
    ex.add_argument("-o", dest="out", metavar="OUT", help="output file (default: <session name>.<format>)")

    rh = sub.add_parser("rehearse", help="practise a hard conversation alone: the partner speaks, you answer")
    g = rh.add_mutually_exclusive_group(required=True)
    g.add_argument("--scenario", metavar="NAME", help="a built-in scenario (see --list)")
    g.add_argument("--script", metavar="FILE", help="your own scenario file (format: docs/scenarios.md)")
    g.add_argument("--list", action="store_true", help="list the built-in scenarios")
    rh.add_argument("--camera", metavar="X", help="camera index, path, a video to replay, or 'none' (default: first camera)")
    rh.add_argument("--mic", metavar="Y", help="microphone index or name (default: the default microphone)")
    rh.add_argument("--no-window", action="store_true", help="no preview window")
    rh.add_argument("--keep-media", action="store_true", help="also keep the raw audio in the session folder")

    d = sub.add_parser("demo", help="generate a practice conversation with known timing and review it")
    d.add_argument("--keep", metavar="DIR", help="keep the generated video and its true RTTM in DIR")
    d.add_argument("--no-video", action="store_true", help="audio only: skip the generated video (faster)")
    _outputs(d)
    return p


def _speaker_count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 6:
        raise argparse.ArgumentTypeError(f"--speakers takes a count from 1 to 6, got {text!r}")
    return n


def _outputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", metavar="OUT", help="write the full result as JSON")
    p.add_argument("--rttm-out", metavar="OUT", help="write who-spoke-when as RTTM")
    p.add_argument("--report", metavar="OUT.html", nargs="?", const="",
                   help="write the HTML report (default name: next to --json, else ./<input>.report.html)")
    p.add_argument("--open", action="store_true", help="open the report in the browser (implies --report)")
    p.add_argument("--quiet", action="store_true", help="print no summary")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(name)s: %(message)s")
    try:
        args = build_parser().parse_args(argv)
        return _run(args)
    except AttuneError as e:
        if debug:
            raise
        print(f"attune: error: {e}", file=sys.stderr)
        return e.exit_status
    except KeyboardInterrupt:
        print("attune: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if debug:
            raise
        print(f"attune: internal error: {e.__class__.__name__}: {e} (run with --debug for details)", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.command == "review":
        return _review(args, config)
    if args.command == "metrics":
        return _metrics(args, config)
    if args.command == "calibrate":
        return _calibrate(args, config)
    if args.command in ("session", "summary", "history", "export"):
        return _sessions(args, config)
    if args.command == "rehearse":
        from .session.scenario import format_scenarios, load_scenario

        if args.list:
            print(format_scenarios())
            return 0
        from .session.rehearse_live import rehearse

        scenario = load_scenario(args.script or args.scenario)
        print(f"{scenario.title}\n{scenario.intro}\n", flush=True)
        result = rehearse(config=config, scenario=scenario, camera=args.camera, mic=args.mic,
                          window=not args.no_window, keep_media=args.keep_media,
                          show=lambda text: print(f"partner: {text}", flush=True))
        _print_session_end(result, config)
        return 0
    if args.command == "devices":
        from .session.check import format_devices, list_devices

        devices = list_devices()
        print(json.dumps(devices, indent=2) if args.json else format_devices(devices))
        return 0
    if args.command == "check":
        from .session.check import format_check, run_check

        if not args.seconds > 0:
            raise InputError(f"--seconds must be > 0, got {args.seconds}")
        result = run_check(args.camera, args.mic, seconds=args.seconds, config=config)
        print(json.dumps(result, indent=2) if args.json else format_check(result))
        if args.strict:
            from .session.check import Limit, limits_met

            return 0 if limits_met([Limit(**d) for d in result["limits"]]) else 1
        return 0
    return _demo(args, config)


def _review(args, config) -> int:
    from .conversation.rttm import read_rttm
    from .session.review import review_file

    path = Path(args.input)
    if not path.exists():
        raise InputError(f"no such file: {path}")
    reference = read_rttm(args.rttm, file_id=args.file_id) if args.rttm else None
    names = [n.strip() for n in args.names.split(",")] if args.names else None
    profile = None
    if args.profile:
        from .cues.calibration import load_profile
        profile = load_profile(args.profile)
    review = review_file(path, config=config, channels_are_speakers=args.channels_are_speakers,
                         reference=reference, speaker_names=names, num_speakers=args.speakers, me=args.me,
                         video=not args.no_video, profile=profile)
    kept = None
    if not args.no_save:
        from .session.reviews import keep_review

        kept = keep_review(review, config=config)
    _emit(review, args, config, file_id=path.stem, kept=kept)
    return 0


def _metrics(args, config) -> int:
    from .conversation.rttm import read_rttm
    from .session.review import review_annotation

    segments = read_rttm(args.rttm, file_id=args.file_id)
    review = review_annotation(segments, config=config, source=str(args.rttm))
    _emit(review, args, config, file_id=args.file_id or Path(args.rttm).stem)
    return 0


def _print_session_end(result, config) -> None:
    """The summary, a gentle trend against the person's own last session, and where it was saved."""
    from .session.practice import saved_message
    from .session.signals import history
    from .summary.text import summarize
    from .summary.trend import trend_since_last

    print(summarize(result.review, config=config.summary).text())
    better = trend_since_last(result.folder, history(Path(result.folder).parent))
    if better:
        print(f"\nSince last time\n  - {better}")
    print("\n" + saved_message(result))


def _sessions(args, config) -> int:
    from .session.signals import find_session, history, load_review
    from .summary.text import summarize

    if args.command == "session":
        from .session.calibrate import default_profile_path
        from .session.practice import practise

        saved = default_profile_path()
        profile = args.profile or (str(saved) if saved.exists() else None)
        calibrate_s = 0.0 if args.no_calibrate or profile else (3.0 if args.calibrate is None else args.calibrate)
        if calibrate_s > 0:
            print(f"For the first {calibrate_s:g} s, look into the camera lens and sit as you usually do.", flush=True)
        result = practise(config=config, camera=args.camera, mic=args.mic, duration_s=args.duration,
                          window=not args.no_window, keep_media=args.keep_media, profile_path=profile,
                          calibrate_s=calibrate_s, channels_are_speakers=args.channels_are_speakers,
                          num_speakers=args.speakers, me=args.me)
        _print_session_end(result, config)
    elif args.command == "summary":
        from .session.reviews import is_kept_review, kept_summary

        folder = find_session(args.session)
        if is_kept_review(folder):
            print(kept_summary(folder))
        else:
            print(summarize(load_review(folder, config=config), config=config.summary).text())
    elif args.command == "history":
        past = history()
        if not past:
            print("No sessions yet: start one with 'attune session'.")
        for h in past:
            print(f"{(h['date'] or '')[:16]}  {h['kind']:<9}  {h['length_s'] or 0:6.0f} s  {h['status']:<11}  "
                  f"{h['summary']}")
    else:
        from .summary.exports import export

        folder = find_session(args.session)
        ext = {"json": ".json", "rttm": ".rttm", "textgrid": ".TextGrid", "csv": ".csv"}[args.format]
        out = args.out or f"{folder.name}{ext}"
        from .session.reviews import export_kept, is_kept_review

        if is_kept_review(folder):
            export_kept(folder, args.format, out)
        else:
            export(load_review(folder, config=config), args.format, out)
        print(f"Wrote {out}")
    return 0


def _calibrate(args, config) -> int:
    from .cues.calibration import save_profile
    from .session.calibrate import calibrate_from_video, default_profile_path

    if not Path(args.video).exists():
        raise InputError(f"no such file: {args.video}")
    baseline = calibrate_from_video(args.video, config=config, seconds=args.seconds)
    out = Path(args.profile) if args.profile else default_profile_path()
    save_profile(baseline, out)
    print(f"Calibrated from {baseline.frames} frames; profile written to {out}")
    print(f"Use it with: attune review VIDEO --profile {out}")
    return 0


def _demo(args, config) -> int:
    from .conversation.rttm import write_rttm
    from .session.review import review_file
    from .sources.demo_video import render_demo_video
    from .sources.media import write_wav
    from .sources.synthetic import practice_conversation

    convo = practice_conversation(seed=0, channels=2)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="attune-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    media = folder / ("practice.wav" if args.no_video else "practice.mkv")
    truth = folder / "practice.truth.rttm"
    me, partner = convo.speakers
    print(f"Generating a {convo.audio.shape[-1] / convo.rate:.0f} s practice conversation: {me} (on camera) and "
          f"{partner}, two synthetic voices, one microphone each, each mic overhearing the other 15 dB lower.",
          flush=True)
    if args.no_video:
        write_wav(media, convo.audio, convo.rate)
    else:
        render_demo_video(media, convo.audio, convo.rate, perception=config.perception)
    write_rttm(truth, convo.segments, file_id="practice")
    review = review_file(media, config=config, channels_are_speakers=True, speaker_names=convo.speakers, me=me)
    if args.report is None:  # the demo's report stays where its media were made (not in your history)
        args.report = str(folder / "practice.report.html")
    _emit(review, args, config, file_id="practice")
    if args.keep:
        print(f"\nKept {media} and its true timing {truth}.")
    else:
        for f in (media, truth):
            f.unlink()
    return 0


def _emit(review, args, config, *, file_id: str, kept: tuple[Path, str | None] | None = None) -> None:
    """The outputs asked for, the summary, and where a kept review's report is (`kept`: its folder and trend)."""
    from .conversation.rttm import format_rttm
    from .summary.json_out import review_to_json, write_private
    from .summary.text import summarize

    if args.json:
        write_private(args.json, json.dumps(review_to_json(review), indent=2) + "\n")
    if args.rttm_out:
        write_private(args.rttm_out, format_rttm(review.segments, file_id=file_id))
    folder, better = kept if kept is not None else (None, None)
    report = folder / "report.html" if folder is not None else None
    if args.report is not None or (args.open and report is None):
        from .summary.report import write_report

        report = Path(args.report) if args.report else (
            Path(args.json).with_suffix(".html") if args.json else Path.cwd() / f"{file_id}.report.html")
        write_report(report, review, config=config, trend=better)
    if not args.quiet:
        print()
        print(summarize(review, config=config.summary).text())
        if better:
            print(f"\nSince last time\n  - {better}")
        print()
    if folder is not None:
        print(f"Saved in your history: {folder} (`attune history`; --no-save keeps nothing)")
    if report is not None:
        print(f"Report: {report}")
        if args.open:
            import webbrowser

            webbrowser.open(report.resolve().as_uri())

if __name__ == "__main__":
    sys.exit(main())
