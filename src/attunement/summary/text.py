"""The gentle post-session summary: strengths first, at most two kind suggestions, no grades.

Plain words instead of numbers ("most of the time", "a few moments"); every observation is
tied to a moment (mm:ss) where one exists. Numbers stay in the JSON and the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config import SummaryConfig
from ..session.review import Review

MAX_SUGGESTIONS = 2


@dataclass(frozen=True)
class Summary:
    strengths: tuple[str, ...]
    suggestions: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def text(self) -> str:
        parts = ["What went well"] + [f"  - {s}" for s in self.strengths]
        if self.suggestions:
            parts += ["", "Something to try next time"] + [f"  - {s}" for s in self.suggestions]
        if self.notes:
            parts += ["", "Notes"] + [f"  - {s}" for s in self.notes]
        return "\n".join(parts)


def clock(t: float) -> str:
    """Seconds as mm:ss (h:mm:ss past an hour)."""
    t = int(round(max(t, 0.0)))
    h, rem = divmod(t, 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60:02d}:{rem % 60:02d}"


def how_many(n: int) -> str:
    """A count in plain words."""
    return "one moment" if n == 1 else "a couple of moments" if n == 2 else "a few moments" if n <= 5 else "several moments"


def when(events) -> str:
    """'around mm:ss' for one event, 'N moments, the first around mm:ss' for several."""
    return when_t([e.t for e in events])


def how_often(share: float) -> str:
    """A share of time in plain words."""
    if share >= 0.85:
        return "nearly all of the time"
    if share >= 0.6:
        return "most of the time"
    if share >= 0.4:
        return "about half of the time"
    return "some of the time" if share >= 0.15 else "a little of the time"


def summarize(review: Review, *, config: SummaryConfig) -> Summary:
    """Pick strengths and up to two suggestions from one review's turn-taking."""
    tt = review.turn_taking
    talkers = [s for s in review.speakers if tt.per_speaker[s].talk_time_s > 0]
    notes = tuple(f"{p[0].upper()}{p[1:]}." if not p.endswith(".") else p for p in review.problems)
    if not talkers:
        return Summary(("Nothing to reflect on yet: no speech was heard.",), (), notes)
    if len(talkers) == 1:
        notes += (_one_voice_note(review, talkers[0]),)
    cues = review.cues()
    strengths = [s for s in (_balance(review, talkers, config), _pace(review, config),
                             _backchannels(review), _let_finish(review)) if s]
    strengths += _cue_strengths(review, cues) if cues else []
    suggestions = [s for s in (_interruptions(review), _imbalance(review, talkers, config),
                               _monologue(review, config), _long_gaps(review, config)) if s]
    suggestions = (_cue_suggestions(review, cues) if cues else []) + suggestions
    if not strengths:
        strengths = [f"You made room for a real conversation: about {_minutes(sum(tt.per_speaker[s].talk_time_s for s in talkers))} of speech."]
    return Summary(tuple(strengths), tuple(suggestions[:MAX_SUGGESTIONS]), notes)


def person(speaker: str) -> str:
    """How the summary names a speaker: the user is "you", the other "your partner"."""
    if speaker == "me":
        return "you"
    if speaker == "partner":
        return "your partner"
    return speaker.replace("partner-", "partner ") if speaker.startswith("partner-") else speaker


def _cap(sentence: str) -> str:
    """Capitalise a sentence that starts with "you"/"your"; speaker ids keep their own spelling."""
    return sentence[:1].upper() + sentence[1:] if sentence.startswith("you") else sentence


