"""Phrase boosting (contextual biasing) for the recognizer's beam search: a prefix tree of phrases.

The product listens for a known vocabulary (the language cues' lexicon, conversation/language.toml:
"i need", "that sounds", feeling and hardship words...). Shallow fusion with a prefix tree, as
deployed in keyword/hotword boosting (NeMo and Riva word boosting, sherpa-onnx hotwords; Zhao et
al. 2019, "Shallow-fusion end-to-end contextual biasing", Interspeech): a hypothesis whose next token
continues a phrase from a word start gains `bonus` (log-probability) for that token; a completed
phrase keeps what it gained; a hypothesis that leaves a phrase before completing it (or ends) has
the bonus of its unfinished part withdrawn, so a partial match never accumulates.

The tree is over characters (SentencePiece's "▁" for a word start), so any tokenization of a phrase
is followed: a token continues the tree from a node when its text is a path down from that node.
Each node's continuing tokens are found once, on first use, by walking the tree below it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SPACE = "\u2581"  # SentencePiece's word-start mark
#: Short forms written for the lexicon's normalised phrases (the recognizer writes "I'm", the rules
#: read "i am"): each phrase is also boosted in these spellings.
_SHORT = (("i am", "i'm"), ("it is", "it's"), ("that is", "that's"), ("what is", "what's"), ("you are", "you're"),
          ("do not", "don't"), ("can not", "can't"), ("is not", "isn't"), ("i have", "i've"))


def spellings(phrase: str) -> set[str]:
    """The written forms of a normalised lexicon `phrase` ("i am sad"): lower case with "I"
    capitalised, the same with the first letter capitalised, and with the common short forms."""
    forms = {" ".join(phrase.split())}
    for long, short in _SHORT:
        forms |= {f" {f} ".replace(f" {long} ", f" {short} ").strip() for f in forms}
    out = set()
    for f in forms:
        words = ["I" + w[1:] if w == "i" or w.startswith("i'") else w for w in f.split()]
        if words:
            out.add(" ".join(words))
            out.add(" ".join([words[0][:1].upper() + words[0][1:]] + words[1:]))
    return out


class PhraseBoost:
    """The prefix tree of `phrases` (normalised lexicon text, written in every `spellings` form)
    over the tokens `pieces` (token id -> bytes, "▁" a word start), each phrase token worth `bonus`
    (log-probability, > 0). A hypothesis's state is (node, pending): where in the tree it stands
    (0: at no phrase) and the bonus it has gained on the phrase it has not completed yet."""

    def __init__(self, phrases: Sequence[str], pieces: Sequence[bytes], bonus: float) -> None:
        self.bonus = float(bonus)
        self.children: list[dict[str, int]] = [{}]
        self.complete: list[bool] = [False]
        for phrase in phrases:
            for form in spellings(phrase):
                node = 0
                for ch in SPACE + form.replace(" ", SPACE):
                    if ch not in self.children[node]:
                        self.children.append({})
                        self.complete.append(False)
                        self.children[node][ch] = len(self.children) - 1
                    node = self.children[node][ch]
                self.complete[node] = True
        self.vocab: dict[str, list[int]] = {}  # text -> its token ids (a byte's own token and a piece's)
        for i, p in enumerate(pieces):
            if i >= 3 and not (p.startswith(b"<<") and p.endswith(b">>")):
                try:
                    self.vocab.setdefault(p.decode("utf-8"), []).append(i)
                except UnicodeDecodeError:
                    continue
        self.longest = max(map(len, self.vocab), default=1)
        self._next: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.children)

    def continuing(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """Token ids that continue the tree from `node`, sorted, and the node each leads to."""
        if node not in self._next:
            found: dict[int, int] = {}
            stack = [(node, "")]
            while stack:
                at, text = stack.pop()
                for ch, child in self.children[at].items():
                    for t in self.vocab.get(text + ch, ()):
                        found[t] = child
                    if len(text) + 1 < self.longest:
                        stack.append((child, text + ch))
            ids = np.array(sorted(found), np.int64)
            self._next[node] = (ids, np.array([found[t] for t in ids.tolist()], np.int64))
        return self._next[node]

    def gains(self, node: int, pending: float, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For a hypothesis in state (`node`, `pending`), each of `tokens` [n]: the change of its
        score (log-probability) on taking it, and its next state (node [n], pending [n]).

        A token continuing the phrase: + bonus. Any other: - pending (the unfinished phrase
        withdrawn), then + bonus if it starts a phrase afresh. A node that completes a phrase keeps
        its gain (pending 0); one with no longer phrase below it returns to node 0."""
        n = len(tokens)
        gain, nodes, pend = np.full(n, -pending), np.zeros(n, np.int64), np.zeros(n)
        for start, base in ((0, -pending), (node, pending)) if node else ((0, 0.0),):
            ids, nxt = self.continuing(start)
            if not ids.size:
                continue
            pos = np.minimum(np.searchsorted(ids, tokens), ids.size - 1)
            hit = ids[pos] == tokens
            gain[hit] = self.bonus + (base if start == 0 else 0.0)
            nodes[hit] = nxt[pos[hit]]
            pend[hit] = (pending if start else 0.0) + self.bonus
        done = np.array([self.complete[k] for k in nodes.tolist()], bool)
        pend[done] = 0.0
        leaf = np.array([not self.children[k] for k in nodes.tolist()], bool)
        nodes[leaf] = 0
        return gain, nodes, pend

    def candidates(self, node: int) -> np.ndarray:
        """Tokens a hypothesis at `node` might be pushed into the beam by its bonus: those
        continuing its phrase and those starting one."""
        ids = self.continuing(0)[0]
        return np.union1d(ids, self.continuing(node)[0]) if node else ids
