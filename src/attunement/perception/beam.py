"""The recognizer's beam search (perception/asr.py), with optional phrase boosting (boost.py).

A batch of pieces is decoded at once: each piece keeps its `beam` best running hypotheses as rows
of one decoder batch, the decoder's key/value cache reordered to follow them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .boost import PhraseBoost

EOS = 2


def top_entries(x: np.ndarray, n: int, block: int = 128) -> np.ndarray:
    """Indices of the `n` largest entries of each row of `x` [rows, v] (in no order), exactly, in
    about a tenth of a full partition: the `n` largest lie in the `n` blocks of `block` entries with
    the largest maxima (any other block's maximum is below `n` entries), so only those are searched."""
    rows, v = x.shape
    if v % block or v // block <= n:
        return np.argpartition(x, -n, axis=-1)[:, -n:]
    blocks = x.reshape(rows, v // block, block)
    best = np.argpartition(blocks.max(axis=-1), -n, axis=-1)[:, -n:]            # [rows, n] block numbers
    cand = np.take_along_axis(blocks, best[:, :, None], axis=1).reshape(rows, n * block)
    pick = np.argpartition(cand, -n, axis=-1)[:, -n:]
    return np.take_along_axis(best, pick // block, axis=-1) * block + pick % block


def logsumexp(logits: np.ndarray) -> np.ndarray:
    """log(sum(exp(logits))) over the last axis, kept as a [..., 1] column."""
    top = logits.max(axis=-1, keepdims=True)
    return np.log(np.exp(logits - top).sum(axis=-1, keepdims=True)) + top


@dataclass(frozen=True)
class _Hyp:
    tokens: tuple[int, ...]
    logps: tuple[float, ...]  # the model's own log-probabilities (no bonus)
    score: float  # sum of the log-probabilities and phrase bonuses, the end token's included once finished
    node: int = 0  # where the hypothesis stands in the phrase tree (PhraseBoost)
    pending: float = 0.0  # bonus gained on a phrase not completed yet (withdrawn if it is left)

    def norm(self, length: int) -> float:
        return self.score / max(1, length)

    def stopped(self) -> _Hyp:
        """The hypothesis stopped at its token bound, its unfinished phrase's bonus withdrawn."""
        return _Hyp(self.tokens, self.logps, self.score - self.pending)


class BeamSearch:
    """Beam search of width `beam` for every piece of a batch at once (`rec` a Recognizer, `feed`
    its decoder's first inputs): a hypothesis ends with the end token or at its piece's token
    bound, and the result is the ended hypothesis of highest mean score (length-normalised, so a
    short wrong ending does not win). A piece stops when its `beam` best ended hypotheses all score
    at least what its best running one has so far (the stopping rule of Hugging Face's `generate`).
    With `boost`, phrase tokens gain its bonus (boost.py): the tokens it could push into the beam
    are candidates besides each row's `beam` + 1 likeliest."""

    def __init__(self, rec, feed: dict, limits: list[int], beam: int, boost: PhraseBoost | None = None) -> None:
        self.rec, self.feed, self.limits, self.k, self.boost = rec, feed, limits, beam, boost
        n = len(limits)
        self.states, self.mask = feed["encoder_hidden_states"], feed["encoder_attention_mask"]
        self.rows: list[tuple[int, _Hyp]] = [(i, _Hyp((), (), 0.0)) for i in range(n)]
        self.ended: list[list[_Hyp]] = [[] for _ in range(n)]

    def run(self) -> tuple[list[list[int]], list[list[float]]]:
        step = 0
        while self.rows:
            out = self.rec.decoder.run(self.rec.output_names, self.feed)
            logits = out[0][:, -1, :]
            top = top_entries(logits, self.k + 1)
            lse = logsumexp(logits)
            cands = [self._row(r, logits[r], lse[r, 0], top[r]) for r in range(len(self.rows))]
            parents, nxt = self._advance(step, cands)
            if not nxt:
                break
            self.rec.keep_cache(self.feed, out, first=step == 0)
            idx = np.array(parents)
            pieces = [i for i, _ in nxt]
            moved = pieces != [i for i, _ in self.rows]  # rows of one piece share its encoder keys and values
            for name in self.rec.past_names:
                if moved or ".decoder." in name:
                    self.feed[name] = self.feed[name][idx]
            if moved:
                self.feed["encoder_hidden_states"] = self.states[pieces]
                self.feed["encoder_attention_mask"] = self.mask[pieces]
            self.feed["input_ids"] = np.array([[h.tokens[-1]] for _, h in nxt], np.int64)
            self.feed["use_cache_branch"] = np.array([True])
            self.rows = nxt
            step += 1
        best = [max(e, key=lambda h: h.norm(len(h.tokens) + 1)) if e else _Hyp((), (), 0.0) for e in self.ended]
        return [list(h.tokens) for h in best], [list(h.logps) for h in best]

    def _row(self, r: int, logits: np.ndarray, lse: float, top: np.ndarray) -> list[tuple]:
        """Row `r`'s `beam` + 1 best next steps: (score, row, token, log-probability, node, pending),
        from its likeliest tokens `top` (and, with a boost, the tokens its bonus may lift; the end
        token is no phrase's, so its step withdraws the pending bonus, as `PhraseBoost.gains` does)."""
        h = self.rows[r][1]
        if self.boost is None:
            return [(h.score + float(logits[t]) - lse, r, int(t), float(logits[t]) - lse, 0, 0.0) for t in top]
        toks = np.union1d(top, self.boost.candidates(h.node))
        lp = logits[toks] - lse
        gain, nodes, pend = self.boost.gains(h.node, h.pending, toks)
        score = h.score + lp + gain
        best = np.argpartition(score, -(self.k + 1))[-(self.k + 1):] if toks.size > self.k + 1 else np.arange(toks.size)
        return [(float(score[j]), r, int(toks[j]), float(lp[j]), int(nodes[j]), float(pend[j])) for j in best]

    def _advance(self, step: int, row_cands: list[list[tuple]]) -> tuple[list[int], list[tuple[int, _Hyp]]]:
        """Each piece's next running hypotheses (with the rows they grow from) from each row's
        best next steps; ended ones kept."""
        by_piece: dict[int, list[int]] = {}
        for r, (i, _) in enumerate(self.rows):
            by_piece.setdefault(i, []).append(r)
        parents: list[int] = []
        nxt: list[tuple[int, _Hyp]] = []
        for i, rows in by_piece.items():
            if step >= self.limits[i]:  # at the token bound: the running hypotheses end as they are
                self.ended[i] += [self.rows[r][1].stopped() for r in rows]
                continue
            cands = sorted((c for r in rows for c in row_cands[r]), key=lambda c: -c[0])
            alive: list[tuple[int, _Hyp]] = []
            for rank, (score, r, t, lp, node, pending) in enumerate(cands):
                h = self.rows[r][1]
                if t == EOS:
                    if rank < self.k:
                        self.ended[i].append(_Hyp(h.tokens, h.logps, score))  # its pending bonus withdrawn
                    continue
                alive.append((r, _Hyp(h.tokens + (t,), h.logps + (lp,), score, node, pending)))
                if len(alive) == self.k:
                    break
            if self._done(i, alive, step + 1):
                continue
            parents += [r for r, _ in alive]
            nxt += [(i, h) for _, h in alive]
        return parents, nxt

    def _done(self, i: int, alive: list[tuple[int, _Hyp]], length: int) -> bool:
        ended = sorted(self.ended[i], key=lambda h: -h.norm(len(h.tokens) + 1))[:self.k]
        self.ended[i] = ended
        if not alive:
            return True
        if len(ended) < self.k:
            return False
        return ended[-1].norm(len(ended[-1].tokens) + 1) >= max(h.norm(length) for _, h in alive)
