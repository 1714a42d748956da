"""Phrase boosting (perception/boost.py, `[words] boost`) measured: docs/words.md 4.3.

    PYTHONPATH=src:. python benchmarks/bench_boost.py [--boost 0 1 2 ...] [--scripts] [--no-real]

For each bonus (log-probability per phrase token; 0 = off), on the 510 labelled sentences spoken by
espeak-ng as the 85 scripts of bench_words.py's table 3 (the rig's voices, the same seeds): WER per
line, lines whose cues (open/closed question, I statement, you-blame, validation) differ from the
same rules on the line's text, FALSE cues (lines whose recognised text has an open question, I
statement or validation its text has not: what a boost could make up), scripts whose per-speaker
counts are exact, and the recognizer's CPU per second of speech; then the WER of the 13 read
sentences of ../shared/data/speech and the cue counts and texts of sample.wav (a real
conversation, its RTTM segments). With --scripts, also the 12 and 14 scripts (measured once);
with --old-voices, everything spoken by the rig's first voices (no word gap), with --room through a
room (bench_words.py --room): conditions the bonus was not chosen on.
The bonus is chosen on the 85 scripts only.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import pinned_cores

from attunement.config import default_config
from attunement.conversation.cue_phrases import boost_phrases
from attunement.conversation.language import label_utterances, per_speaker
from attunement.conversation.language_rules import classify, split_sentences
from attunement.perception.asr import Recognizer
from attunement.perception.transcribe import transcribe
from attunement.perception.wer import normalize, word_errors
from attunement.sources.media import read_audio

KINDS = {"open_question", "closed_question", "i_statement", "you_blame", "validation"}
COUNTED = {"open_question", "i_statement", "validation"}


def cues(text: str) -> set[str]:
    return {c for x in split_sentences(text) for c in classify(x) if c in KINDS}


def counts(utts, cfg) -> dict:
    from tests.conversation.spoken import COUNTED as NAMES

    return {sp: {c: v.counts[c] for c in NAMES.values()}
            for sp, v in per_speaker(label_utterances(utts, config=cfg), speakers=["ana", "ben"]).items()}


def scripts_row(rec, cfg, spoken, show: bool = False) -> tuple:
    errors = words = wrong = false = lines = exact = 0
    cpu = speech = 0.0
    gained: list[str] = []
    for script, sp in spoken:
        c0 = time.process_time()
        utts = transcribe(sp.segments, sp.audio, recognizer=rec, config=cfg)
        cpu += time.process_time() - c0
        speech += sum(s.end - s.start for s in sp.segments)
        exact += counts(utts, cfg) == sp.truth
        heard = {round(u.start, 2): u.text for u in utts}
        for seg, (_, text, _) in zip(sp.segments, script):
            hyp = heard.get(round(seg.start, 2), "")
            errors, words = errors + word_errors(normalize(text), normalize(hyp)), words + len(normalize(text))
            ref_c, hyp_c = cues(text), cues(hyp)
            wrong, lines = wrong + (ref_c != hyp_c), lines + 1
            if show and ref_c != hyp_c:
                print(f"    other cues: \"{text}\" -> \"{hyp}\"")
            if (hyp_c - ref_c) & COUNTED:
                false += 1
                gained.append(f"\"{text}\" -> \"{hyp}\" (+{', '.join(sorted((hyp_c - ref_c) & COUNTED))})")
    return errors / words, wrong, false, lines, exact, len(spoken), cpu / speech, gained


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boost", type=float, nargs="*", default=[0.0, 1.0, 2.0])
    ap.add_argument("--scripts", action="store_true", help="also the 12 and 14 scripts (measure once, at the end)")
    ap.add_argument("--no-real", action="store_true", help="skip the read sentences and sample.wav")
    ap.add_argument("--no-85", action="store_true", help="skip the 85 scripts")
    ap.add_argument("--without", nargs="*", default=[], help="phrases left out of the boost list")
    ap.add_argument("--add", nargs="*", default=[], help="phrases added to it (docs/words.md 4.3's list A: the wh-words)")
    ap.add_argument("--old-voices", action="store_true", help="the rig's first voices (no word gap): another condition")
    ap.add_argument("--room", action="store_true", help="through spoken.Room (reverberation and noise): another condition")
    ap.add_argument("--show", action="store_true", help="print the lines whose cues differ from their text's")
    args = ap.parse_args()
    os.sched_setaffinity(0, [int(c) for c in pinned_cores(2).split(",")])
    from tests.conversation.spoken import (
        HELD_OUT,
        OLD_VOICES,
        SCRIPTS,
        VOICES,
        Room,
        labelled_scripts,
        speak_script,
    )

    voices = OLD_VOICES if args.old_voices else VOICES
    room = Room() if args.room else None
    base = default_config().words
    phrases = tuple(sorted({p for p in boost_phrases() if p not in set(args.without)} | set(args.add)))
    print(f"{len(phrases)} phrases from language.toml\n")
    with tempfile.TemporaryDirectory() as tmp:
        spoken = [] if args.no_85 else [(sc, speak_script(sc, Path(tmp), seed=1000 + k, voices=voices, room=room))
                                         for k, sc in enumerate(labelled_scripts())]
        held = [(name, [(sc, speak_script(sc, Path(tmp), seed=k, voices=voices, room=room)) for k, sc in enumerate(group)])
                for name, group in (("the 12", SCRIPTS), ("the 14", HELD_OUT))] if args.scripts else []
    data = ROOT.parent / "shared" / "data"
    print("| boost | WER, 510 lines | lines with other cues | false cues (open, I, validation) | scripts exact, 85 "
          "| CPU s per s of speech | read sentences WER | sample.wav counts (open, I, validation per speaker) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for b in args.boost:
        cfg = dataclasses.replace(base, boost=b)
        rec = Recognizer.load(config=cfg, phrases=phrases)
        rec.recognize([spoken[0][1].audio[:32000]] if spoken else [])  # warm-up
        row = [f"{b:g}"]
        gained: list[str] = []
        if spoken:
            wer, wrong, false, lines, exact, n, cost, gained = scripts_row(rec, cfg, spoken, args.show)
            row += [f"{wer:.1%}", f"{wrong}/{lines}", f"{false}", f"{exact}/{n} = {exact / n:.0%}", f"{cost:.3f}"]
        else:
            row += [""] * 5
        texts = []
        if not args.no_real and data.is_dir():
            from attunement.conversation.rttm import read_rttm

            rows = [ln.split("\t") for ln in (data / "speech" / "transcripts.tsv").read_text().splitlines() if ln]
            hyps = rec.recognize([read_audio(data / "speech" / name)[0][0] for name, _ in rows])
            e = sum(word_errors(normalize(r), normalize(h)) for (_, r), h in zip(rows, hyps))
            row.append(f"{e / sum(len(normalize(r)) for _, r in rows):.1%}")
            x = read_audio(data / "conversations" / "sample.wav")[0][0]
            utts = transcribe(read_rttm(data / "conversations" / "sample.rttm"), x, recognizer=rec, config=cfg)
            lab = per_speaker(label_utterances(utts, config=cfg))
            row.append("; ".join(f"{sp} {v.counts['open_question']},{v.counts['i_statement']},{v.counts['validation']}"
                                 for sp, v in sorted(lab.items())))
            texts = [f"{u.speaker} {u.start:.1f}: {u.text}" for u in utts]
        print("| " + " | ".join(row) + " |", flush=True)
        for g in gained:
            print(f"    false cue: {g}")
        for t in texts:
            print(f"    sample.wav {t}")
        for name, group in held:
            ok = sum(counts(transcribe(sp.segments, sp.audio, recognizer=rec, config=cfg), cfg) == sp.truth
                     for _, sp in group)
            print(f"    {name} scripts exact: {ok}/{len(group)}")


if __name__ == "__main__":
    main()
