"""What was said (issue 12): word error rate, language-cue F1, end-to-end script agreement, speed.

    PYTHONPATH=src python benchmarks/bench_words.py [--minutes 10] [--skip-e2e] [--settings] [--old-voices] [--room] [--e2e-only]
        [--compare-voices "ANA ARGS|BEN ARGS" ...]

Tables:
1. WER of Moonshine tiny-en (perception/asr.py) per file of ../shared/data/speech (or
   $ATTUNE_DATA/speech), corpus WER over all 13 files (target <= 10 %).
2. F1 per language cue (conversation/language.py) on tests/conversation/language_sentences.tsv, half A (tuning)
   and half B (held out), on tests/conversation/language_fresh.tsv (written after the rules, measured,
   then tuned on), tests/conversation/language_fresh2.tsv (written after that, never tuned on) and
   language_fresh3.tsv (written before the second round of rules, never tuned on); then the same
   with every "?" made a "." (recognizers drop question marks).
3. End to end: the scripts of tests/conversation/spoken.py spoken by espeak-ng (two voices), mixed to one
   track, transcribed per truth segment: per-speaker counts of open questions, I statements and
   validations exact? (target >= 90 % of scripts); the same rules on the scripts' own text; the
   counts through the whole review of the mix (diarized); for the 12 first scripts, the 14 held-out
   ones, and 85 scripts made of the labelled sentences (a sample large enough to compare settings).
4. Speed on 2 cores: transcription of sample.wav (a real two-person conversation) tiled to
   `--minutes`, per its RTTM speech segments, wall and CPU seconds per second of audio, and
   the 60-minute extrapolation (target >= 15x real time).
5. The confidence guard on greedy and beam scores (noise pieces passing, real pieces dropped).
6. (--settings) greedy vs beam and 0.05 vs 0.3 s padding on the spoken labelled sentences.
With --old-voices, tables 3 and 6 speak the scripts with the rig's first voices (no word gap,
tests/conversation/spoken.py OLD_VOICES) instead of VOICES; with --room, through one microphone in a
room (spoken.py Room: reverberation 0.4 s, noise 25 dB under the speech; a separate figure, not the
rig's); with --e2e-only, only tables 3 and 6 are made.
7. (--compare-voices) espeak-ng voice pairs (each speaker's espeak-ng arguments, the two split by "|")
   on the 85 scripts of labelled sentences: WER, lines whose cues differ from their text's, scripts exact.
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
sys.path.insert(0, str(ROOT))  # the repo root: tests is a package

from timing import pinned_cores

from attunement.config import default_config
from attunement.conversation.cue_phrases import boost_phrases
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
            "fresh2 (never tuned on)": tl.labelled_rows("language_fresh2.tsv"),
            "fresh3 (written before the 2nd round, never tuned on)": tl.labelled_rows("language_fresh3.tsv")}
    scores = {name: tl.f1_per_cue(rows) for name, rows in sets.items()}
    unmarked = {name: tl.f1_per_cue(tl.without_question_marks(rows)) for name, rows in sets.items()}
    counts = {name: {c: sum(c in r[1] for r in rows) for c in CUES} for name, rows in sets.items()}
    print("| cue | " + " | ".join(f"F1 {n} (n)" for n in sets) + " | target |")
    print("| --- |" + " --- |" * (len(sets) + 1))
    for c in CUES:
        target = tl.FLOORS[c] if c in ("open_question", "closed_question", "i_statement", "you_blame",
                                       "validation", "reflection") else "-"
        print(f"| {c} | " + " | ".join(f"{scores[n][c]:.2f} ({counts[n][c]})" for n in sets) + f" | {target} |")
    print("sentences: " + ", ".join(f"{n} {len(rows)}" for n, rows in sets.items()) + "\n")
    print("The same sentences with every \"?\" made a \".\" (what a recognizer that drops question marks gives):\n")
    print("| cue | " + " | ".join(f"F1 {n}" for n in sets) + " |\n| --- |" + " --- |" * len(sets))
    for c in CUES:
        print(f"| {c} | " + " | ".join(f"{unmarked[n][c]:.2f}" for n in sets) + " |")
    print()


def _counts(labelled, speakers) -> dict:
    from tests.conversation.spoken import COUNTED

    return {sp: {c: v.counts[c] for c in COUNTED.values()} for sp, v in per_speaker(labelled, speakers=speakers).items()}


def _truth(script) -> dict:
    from tests.conversation.spoken import COUNTED

    out = {sp: {c: 0 for c in COUNTED.values()} for sp in ("ana", "ben")}
    for sp, _, cues in script:
        for c in cues:
            if c in COUNTED:
                out[sp][COUNTED[c]] += 1
    return out


def _on_text(script, spoken) -> dict:
    """The rules on the scripts' own text (each line an utterance at its true time)."""
    from attunement.perception.transcribe import utterance_of

    utts = [utterance_of(sp, ((s.start, s.end),), text) for s, (sp, text, _) in zip(spoken.segments, script)]
    return _counts(label_utterances(utts, config=CFG), ["ana", "ben"])