def _names(items) -> str:
    items = [person(s) for s in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{max(int(round(seconds)), 1)} seconds"
    return f"{int(round(seconds / 60.0))} minutes"


def _one_voice_note(review: Review, speaker: str) -> str:
    if len(review.speakers) == 1:
        return ("All speech was heard as one voice: who spoke when needs one channel per person "
                "(--channels-are-speakers) or an annotation (--rttm).")
    return f"Only {speaker} was heard speaking."


def _was(speaker: str) -> str:
    return "you were" if speaker == "me" else f"{person(speaker)} was"


def _balance(review, talkers, config) -> str | None:
    shares = [review.turn_taking.per_speaker[s].talk_share for s in talkers]
    if len(talkers) >= 2 and max(shares) <= config.balance_share and min(shares) >= (1 - config.balance_share) / (len(talkers) - 1) * 0.5:
        return f"The talking was shared: {_names(talkers)} each had room to speak."
    return None


def _offsets(review) -> np.ndarray:
    return np.asarray(review.turn_taking.floor_transfer_offsets_s, dtype=float)


def _pace(review, config) -> str | None:
    fto = _offsets(review)
    if fto.size >= 2 and -config.hesitation_gap_s < np.median(fto) <= config.hesitation_gap_s:
        return "Replies came at an easy, natural pace, mostly within a breath of the other finishing."
    return None


def _backchannels(review) -> str | None:
    bcs = review.turn_taking.backchannels
    if not bcs:
        return None
    first = bcs[0]
    who = _names(sorted({b.by for b in bcs}))
    they = "you were" if who == "you" else "they were"
    return _cap(f"{who} showed {they} listening with short responses like \"mm-hm\" "
                f"({when(bcs)}, while {person(first.during)} spoke).")


def _let_finish(review) -> str | None:
    tt = review.turn_taking
    if len(tt.floor_transfers) >= 2 and not tt.interruptions and not tt.attempted_interruptions:
        return "Each person let the other finish before taking their turn."
    return None


def _interruptions(review) -> str | None:
    tt = review.turn_taking
    events = sorted(tt.interruptions + tt.attempted_interruptions, key=lambda e: e.t)
    if not events:
        return None
    first = events[0]
    return (f"There {'was' if len(events) == 1 else 'were'} {how_many(len(events))} when two people spoke "
            f"at once and one had to stop ({when(events)}, while {_was(first.of)} speaking); letting the other "
            "finish their thought helps them feel heard.")


def _imbalance(review, talkers, config) -> str | None:
    per = review.turn_taking.per_speaker
    top = max(talkers, key=lambda s: per[s].talk_share)
    if len(review.speakers) >= 2 and per[top].talk_share > config.balance_share:
        others = _names([s for s in review.speakers if s != top])
        return _cap(f"{person(top)} did most of the talking ({how_often(per[top].talk_share)}); pausing to ask "
                    f"{others} an open question, like \"How was that for you?\", invites them in.")
    return None


def _monologue(review, config) -> str | None:
    turns = [t for t in review.turn_taking.turns if t.end - t.start > config.monologue_s]
    if not turns:
        return None
    longest = max(turns, key=lambda t: t.end - t.start)
    return (f"One stretch by {person(longest.speaker)} ran for about {_minutes(longest.end - longest.start)} "
            f"(from {clock(longest.start)}); a short check-in, like \"Does that make sense so far?\", "
            "keeps the other person with you.")


def _long_gaps(review, config) -> str | None:
    transfers = [f for f in review.turn_taking.floor_transfers if f.offset_s > config.hesitation_gap_s]
    if not transfers or len(transfers) < 0.3 * max(len(review.turn_taking.floor_transfers), 1):
        return None
    return (f"Some answers came after a longer silence ({when(transfers)}); a beat of thought is fine, "
            "and saying \"let me think about that\" lets the other know you are still with them.")


def _viewer(review) -> str:
    who = review.on_camera
    return person(who) if who else "the person on camera"


def _cue_strengths(review, cues) -> list[str]:
    """Strengths seen on camera: eye contact, nodding while listening, leaning in."""
    who, out = _viewer(review), []
    share = cues["eye_contact_share"]
    if share is not None and share >= 0.6:
        listening = cues["eye_contact_share_listening"]
        also = ", including while the other was speaking" if listening is not None and listening >= 0.6 else ""
        out.append(_cap(f"{who} kept eye contact {how_often(share)}{also}."))
    nods = [e for e in cues["events"] if e["kind"] == "nod"]
    if cues["nods_while_listening"]:
        out.append(_cap(f"{who} nodded along while the other was talking ({when_t([e['start'] for e in nods])}), "
                        "a clear sign of following."))
    leans = [e for e in cues["events"] if e["kind"] == "lean_in"]
    if leans:
        out.append(_cap(f"{who} leaned in {when_t([e['start'] for e in leans])}, showing interest."))
    return out


def _cue_suggestions(review, cues) -> list[str]:
    """Kind suggestions from the camera: eye contact and crossed arms, only where they were measured."""
    who, out = _viewer(review), []
    share = cues["eye_contact_share"]
    if share is not None and share < 0.5:
        out.append(_cap(f"{who} looked away from the camera {how_often(1 - share)}; looking up now and then, "
                        "especially while the other speaks, helps them feel seen."))
    crossed = cues["arms_crossed_share"]
    if crossed is not None and crossed > 0.3:
        out.append(_cap(f"{who} had arms crossed {how_often(crossed)}; resting them open reads as more relaxed "
                        "and inviting."))
    return out


def when_t(times: list[float]) -> str:
    """`when` for bare times in seconds."""
    return f"around {clock(times[0])}" if len(times) == 1 else f"{how_many(len(times))}, the first around {clock(times[0])}"
