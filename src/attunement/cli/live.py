"""Handlers of the commands that use a camera and microphone (or files replayed as them):
session, rehearse, calibrate, devices, check."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .output import existing, wants_stdout, write_json_to
from .progress import Bar, wanted


def session(args, config) -> int:
    """`attune session`: a live practice conversation, ending with its review."""
    from ..session.runners.calibrate import default_profile_path
    from ..session.runners.practice import practise

    saved = default_profile_path()
    profile = args.profile or (str(saved) if saved.exists() else None)
    calibrate_s = 0.0 if args.no_calibrate or profile else (3.0 if args.calibrate is None else args.calibrate)
    if calibrate_s > 0:
        print(f"For the first {calibrate_s:g} s, look into the camera lens and sit as you usually do.", flush=True)
    with Bar(enabled=wanted()) as bar:  # drawn only for the work after the session, when it takes a while
        result = practise(config=config, camera=args.camera, mic=args.mic, duration_s=args.duration,
                          window=not args.no_window, keep_media=args.keep_media, profile_path=profile,
                          calibrate_s=calibrate_s, channels_are_speakers=args.channels_are_speakers,
                          num_speakers=args.speakers, me=args.me,
                          words=config.words.transcribe and not args.no_words,
                          keep_words=True if args.keep_words else None, progress=bar)
    _print_end(result, config)
    return 0


def rehearse(args, config) -> int:
    """`attune rehearse`: the partner's lines spoken or shown, the user's answers measured."""
    from ..session.rehearsal.scenario import format_scenarios, load_scenario

    if args.list:
        print(format_scenarios())
        return 0
    from ..session.runners.rehearse import rehearse as run

    scenario = load_scenario(args.script or args.scenario)
    print(f"{scenario.title}\n{scenario.intro}\n", flush=True)
    with Bar(enabled=wanted()) as bar:  # drawn only for the work after the rehearsal, when it takes a while
        result = run(config=config, scenario=scenario, camera=args.camera, mic=args.mic, window=not args.no_window,
                     keep_media=args.keep_media, duration_s=args.duration,
                     words=config.words.transcribe and not args.no_words, keep_words=True if args.keep_words else None,
                     show=lambda text: print(f"partner: {text}", flush=True), progress=bar)
    _print_end(result, config)
    return 0


def calibrate(args, config) -> int:
    """`attune calibrate VIDEO`: a baseline profile for eye contact and leaning."""
    from ..cues.calibration import save_profile
    from ..session.runners.calibrate import calibrate_from_video, default_profile_path

    existing(args.video)
    with Bar(enabled=wanted()) as bar:
        baseline = calibrate_from_video(args.video, config=config, seconds=args.seconds, progress=bar)
    out = Path(args.profile) if args.profile else default_profile_path()
    save_profile(baseline, out)
    print(f"Calibrated from {baseline.frames} frames; profile written to {out}")
    print(f"Use it with: attune review VIDEO --profile {out}")
    return 0


def enroll(args, config) -> int:
    """`attune enroll AUDIO`: a voice profile, so one-microphone reviews know which voice is you."""
    from ..conversation.voiceprint import save_profile
    from ..session.runners.calibrate import default_voice_path, enroll_from_file

    existing(args.audio)
    with Bar(enabled=wanted()) as bar:
        profile = enroll_from_file(args.audio, config=config, seconds=args.seconds, progress=bar)
    out = save_profile(profile, Path(args.profile) if args.profile else default_voice_path())
    print(f"Kept your voice from {profile.speech_s:.0f} s of speech; profile written to {out}")
    print("One-microphone reviews now label that voice 'me' (attune review talk.wav).")
    return 0


def devices(args, config) -> int:
    """`attune devices`: cameras and microphones."""
    from ..session.devices.check import format_devices
    from ..sources.devices import list_devices

    found = list_devices()
    if args.json:
        write_json_to(args.json, found)
    if not wants_stdout(args.json):
        print(format_devices(found))
    return 0


def check(args, config) -> int:
    """`attune check`: what the camera and microphone deliver, against a live session's limits."""
    from ..session.devices.check import format_check, run_check
    from ..session.devices.limits import Limit, limits_met

    if not args.duration > 0:
        raise InputError(f"--duration must be > 0, got {args.duration}")
    result = run_check(args.camera, args.mic, seconds=args.duration, config=config)
    if args.json:
        write_json_to(args.json, result)
    if not wants_stdout(args.json):
        print(format_check(result))
    if args.strict:
        return 0 if limits_met([Limit(**d) for d in result["limits"]]) else 1
    return 0


def _print_end(result, config) -> None:
    """The summary, the gentle trend against the person's own last session, and where it was saved."""
    from ..summary.text import summarize

    print(summarize(result.review, config=config.summary).text())
    if result.trend:
        print(f"\nSince last time\n  - {result.trend}")
    print(f"\nSaved in {result.folder} (review.json, report.html)")