def _diarized(spoken, folder: Path, k: int) -> dict:
    """Counts through the whole review of the one-track mix (diarized, two speakers), each found
    speaker named after the true one it overlaps most."""
    from attunement.session.runners.offline import review_file
    from attunement.sources.wav import write_wav

    wav = folder / f"mix{k}.wav"
    write_wav(wav, spoken.audio[None], 16000)
    review = review_file(wav, config=default_config(), words=True, num_speakers=2, video=False)
    overlap: dict = {}
    for d in review.segments:
        for t in spoken.segments:
            o = min(d.end, t.end) - max(d.start, t.start)
            if o > 0:
                overlap[d.speaker, t.speaker] = overlap.get((d.speaker, t.speaker), 0.0) + o
    name = {d: max((t for dd, t in overlap if dd == d), key=lambda t: overlap[d, t]) for d, _ in overlap}
    renamed = [dataclasses.replace(lu, utterance=dataclasses.replace(lu.utterance, speaker=name.get(
        lu.utterance.speaker, lu.utterance.speaker))) for lu in review.language.labelled]
    return _counts(renamed, ["ana", "ben"])


def e2e_table(rec: Recognizer, title: str, scripts, *, seed0: int = 0, diarize: bool = False,
              show: bool = True, voices=None, room=None) -> None:
    """Per script: the truth (ana; ben: open questions, I statements, validations), the counts from
    the recognised words (truth segments), exact or not, and the same rules on the scripts' text;
    with `diarize`, the counts through the whole one-track review too. Then each missed script's
    lines, what the recognizer heard and why the counts differ."""
    from tests.conversation.spoken import speak_script

    fmt = lambda d: "; ".join(",".join(str(v) for v in d[sp].values()) for sp in d)
    print(f"### {title}\n")
    print("| script | lines | truth | recognised | exact | rules on text | " + ("through the review (diarized) |" if diarize else ""))
    print("| --- | --- | --- | --- | --- | --- |" + (" --- |" if diarize else ""))
    n = exact = on_text = diar = 0
    misses = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, script in enumerate(scripts):
            spoken = speak_script(script, Path(tmp), seed=seed0 + k, voices=voices, room=room)
            utts = transcribe(spoken.segments, spoken.audio, recognizer=rec, config=CFG)
            got, truth, text = _counts(label_utterances(utts, config=CFG), ["ana", "ben"]), _truth(script), _on_text(script, spoken)
            ok, t_ok = got == truth, text == truth
            d_ok = _diarized(spoken, Path(tmp), k) == truth if diarize else False
            n, exact, on_text, diar = n + 1, exact + ok, on_text + t_ok, diar + d_ok
            if show:
                print(f"| {k} | {len(script)} | {fmt(truth)} | {fmt(got)} | {'yes' if ok else '**no**'} | "
                      f"{'yes' if t_ok else 'no'} |" + (f" {'yes' if d_ok else 'no'} |" if diarize else ""))
            if not ok and show:
                heard = {round(u.start, 2): u.text for u in utts}
                misses.append((k, [(sp, line, heard.get(round(s.start, 2), "(nothing)"))
                                   for s, (sp, line, _) in zip(spoken.segments, script)]))
    print(f"| **all {n}** | | | | **{exact}/{n} = {exact / n:.0%}** (target >= 90 %) | {on_text}/{n} |"
          + (f" {diar}/{n} |" if diarize else "") + "\n")
    for k, lines in misses:
        print(f"script {k}: " + " / ".join(f"{sp}: \"{line}\" -> \"{h}\"" for sp, line, h in lines if
                                          line.rstrip(".?!").lower() != h.rstrip(".?!").lower()))
    print()


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
    rec = Recognizer.load(config=CFG, phrases=boost_phrases())
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


