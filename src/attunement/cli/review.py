"""Handlers of the commands that review a recording or an annotation: review, metrics, demo."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..session.progress import SUMMARY, tell
from .output import emit, existing
from .progress import Bar, wanted


def review(args, config) -> int:
    """`attune review FILE`: the turn-taking (and, with video, the camera cues) of a recording."""
    from ..conversation.rttm import read_rttm
    from ..session.runners.offline import review_file

    path = existing(args.input)
    _title(path, args)
    reference = read_rttm(args.rttm, file_id=args.file_id) if args.rttm else None
    names = [n.strip() for n in args.names.split(",")] if args.names else None
    profile = None
    if args.profile:
        from ..cues.calibration import load_profile

        profile = load_profile(args.profile)
    words_file = existing(args.words) if args.words else None
    voice = _voice(args.voice)
    with Bar(enabled=wanted(args.quiet)) as bar:
        result = review_file(path, config=config, channels_are_speakers=args.channels_are_speakers,
                             reference=reference, speaker_names=names, num_speakers=args.speakers, me=args.me,
                             video=not args.no_video, profile=profile, words=False if args.no_words else None,
                             words_file=words_file, keep_words=True if args.keep_words else None, progress=bar,
                             voice=voice)
        tell(bar, SUMMARY, 0, 1)
        kept = None
        if not args.no_save:
            from ..session.store.kept import keep_review

            kept = keep_review(result, config=config)
        tell(bar, SUMMARY, 1, 1)
    emit(result, args, config, file_id=path.stem, kept=kept)
    return 0


def _title(path: Path, args) -> None:
    """The summary's first line, printed before the work starts: which file, and what it holds."""
    import sys

    from ..sources.media import describe
    from .output import wants_stdout

    if not args.quiet:
        print(f"Reviewing {path.name}: {describe(path)}", file=sys.stderr if wants_stdout(args.json) else sys.stdout,
              flush=True)


def _voice(given: str | None):
    """The voice profile to use: the one given, else the saved one (attune enroll), else None."""
    from ..conversation.voiceprint import load_profile
    from ..session.runners.calibrate import default_voice_path

    path = existing(given) if given else default_voice_path()
    return load_profile(path) if given or path.exists() else None


def metrics(args, config) -> int:
    """`attune metrics REF.rttm`: the turn-taking of an annotation alone, no audio."""
    from ..conversation.rttm import read_rttm
    from ..session.runners.offline import review_annotation

    segments = read_rttm(args.rttm, file_id=args.file_id)
    result = review_annotation(segments, config=config, source=str(args.rttm))
    emit(result, args, config, file_id=args.file_id or Path(args.rttm).stem)
    return 0


def demo(args, config) -> int:
    """`attune demo`: a generated two-person practice conversation with known timing, reviewed."""
    import sys

    from ..conversation.rttm import write_rttm
    from ..demo.conversation import practice_conversation
    from ..demo.video import render_demo_video
    from ..session.runners.offline import review_file
    from ..sources.wav import write_wav
    from .output import wants_stdout

    out = sys.stderr if wants_stdout(args.json) else sys.stdout
    convo = practice_conversation(seed=0, channels=2)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="attune-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    media = folder / ("practice.wav" if args.no_video else "practice.mkv")
    truth = folder / "practice.truth.rttm"
    me, partner = convo.speakers
    print(f"Generating a {convo.audio.shape[-1] / convo.rate:.0f} s practice conversation: {me} (on camera) and "
          f"{partner}, two synthetic voices, one microphone each, each mic overhearing the other 15 dB lower.",
          file=out, flush=True)
    if args.no_video:
        write_wav(media, convo.audio, convo.rate)
    else:
        render_demo_video(media, convo.audio, convo.rate, perception=config.perception)
    write_rttm(truth, convo.segments, file_id="practice")
    with Bar(enabled=wanted(args.quiet)) as bar:
        result = review_file(media, config=config, channels_are_speakers=True, speaker_names=convo.speakers, me=me,
                             words=False, progress=bar)  # the synthetic voices say no words
    if args.report is None:  # the demo's report stays where its media were made (not in your history)
        args.report = str(folder / "practice.report.html")
    emit(result, args, config, file_id="practice")
    if args.keep:
        print(f"\nKept {media} and its true timing {truth}.", file=out)
    else:
        for f in (media, truth):
            f.unlink()
    return 0
