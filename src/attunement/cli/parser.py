"""The `attune` argument parser: every subcommand with its options and its handler.

Conventions: `--json FILE` writes JSON to FILE, `-` to standard output (the summary then goes to
standard error); every live command takes `--duration S`; device options accept an index, a
name, or a media file to replay.
"""

from __future__ import annotations

import argparse

from .. import __version__
from ..config import MAX_SPEAKERS
from ..errors import InputError
from . import batch, forget, live, review, saved

CAMERA_HELP = "camera index, /dev/video*, name, a video file to replay, or 'none' (default: the first camera)"
MIC_HELP = ("microphone: PortAudio index or name, an audio/video file to replay, or 'none' "
            "(default: the default input)")
JSON_HELP = "write the full result as JSON to FILE ('-': standard output)"


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
    r.add_argument("--rttm", metavar="REF.rttm", help="take the speakers of mono audio from this RTTM annotation")
    r.add_argument("--file-id", help="which file of a multi-file RTTM to use")
    r.add_argument("--names", metavar="NAMES", help="comma-separated speaker names, one per channel")
    _speakers(r, "how many people share the one microphone (default: estimated; 1 = one track)")
    r.add_argument("--me", metavar="SPEAKER", help="the speaker id who is you (labelled 'me', the others 'partner')")
    r.add_argument("--no-video", action="store_true", help="ignore a video track (audio-only review)")
    r.add_argument("--words", metavar="FILE",
                   help="a transcript of what was said (WebVTT .vtt, SubRip .srt, Praat .TextGrid or JSON) "
                        "instead of the speech recognizer")
    r.add_argument("--no-words", action="store_true", help="do not transcribe (turn-taking and camera cues only)")
    r.add_argument("--keep-words", action="store_true",
                   help="keep and show the transcript and quotations (by default only counts and labels are kept)")
    r.add_argument("--profile", metavar="JSON", help="a calibration profile file (eye contact and leaning baseline)")
    r.add_argument("--voice", metavar="JSON",
                   help="an enrolled voice profile (attune enroll; default: your saved one, if any): on one shared "
                        "microphone, that voice is you")
    r.add_argument("--no-save", action="store_true",
                   help="do not keep this review in your history (by default its results and report are kept, "
                        "never the recording)")
    _outputs(r)
    r.set_defaults(handler=review.review)

    m = sub.add_parser("metrics", help="turn-taking metrics from an RTTM annotation alone (no audio)")
    m.add_argument("rttm", metavar="REF.rttm", help="an RTTM file (any diarizer's or a person's)")
    m.add_argument("--file-id", help="which file of a multi-file RTTM to use")
    _outputs(m)
    m.set_defaults(handler=review.metrics)

    d = sub.add_parser("demo", help="generate a practice conversation with known timing and review it")
    d.add_argument("--keep", metavar="DIR", help="keep the generated media and its true RTTM in folder DIR")
    d.add_argument("--no-video", action="store_true", help="audio only: skip the generated video (faster)")
    _outputs(d)
    d.set_defaults(handler=review.demo)

    b = sub.add_parser("batch", help="review many recordings (a folder or a CSV manifest) into one table, "
                                     "on this machine or a Dask cluster; reruns skip what is done")
    b.add_argument("input", help="a folder (searched recursively for media files) or a CSV manifest "
                                 "(columns: docs/batch.md)")
    b.add_argument("--out", metavar="DIR", required=True,
                   help="where each recording's JSON, RTTM and report, the table and the index go")
    engine = b.add_mutually_exclusive_group()
    engine.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786 "
                                                                "(default: a local cluster on this machine)")
    engine.add_argument("--workers", metavar="N", type=int, help="worker processes of the local cluster "
                                                                  "(default: one per core, as memory allows)")
    b.add_argument("--retries", metavar="N", type=int, default=2,
                   help="times a recording is tried again after an unexpected failure (default 2)")
    b.add_argument("--channels-are-speakers", action="store_true", help="default for every recording: each "
                                                                        "channel is one person's microphone")
    _speakers(b, "default for every recording: how many people share the one microphone")
    b.add_argument("--names", metavar="NAMES", help="default for every recording: comma-separated speaker names")
    b.add_argument("--me", metavar="SPEAKER", help="default for every recording: the speaker id who is reviewed")
    b.add_argument("--no-video", action="store_true", help="ignore video tracks (audio-only reviews)")
    b.add_argument("--json", metavar="FILE", help="write what the batch did as JSON to FILE ('-': standard output)")
    b.add_argument("--report", metavar="OUT.html", nargs="?", const="",
                   help="write the overview page across recordings (default name: DIR/overview.html)")
    b.add_argument("--quiet", action="store_true", help="no progress line and no summary")
    b.set_defaults(handler=batch.batch)

    c = sub.add_parser("calibrate", help="record your neutral baseline: sit as usual and look into the lens")
    c.add_argument("video", help="a video file whose first seconds show you looking into the lens")
    c.add_argument("--seconds", type=float, default=5.0,
                   help="length of the calibration window, s, 0.5 to 60 (default 5)")
    c.add_argument("--profile", metavar="OUT", help="where to write the profile file (default: your data folder)")
    c.set_defaults(handler=live.calibrate)

    en = sub.add_parser("enroll", help="keep your voice, so one-microphone reviews know which voice is you")
    en.add_argument("audio", help="an audio or video file of you talking alone, about 30 s")
    en.add_argument("--seconds", type=float, help="use only the first S seconds (default: all of it)")
    en.add_argument("--profile", metavar="OUT", help="where to write the voice profile (default: your data folder)")
    en.set_defaults(handler=live.enroll)

    se = sub.add_parser("session", help="a live practice conversation with your webcam and microphone")
    se.add_argument("--camera", metavar="X", help=CAMERA_HELP)
    se.add_argument("--mic", metavar="Y", help=MIC_HELP)
    _duration(se, "end after S seconds (default: Ctrl-C, Esc, or the end of a replayed file)")
    se.add_argument("--no-window", action="store_true", help="no preview window")
    se.add_argument("--keep-media", action="store_true", help="also keep the raw audio in the session folder")
    se.add_argument("--profile", metavar="P", help="a calibration profile file (default: your saved one, if any)")
    se.add_argument("--calibrate", metavar="S", type=float,
                    help="calibrate during the first S seconds: look into the lens, sit as usual "
                         "(default 3 s when no profile is saved yet)")
    se.add_argument("--no-calibrate", action="store_true", help="skip calibration")
    se.add_argument("--channels-are-speakers", action="store_true",
                    help="the microphone has one channel per person (a device is opened with two channels)")
    _speakers(se, "how many people share the one microphone (default: estimated; 1 = only you)")
    se.add_argument("--me", metavar="SPEAKER",
                    help="the speaker id who is you (default: the voice whose mouth is on camera)")
    se.add_argument("--no-words", action="store_true", help="do not transcribe what is said")
    se.add_argument("--keep-words", action="store_true",
                    help="keep and show the transcript (by default only counts and labels are kept)")
    se.set_defaults(handler=live.session)

    rh = sub.add_parser("rehearse", help="practise a hard conversation alone: the partner speaks, you answer")
    g = rh.add_mutually_exclusive_group(required=True)
    g.add_argument("--scenario", metavar="NAME", help="a built-in scenario name (see --list)")
    g.add_argument("--script", metavar="FILE", help="your own scenario TOML file (format: docs/scenarios.md)")
    g.add_argument("--list", action="store_true", help="list the built-in scenarios")
    rh.add_argument("--camera", metavar="X", help=CAMERA_HELP)
    rh.add_argument("--mic", metavar="Y", help=MIC_HELP.replace(", or 'none'", ""))
    _duration(rh, "end after S seconds (default: when the last line is answered, Ctrl-C or Esc)")
    rh.add_argument("--no-window", action="store_true", help="no preview window")
    rh.add_argument("--keep-media", action="store_true", help="also keep the raw audio in the session folder")
    rh.add_argument("--no-words", action="store_true", help="do not transcribe your answers")
    rh.add_argument("--keep-words", action="store_true",
                    help="keep and show the transcript and quotations (by default only counts and labels are kept)")
    rh.set_defaults(handler=live.rehearse)

    dv = sub.add_parser("devices", help="list cameras and microphones")
    dv.add_argument("--json", metavar="FILE", help="write the list as JSON to FILE ('-': standard output)")
    dv.set_defaults(handler=live.devices)

    ck = sub.add_parser("check", help="measure what the camera and microphone deliver")
    ck.add_argument("--camera", metavar="X", help=CAMERA_HELP)
    ck.add_argument("--mic", metavar="Y", help=MIC_HELP)
    _duration(ck, "how long to measure, s (default 5)", default=5.0)
    ck.add_argument("--seconds", dest="duration", type=float, help=argparse.SUPPRESS)  # the old name
    ck.add_argument("--json", metavar="FILE", help="write the measurements as JSON to FILE ('-': standard output)")
    ck.add_argument("--strict", action="store_true",
                    help="exit 1 when a limit for a live session is not met (docs/hil.md)")
    ck.set_defaults(handler=live.check)

    su = sub.add_parser("summary", help="the summary of a saved session (also one that was interrupted)")
    su.add_argument("session", help="a session folder, its name, or 'last'")
    su.set_defaults(handler=saved.summary)
    hi = sub.add_parser("history", help="your past sessions, newest last")
    hi.add_argument("--json", metavar="FILE", help="write the list as JSON to FILE ('-': standard output)")
    hi.set_defaults(handler=saved.history)
    ex = sub.add_parser("export", help="export a saved session for analysis tools")
    ex.add_argument("session", help="a session folder, its name, or 'last'")
    ex.add_argument("--format", required=True, choices=["json", "rttm", "textgrid", "csv", "vtt"],
                    help="json, rttm, textgrid (Praat), csv, or vtt (WebVTT: the words, when they were kept)")
    ex.add_argument("-o", dest="out", metavar="OUT", help="output file (default: <session name>.<format>)")
    ex.set_defaults(handler=saved.export)
    fg = sub.add_parser("forget", help="delete a saved session or review, all of them, or your calibration profile")
    fg.add_argument("session", nargs="?", help="a session folder, its name, or 'last'")
    fg.add_argument("--all", action="store_true", help="every saved session, rehearsal and review (with --yes)")
    fg.add_argument("--yes", action="store_true", help="confirm --all")
    fg.add_argument("--profile", action="store_true",
                    help="the saved calibration profile (your face's baseline) and each session's copy of it")
    fg.add_argument("--voice", action="store_true", help="also delete your enrolled voice profile (attune enroll)")
    fg.set_defaults(handler=forget.forget)
    return p


def _speaker_count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_SPEAKERS:
        raise argparse.ArgumentTypeError(f"--speakers takes a count from 1 to {MAX_SPEAKERS}, got {text!r}")
    return n


def _speakers(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("--speakers", metavar="N", type=_speaker_count, help=f"{text}; 1 to {MAX_SPEAKERS}")


def _duration(p: argparse.ArgumentParser, text: str, default: float | None = None) -> None:
    p.add_argument("--duration", metavar="S", type=float, default=default, help=text)


def _outputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", metavar="FILE", help=JSON_HELP)
    p.add_argument("--rttm-out", metavar="FILE", help="write who-spoke-when as RTTM to FILE")
    p.add_argument("--report", metavar="OUT.html", nargs="?", const="",
                   help="write the HTML report (default name: next to --json, else ./<input>.report.html)")
    p.add_argument("--open", action="store_true", help="open the report in the browser (implies --report)")
    p.add_argument("--quiet", action="store_true", help="print no summary")