def guard_table(rec: Recognizer, data: Path) -> None:
    """The confidence guard (mean token log-probability >= rec.min_mean_logprob) on the greedy and
    the beam scores: share of noise pieces that pass (white, brown, 50 Hz hum with harmonics;
    -50 to -20 dBFS; 0.5 to 10 s) and of real conversation pieces (sample.wav and AMI at their RTTM
    segments, cut as transcribe() cuts them) that are dropped."""
    import numpy as np

    from attunement.conversation.rttm import read_rttm
    from attunement.perception.transcribe import cut_pieces

    rng = np.random.default_rng(7)
    noise = []
    for db in (-50, -40, -30, -20):
        for secs in (0.5, 1, 2, 4, 10):
            w = rng.standard_normal(int(16000 * secs))
            brown = np.cumsum(w)
            brown -= np.convolve(brown, np.ones(400) / 400, "same")
            t = np.arange(w.size) / 16000
            hum = np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 150 * t) + 0.1 * w
            noise += [(x / x.std() * 10 ** (db / 20)).astype(np.float32) for x in (w, brown, hum)]
    conv = data / "conversations"
    talks = [(conv / "sample.wav", read_rttm(conv / "sample.rttm"))]
    for wav in sorted((conv / "ami").glob("*.wav")):
        for f in (conv / "ami").glob("*.rttm"):
            if f" {wav.stem} " in f.read_text():
                talks.append((wav, read_rttm(f, file_id=wav.stem)))
    speech = []
    for wav, segs in talks:
        x = read_audio(wav)[0][0]
        for p in cut_pieces(segs, config=CFG, audio=x):
            clip = x[max(0, round(p.heard[0] * 16000)):round(p.heard[1] * 16000)]
            speech += [clip] if clip.size >= 900 else []

    def means(pieces, beam):
        out = []
        for x in pieces:
            _, sc = rec._decode([rec._encode(x)], [rec.max_tokens(x.size)], [x.size], beam=beam)
            out.append(float(np.mean(sc[0])) if sc[0] else -np.inf)
        return np.array(out)

    print("| scores | noise pieces passing | real conversation pieces dropped |\n| --- | --- | --- |")
    for name, beam in (("greedy (used)", 1), (f"beam {rec.beam}", rec.beam)):
        n, s = means(noise, beam), means(speech, beam)
        print(f"| {name} | {np.mean(n >= rec.min_mean_logprob):.0%} of {n.size} | "
              f"{np.mean(s < rec.min_mean_logprob):.0%} of {s.size} |")
    print()


def settings_table(rec: Recognizer, voices=None, room=None) -> None:
    """The decoding settings compared on the labelled sentences spoken by espeak-ng (the 85 scripts
    of table 3): WER per line and lines whose cues (open/closed question, I statement, you-blame,
    validation) differ from the same rules on the line's text, for greedy vs beam and 0.05 vs 0.3 s
    padding."""
    from attunement.conversation.language_rules import classify, split_sentences
    from tests.conversation.spoken import labelled_scripts, speak_script

    kinds = {"open_question", "closed_question", "i_statement", "you_blame", "validation"}
    cues = lambda text: sorted(c for x in split_sentences(text) for c in classify(x) if c in kinds)
    with tempfile.TemporaryDirectory() as tmp:
        spoken = [(sc, speak_script(sc, Path(tmp), seed=1000 + k, voices=voices, room=room))
                  for k, sc in enumerate(labelled_scripts())]
    print("| beam | pad s | WER | lines with other cues |\n| --- | --- | --- | --- |")
    beam = rec.beam
    for rec.beam, pad in ((1, 0.05), (1, 0.3), (beam, 0.05), (beam, 0.3)):
        cfg = dataclasses.replace(CFG, pad_s=pad)
        errors = words = wrong = lines = 0
        for script, sp in spoken:
            heard = {round(u.start, 2): u.text for u in transcribe(sp.segments, sp.audio, recognizer=rec, config=cfg)}
            for seg, (_, text, _) in zip(sp.segments, script):
                hyp = heard.get(round(seg.start, 2), "")
                errors, words = errors + word_errors(normalize(text), normalize(hyp)), words + len(normalize(text))
                wrong, lines = wrong + (cues(text) != cues(hyp)), lines + 1
        print(f"| {rec.beam} | {pad} | {errors / words:.1%} | {wrong}/{lines} |")
    rec.beam = beam
    print()


