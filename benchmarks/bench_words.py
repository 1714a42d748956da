"""What was said (issue 12): word error rate, language-cue F1, end-to-end script agreement, speed.

    PYTHONPATH=src python benchmarks/bench_words.py [--minutes 10] [--skip-e2e]

Tables:
1. WER of Moonshine tiny-en (perception/asr.py) per file of ../shared/data/speech (or
   $ATTUNE_DATA/speech), corpus WER over all 13 files (target <= 10 %).
2. F1 per language cue (conversation/language.py) on tests/conversation/language_sentences.tsv, half A (tuning)
   and half B (held out), on tests/conversation/language_fresh.tsv (written after the rules, measured,
   then tuned on) and tests/conversation/language_fresh2.tsv (written after that, never tuned on).
3. End to end: the scripts of tests/conversation/spoken.py spoken by espeak-ng (two voices), mixed to one
   track, transcribed per truth segment: per-speaker counts of open questions, I statements and
   validations exact? (target >= 90 % of scripts); and the same rules on the scripts' own text.
4. Speed on 2 cores: transcription of sample.wav (a real two-person conversation) tiled to
   `--minutes`, per its RTTM speech segments, wall and CPU seconds per second of audio, and
   the 60-minute extrapolation (target >= 15x real time).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repo root: tests is a package

from timing import pinned_cores

from attunement.config import default_config
from attunement.conversation.language import label_utterances, per_speaker
from attunement.conversation.language_rules import CUES
from attunement.perception.asr import Recognizer
from attunement.perception.transcribe import transcribe
from attunement.perception.wer import normalize, word_errors
from attunement.records import Segment
from attunement.sources.media import read_audio

CFG = default_config().words


def data_dir() -> Path | None:
    for cand in [os.environ.get("ATTUNE_DATA"), ROOT.parent / "shared" / "data"]:
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


def wer_table(rec: Recognizer, data: Path) -> None:
    rows = [line.split("\t") for line in (data / "speech" / "transcripts.tsv").read_text().splitlines() if line]
    audio = [read_audio(data / "speech" / name)[0][0] for name, _ in rows]
    hyps = rec.recognize(audio)
    print("| file | words | errors | WER | recognised |\n| --- | --- | --- | --- | --- |")
    errors = words = 0
    for (name, ref), hyp in zip(rows, hyps):
        e, n = word_errors(normalize(ref), normalize(hyp)), len(normalize(ref))
        errors, words = errors + e, words + n
        print(f"| {name} | {n} | {e} | {e / n:.1%} | {hyp} |")
    print(f"| **all {len(rows)}** | {words} | {errors} | **{errors / words:.1%}** | target <= 10 % |\n")


def f1_table() -> None:
    from tests.conversation import test_language as tl  # tests/conversation/test_language.py: the labelled sets and the F1 count

    sets = {"A (tuning)": [r for r in tl.labelled_rows() if r[0] == "A"],
            "B (held out)": [r for r in tl.labelled_rows() if r[0] == "B"],
            "fresh (after the rules, then tuned on)": tl.labelled_rows("language_fresh.tsv"),
            "fresh2 (never tuned on)": tl.labelled_rows("language_fresh2.tsv")}
    scores = {name: tl.f1_per_cue(rows) for name, rows in sets.items()}
    counts = {name: {c: sum(c in r[1] for r in rows) for c in CUES} for name, rows in sets.items()}
    print("| cue | " + " | ".join(f"F1 {n} (n)" for n in sets) + " | target |")
    print("| --- |" + " --- |" * (len(sets) + 1))
    for c in CUES:
        target = tl.FLOORS[c] if c in ("open_question", "closed_question", "i_statement", "you_blame",
                                       "validation", "reflection") else "-"
        print(f"| {c} | " + " | ".join(f"{scores[n][c]:.2f} ({counts[n][c]})" for n in sets) + f" | {target} |")
    print("sentences: " + ", ".join(f"{n} {len(rows)}" for n, rows in sets.items()) + "\n")


def e2e_table(rec: Recognizer) -> None:
    from tests.conversation.spoken import COUNTED, SCRIPTS, espeak_missing, speak_script

    from attunement.conversation.language_rules import classify, split_sentences

    if espeak_missing():
        print(f"end to end skipped: {espeak_missing()}\n")
        return
    print("| script | lines | truth (ana; ben: open, I, validation) | recognised words | exact | rules on text |")
    print("| --- | --- | --- | --- | --- | --- |")
    exact = on_text = 0
    with tempfile.TemporaryDirectory() as tmp:
        for k, script in enumerate(SCRIPTS):
            spoken = speak_script(script, Path(tmp), seed=k)
            utts = transcribe(spoken.segments, spoken.audio, recognizer=rec, config=CFG)
            counts = per_speaker(label_utterances(utts, config=CFG), speakers=list(spoken.truth))
            got = {sp: {c: v.counts[c] for c in COUNTED.values()} for sp, v in counts.items()}
            text_ok = all(sorted(x for s in split_sentences(t) for x in classify(s) if x in COUNTED.values())
                          == sorted(COUNTED[c] for c in cues if c in COUNTED) for _, t, cues in script)
            ok = got == spoken.truth
            exact, on_text = exact + ok, on_text + text_ok
            fmt = lambda d: "; ".join(",".join(str(d[sp][c]) for c in COUNTED.values()) for sp in d)
            print(f"| {k} | {len(script)} | {fmt(spoken.truth)} | {fmt(got)} | {'yes' if ok else 'no'} | "
                  f"{'yes' if text_ok else 'no'} |")
    n = len(SCRIPTS)
    print(f"| **all** | | | | **{exact}/{n} = {exact / n:.0%}** (target >= 90 %) | {on_text}/{n} |\n")


def speed_table(data: Path, minutes: float) -> None:
    import numpy as np

    from attunement.conversation.rttm import read_rttm

    x = read_audio(data / "conversations" / "sample.wav")[0][0]
    segs = read_rttm(data / "conversations" / "sample.rttm")
    period = x.size / 16000
    reps = max(1, round(minutes * 60 / period))
    audio = np.tile(x, reps)
    tiled = [Segment(s.start + k * period, min(s.end, period) + k * period, s.speaker) for k in range(reps) for s in segs]
    t0 = time.perf_counter()
    rec = Recognizer.load(config=CFG)
    load_s = time.perf_counter() - t0
    rec.recognize([x[16000:48000]])  # warm-up
    w0, c0 = time.perf_counter(), time.process_time()
    utts = transcribe(tiled, audio, recognizer=rec, config=CFG)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    w1 = time.perf_counter()
    label_utterances(utts, config=CFG)
    label_s = time.perf_counter() - w1
    dur = audio.size / 16000
    speech = sum(s.duration for s in tiled)
    print("| audio | speech in segments | words | wall s | CPU s | CPU s per audio s | x real time | 60 min: wall s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {dur / 60:.1f} min | {speech / dur:.0%} | {sum(len(u.words) for u in utts)} | {wall:.1f} | {cpu:.1f} | "
          f"{cpu / dur:.3f} | **{dur / wall:.0f}x** | {wall / dur * 3600:.0f} (target >= 15x) |")
    print(f"model load {load_s:.2f} s; language labels {label_s * 1000:.0f} ms for {len(utts)} utterances; "
          f"threads {CFG.threads}, cores {pinned_cores(2)}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the speed test's audio")
    ap.add_argument("--skip-e2e", action="store_true")
    args = ap.parse_args()
    os.sched_setaffinity(0, [int(c) for c in pinned_cores(2).split(",")])
    data = data_dir()
    rec = Recognizer.load(config=CFG)
    print("## 1. Word error rate (Moonshine tiny-en, greedy)\n")
    if data is None:
        print("skipped: ../shared/data not found (set ATTUNE_DATA)\n")
    else:
        wer_table(rec, data)
    print("## 2. Language cues: F1 per cue\n")
    f1_table()
    print("## 3. End to end: espeak-ng scripts, one track\n")
    if not args.skip_e2e:
        e2e_table(rec)
    print("## 4. Speed (2 cores)\n")
    if data is not None:
        speed_table(data, args.minutes)


if __name__ == "__main__":
    main()
