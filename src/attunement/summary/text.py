"""The gentle post-session summary: strengths first, at most two kind suggestions, no grades.

Plain words instead of numbers ("most of the time", "a few moments"); every observation is
tied to a moment (mm:ss) where one exists, and where the tool could not see or hear well the
notes say so. The words live in phrases.toml; the rules that pick them are here. Numbers stay
in the JSON and the report.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np

from ..config import SummaryConfig
from ..intervals import inside
from ..records import Review
from .cues_json import review_cues
from .language_text import language_strengths, language_suggestions, practice_lines

MAX_SUGGESTIONS = 2


@cache
def phrases() -> dict[str, dict]:
    """The phrase tables of phrases.toml (shipped in the package): words, strength, suggestion, note."""
    with (resources.files("attunement.summary") / "phrases.toml").open("rb") as f:
        return tomllib.load(f)


def say(table: str, key: str, **fields) -> str:
    """One phrase of phrases.toml with its fields filled in; a sentence about "you" starts with "You"."""
    return _cap(phrases()[table][key].format(**fields))


@dataclass(frozen=True)
class Summary:
    strengths: tuple[str, ...]
    suggestions: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    practice: tuple[str, ...] = field(default_factory=tuple)  # a rehearsal's practice goals

    def text(self) -> str:
        parts = ["What went well"] + [f"  - {s}" for s in self.strengths]
        if self.practice:
            parts += ["", "Your practice goals"] + [f"  - {s}" for s in self.practice]
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
    words = phrases()["words"]["how_many"]
    return words[0] if n == 1 else words[1] if n == 2 else words[2] if n <= 5 else words[3]


def how_often(share: float) -> str:
    """A share of time (0..1) in plain words."""
    words = phrases()["words"]["how_often"]
    for bound, word in zip((0.85, 0.6, 0.4, 0.15), words):
        if share >= bound:
            return word
    return words[-1]


def when(events) -> str:
    """'around mm:ss' for one event, 'N moments, the first around mm:ss' for several."""
    return when_t([e.t for e in events])


def when_t(times: list[float]) -> str:
    """`when` for bare times in seconds."""
    if len(times) == 1:
        return phrases()["words"]["when_one"].format(t=clock(times[0]))
    return phrases()["words"]["when_many"].format(count=how_many(len(times)), t=clock(times[0]))


def person(speaker: str) -> str:
    """How the summary names a speaker: the user is "you", the other "your partner"."""
    if speaker == "me":
        return "you"
    if speaker == "partner":
        return "your partner"
    return speaker.replace("partner-", "partner ") if speaker.startswith("partner-") else speaker


def summarize(review: Review, *, config: SummaryConfig) -> Summary:
    """Pick strengths, up to two suggestions and the can't-see/can't-hear notes from one review."""
    tt = review.turn_taking
    talkers = [s for s in review.speakers if tt.per_speaker[s].talk_time_s > 0]
    notes = [f"{p[0].upper()}{p[1:]}." if not p.endswith(".") else p for p in review.problems]
    cues = review_cues(review)
    notes += _hearing_notes(review, talkers) + (_seeing_notes(review, cues) if cues else [])
    if not talkers and not (cues and cues["face_visible_share"]):
        return Summary((say("strength", "nothing_at_all" if cues else "nothing_heard"),), (), tuple(notes))
    strengths = [s for s in (_balance(review, talkers, config), _pace(review, config),
                             _backchannels(review), _let_finish(review)) if s]
    strengths += _cue_strengths(review, cues) if cues else []
    strengths += language_strengths(review, say, person, how_many)
    suggestions = [s for s in (_interruptions(review), _imbalance(review, talkers, config),
                               _monologue(review, config), _long_gaps(review, config)) if s]
    suggestions += language_suggestions(review, say, person, when_t)
    suggestions = (_cue_suggestions(review, cues) if cues else []) + suggestions
    if not strengths and talkers:
        strengths = [say("strength", "fallback", amount=_minutes(sum(tt.per_speaker[s].talk_time_s for s in talkers)))]
    elif not strengths:
        strengths = [say("strength", "nothing_heard")]
    return Summary(tuple(strengths), tuple(suggestions[:MAX_SUGGESTIONS]), tuple(notes),
                   tuple(practice_lines(review, say, when_t)))


def _cap(sentence: str) -> str:
    """Capitalise a sentence that starts with "you"/"your"/"the"; speaker ids keep their own spelling."""
    return sentence[:1].upper() + sentence[1:] if sentence.startswith(("you", "the ")) else sentence


def _names(items) -> str:
    items = [person(s) for s in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{max(int(round(seconds)), 1)} seconds"
    return f"{int(round(seconds / 60.0))} minutes"


def _was(speaker: str) -> str:
    return "you were" if speaker == "me" else f"{person(speaker)} was"


# --- what was heard -------------------------------------------------------------------------

def _hearing_notes(review, talkers) -> list[str]:
    tt = review.turn_taking
    if len(talkers) == 1:
        return [say("note", "one_voice") if len(review.speakers) == 1
                else say("note", "only_one", speaker=talkers[0])]
    talk = sum(tt.per_speaker[s].talk_time_s for s in talkers)
    if talkers and review.duration_s > 0 and talk / review.duration_s < 0.15:
        return [say("note", "little_speech", often=how_often(talk / review.duration_s))]
    return []


def _balance(review, talkers, config) -> str | None:
    shares = [review.turn_taking.per_speaker[s].talk_share for s in talkers]
    if len(talkers) >= 2 and max(shares) <= config.balance_share and min(shares) >= (1 - config.balance_share) / (len(talkers) - 1) * 0.5:
        return say("strength", "balance", names=_names(talkers))
    return None


def _offsets(review) -> np.ndarray:
    return np.asarray(review.turn_taking.floor_transfer_offsets_s, dtype=float)


def _pace(review, config) -> str | None:
    """Replies at the pace of everyday talk: median floor-transfer offset within the hesitation bound."""
    fto = _offsets(review)
    if fto.size >= 2 and -config.hesitation_gap_s < np.median(fto) <= config.hesitation_gap_s:
        near_norm = abs(float(np.median(fto)) - config.norm_gap_s) <= config.norm_gap_s
        return say("strength", "pace") + (phrases()["strength"]["pace_norm"] if near_norm else "")
    return None


def _backchannels(review) -> str | None:
    bcs = review.turn_taking.backchannels
    if not bcs:
        return None
    who = _names(sorted({b.by for b in bcs}))
    return say("strength", "backchannels", who=who, they="you were" if who == "you" else "they were",
               when=when(bcs), during=person(bcs[0].during))


def _let_finish(review) -> str | None:
    tt = review.turn_taking
    if len(tt.floor_transfers) >= 2 and not tt.interruptions and not tt.attempted_interruptions:
        return say("strength", "let_finish")
    return None


def _interruptions(review) -> str | None:
    tt = review.turn_taking
    events = sorted(tt.interruptions + tt.attempted_interruptions, key=lambda e: e.t)
    if not events:
        return None
    moment = when(events) if len(events) == 1 else phrases()["words"]["first"].format(t=clock(events[0].t))
    return say("suggestion", "interruptions", was="was" if len(events) == 1 else "were", count=how_many(len(events)),
               when=moment, was_speaking=_was(events[0].of))


def _imbalance(review, talkers, config) -> str | None:
    per = review.turn_taking.per_speaker
    if not talkers:
        return None
    top = max(talkers, key=lambda s: per[s].talk_share)
    if len(review.speakers) >= 2 and per[top].talk_share > config.balance_share:
        return say("suggestion", "imbalance", who=person(top), often=how_often(per[top].talk_share),
                   others=_names([s for s in review.speakers if s != top]))
    return None


def _monologue(review, config) -> str | None:
    turns = [t for t in review.turn_taking.turns if t.end - t.start > config.monologue_s]
    if not turns:
        return None
    longest = max(turns, key=lambda t: t.end - t.start)
    return say("suggestion", "monologue", who=person(longest.speaker), amount=_minutes(longest.end - longest.start),
               start=clock(longest.start))


def _long_gaps(review, config) -> str | None:
    """Many replies after a silence heard as hesitation (> hesitation_gap_s, against a norm of norm_gap_s)."""
    transfers = [f for f in review.turn_taking.floor_transfers if f.offset_s > config.hesitation_gap_s]
    if not transfers or len(transfers) < 0.3 * max(len(review.turn_taking.floor_transfers), 1):
        return None
    return say("suggestion", "long_gaps", when=when(transfers))


# --- what was seen ---------------------------------------------------------------------------

def _viewer(review) -> str:
    """Who the camera cues are about: "you" once known, a lone speaker who was heard, else "the person on camera"."""
    who = review.on_camera
    heard = who is not None and review.turn_taking.per_speaker[who].talk_time_s > 0
    return person(who) if who == "me" or heard else "the person on camera"


def _other(review) -> str:
    others = [s for s in review.speakers if s != review.on_camera]
    return _names(others) if others else "the other"


def listening_mask(review) -> np.ndarray | None:
    """Per video frame: the person on camera silent while someone else speaks; None when unknown."""
    me = review.on_camera
    if review.vision is None or me is None or len(review.speakers) < 2:
        return None
    t = review.vision.times
    speaking = inside(t, [s for s in review.segments if s.speaker == me])
    return inside(t, [s for s in review.segments if s.speaker != me]) & ~speaking


def _seeing_notes(review, cues) -> list[str]:
    notes, n = [], cues["frames"]
    if n and cues["face_visible_share"] is not None and cues["face_visible_share"] < 0.9:
        missing = review.vision.times[~review.vision.face.has_face]
        notes.append(say("note", "no_face", often=how_often(1 - cues["face_visible_share"]), t=clock(missing[0])))
    if n and cues["frames_without_posture"] == n:
        notes.append(say("note", "no_posture_at_all"))
    elif n and cues["frames_without_posture"] > 0.5 * n:
        notes.append(say("note", "no_posture", often=how_often(cues["frames_without_posture"] / n)))
    if cues["baseline"] == "geometry" and cues["face_visible_share"]:
        notes.append(say("note", "geometry_only"))
    if review.on_camera is None and len(review.speakers) > 1:
        notes.append(say("note", "who_is_me"))
    return notes


def _cue_strengths(review, cues) -> list[str]:
    """Strengths seen on camera: eye contact (also while listening), nodding while listening, leaning in."""
    who, out = _viewer(review), []
    share, listening = cues["eye_contact_share"], cues["eye_contact_share_listening"]
    if share is not None and share >= 0.6:
        also = phrases()["strength"]["eye_contact_also"] if listening is not None and listening >= 0.6 else ""
        out.append(say("strength", "eye_contact", who=who, often=how_often(share), also=also))
    elif listening is not None and listening >= 0.6:
        out.append(say("strength", "listening_eyes", other=_other(review), who_lower=who, often=how_often(listening),
                       they="you" if who == "you" else "they"))
    nods = [e for e in cues["events"] if e["kind"] == "nod"]
    if cues["nods_while_listening"]:
        out.append(say("strength", "nods", who=who, when=when_t([e["start"] for e in nods])))
    leans = [e for e in cues["events"] if e["kind"] == "lean_in"]
    if leans:
        out.append(say("strength", "lean_in", who=who, when=when_t([e["start"] for e in leans])))
    return out


def _cue_suggestions(review, cues) -> list[str]:
    """Kind suggestions from the camera: eye contact (overall, or while listening) and crossed arms."""
    who, out = _viewer(review), []
    share, listening = cues["eye_contact_share"], cues["eye_contact_share_listening"]
    if share is not None and share < 0.5:
        out.append(say("suggestion", "look_away", who=who, often=how_often(1 - share)))
    elif listening is not None and listening < 0.5:
        face = review.vision.face
        away = listening_mask(review) & face.has_face & ~face.eye_contact
        out.append(say("suggestion", "look_away_listening", other=_other(review), who_lower=who,
                       often=how_often(1 - listening), t=clock(review.vision.times[away][0])))
    crossed = cues["arms_crossed_share"]
    if crossed is not None and crossed > 0.3:
        out.append(say("suggestion", "arms_crossed", who=who, often=how_often(crossed)))
    return out