def voices_table(rec: Recognizer, pairs: list[str]) -> None:
    """Each voice pair ("ANA ARGS|BEN ARGS", espeak-ng arguments) speaking the 85 scripts of
    labelled sentences: WER per line (per speaker), lines whose cues (as in table 6) differ from
    the same rules on the line's text, and scripts whose per-speaker counts are exact."""
    from attunement.conversation.language_rules import classify, split_sentences
    from tests.conversation.spoken import labelled_scripts, speak_script

    kinds = {"open_question", "closed_question", "i_statement", "you_blame", "validation"}
    cues = lambda text: sorted(c for x in split_sentences(text) for c in classify(x) if c in kinds)
    print("| ana | ben | WER (ana, ben) | lines with other cues | scripts exact |\n| --- | --- | --- | --- | --- |")
    scripts = labelled_scripts()
    for pair in pairs:
        voices = dict(zip(("ana", "ben"), (tuple(v.split()) for v in pair.split("|")), strict=True))
        err = {sp: [0, 0] for sp in voices}
        wrong = lines = exact = 0
        with tempfile.TemporaryDirectory() as tmp:
            for k, script in enumerate(scripts):
                sp = speak_script(script, Path(tmp), seed=1000 + k, voices=voices)
                utts = transcribe(sp.segments, sp.audio, recognizer=rec, config=CFG)
                exact += _counts(label_utterances(utts, config=CFG), ["ana", "ben"]) == sp.truth
                heard = {round(u.start, 2): u.text for u in utts}
                for seg, (who, text, _) in zip(sp.segments, script):
                    hyp = heard.get(round(seg.start, 2), "")
                    err[who][0] += word_errors(normalize(text), normalize(hyp))
                    err[who][1] += len(normalize(text))
                    wrong, lines = wrong + (cues(text) != cues(hyp)), lines + 1
        wer = sum(e for e, _ in err.values()) / sum(n for _, n in err.values())
        print(f"| {' '.join(voices['ana'])} | {' '.join(voices['ben'])} | {wer:.1%} ({err['ana'][0] / err['ana'][1]:.1%}, "
              f"{err['ben'][0] / err['ben'][1]:.1%}) | {wrong}/{lines} | {exact}/{len(scripts)} = {exact / len(scripts):.0%} |")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the speed test's audio")
    ap.add_argument("--skip-e2e", action="store_true")
    ap.add_argument("--settings", action="store_true", help="also compare decoding settings (table 6, ~5 min)")
    ap.add_argument("--old-voices", action="store_true", help="speak tables 3 and 6 with the rig's first voices")
    ap.add_argument("--e2e-only", action="store_true", help="only the end-to-end tables (3, and 6 with --settings)")
    ap.add_argument("--room", action="store_true", help="speak tables 3 and 6 through a room (reverberation and noise)")
    ap.add_argument("--compare-voices", nargs="*", default=[], metavar="ANA|BEN",
                    help="espeak-ng voice pairs to compare on the 85 scripts (table 7)")
    args = ap.parse_args()
    os.sched_setaffinity(0, [int(c) for c in pinned_cores(2).split(",")])
    data = data_dir()
    rec = Recognizer.load(config=CFG, phrases=boost_phrases())
    print(f"## 1. Word error rate (Moonshine tiny-en, beam {rec.beam}, phrase boost {CFG.boost:g})\n")
    if data is None or args.e2e_only:
        print(f"skipped: {'--e2e-only' if args.e2e_only else '../shared/data not found (set ATTUNE_DATA)'}\n")
    else:
        wer_table(rec, data)
    print("## 2. Language cues: F1 per cue\n")
    if args.e2e_only:
        print("skipped: --e2e-only\n")
    else:
        f1_table()
    print("## 3. End to end: espeak-ng scripts, one track\n")
    from tests.conversation.spoken import HELD_OUT, OLD_VOICES, SCRIPTS, VOICES, Room, espeak_missing, labelled_scripts

    voices = OLD_VOICES if args.old_voices else VOICES
    room = Room() if args.room else None
    print("voices: " + "; ".join(f"{sp} espeak-ng {' '.join(v)}" for sp, v in voices.items())
          + (f"; through {room}" if room else "") + "\n")

    if args.skip_e2e or espeak_missing():
        print(f"skipped: {espeak_missing() or '--skip-e2e'}\n")
    else:
        e2e_table(rec, "The 12 scripts of the first measurement (looked at while fixing)", SCRIPTS, diarize=True,
                  voices=voices, room=room)
        e2e_table(rec, "14 scripts written before the fixes, never looked at while making them", HELD_OUT,
                  diarize=True, voices=voices, room=room)
        big = labelled_scripts()
        e2e_table(rec, f"{len(big)} scripts of 6 lines made of the labelled sentences (language_sentences, fresh, "
                       "fresh2; truth = their labels), per-script rows not shown", big, seed0=1000, show=False,
                  voices=voices, room=room)
    if data is not None and not args.e2e_only:
        print("## 4. Speed (2 cores)\n")
        speed_table(data, args.minutes)
        print("## 5. The confidence guard on greedy and beam scores\n")
        guard_table(rec, data)
    if args.settings and not args.skip_e2e:
        print("## 6. Decoding settings on the spoken labelled sentences\n")
        settings_table(rec, voices=voices, room=room)
    if args.compare_voices and not espeak_missing():
        print("## 7. espeak-ng voice pairs on the 85 scripts of labelled sentences\n")
        voices_table(rec, args.compare_voices)


if __name__ == "__main__":
    main()
