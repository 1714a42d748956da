"""The trained diarizer during a live session: the heavy part done as the audio arrives.

Each 10 s window of the file pipeline (conversation/neural_diarize.py: starts every `nn_step_s`)
is segmented as soon as its last sample is heard, and the speakers of every `nn_embed_every`-th
window embedded, on one worker thread running the models on `LIVE_THREADS` onnxruntime thread
(onnxruntime releases the GIL while it runs, so the camera keeps the other core). At the end
only the last window (zero-padded past the end, as a file's), the clustering and the
reconstruction are left: seconds for an hour instead of minutes. The result is the file
pipeline's on the same audio: the same windows, the same per-window computations
(`speaker_embeddings`), the same end step (`diarize_windows`).

Each window's outputs go to `on_window(WindowOutput)` as they are computed (a live session stores
them), and `restore` takes them back, so a killed session is rebuilt by the clustering alone.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..config import DiarizationConfig
from ..records import AudioBlock
from . import segmentation as sg
from .neural_cluster import embedded_windows
from .neural_diarize import Models, NeuralDiarizer, diarize_windows, speaker_embeddings
from .neural_frames import speech_activity
from .neural_records import Diarization, Settings

log = logging.getLogger(__name__)

#: onnxruntime intra-op threads of the live models: one core for them, the other for the camera.
LIVE_THREADS = 1
#: Nice value of the worker thread (Linux: per thread). The worker has slack (it needs about 3 % of
#: a core and may lag a few windows), the camera does not: when other work fills the cores, the
#: scheduler serves the camera first. 5 is a CFS weight of 335 against 1024 for a normal thread,
#: still 7 % of two cores shared with nine busy threads (benchmarks/bench_live.py --shared-mic).
LIVE_NICE = 5


@dataclass(frozen=True)
class WindowOutput:
    """One window's share of the pipeline: its index, first sample (from the session's first),
    local speaker activity float32 [589, 3] (0 or 1); when its speakers were embedded
    (`embedded`), their embeddings float32 [m, 256], local speakers int64 [m], train bool [m]
    (see `speaker_embeddings`); else those are empty."""

    index: int
    start: int
    activity: np.ndarray
    embedded: bool = False
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 256), np.float32))
    speakers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    train: np.ndarray = field(default_factory=lambda: np.zeros(0, np.bool_))


def live_models(config: DiarizationConfig):
    """(segmenter, embedder) for a live session, on LIVE_THREADS threads; ModelError when missing."""
    return Models.get(LIVE_THREADS, Settings.from_config(config).embed_batch)


def background_thread(nice: int = LIVE_NICE) -> None:
    """Gives the calling thread the live workers' lower priority (`nice`, Linux only: per thread;
    elsewhere a thread id is not a pid and nothing changes). For the threads that may lag (the
    diarizer here, the transcription of session/live_words.py), never the camera's."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        except OSError as e:
            log.debug("worker priority unchanged: %s", e)


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None (another system or C library)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _trim() -> None:
    """Hands the memory freed since the last call back to the system (glibc; elsewhere nothing). The
    embedding model's buffers differ in size with every speaker's frames, and glibc keeps what is
    freed in its heaps: the worker alone grew from 321 to 639 MB over an hour without it, 272 to
    314 MB with it, once per embedded window (docs/diarization.md, Live)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class LiveNeuralDiarizer(NeuralDiarizer):
    """A NeuralDiarizer that runs segmentation and embeddings on a worker thread while it is fed
    and keeps only the audio of the last window or two (about 12.5 s), not the whole session.

    `models`: (segmenter, embedder) from `live_models` (None for a diarizer that is only
    `restore`d). `on_window(WindowOutput)` is called on the worker thread (and, for the last
    window, in `finish`) once per window, and again for the last window when it is embedded at
    the end. `busy_s`: CPU seconds the worker spent; `windows`: windows computed so far.
    """

    def __init__(self, *, config: DiarizationConfig, num_speakers: int | None = None, models=None,
                 on_window=None):
        super().__init__(config=config, num_speakers=num_speakers)
        self.models = models
        self.on_window = on_window
        self.step = round(self.settings.step_s * sg.RATE)
        self.busy_s = 0.0
        self.error: BaseException | None = None
        self._buf = np.zeros(sg.WINDOW + 2 * self.step, np.float32)  # audio from sample _base on
        self._base = self._fill = self._n = 0
        self._next = 0  # the next window to hand to the worker
        self._out: dict[int, WindowOutput] = {}
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._restored: tuple | None = None
        self._drop = False

    @property
    def windows(self) -> int:
        return len(self._out)

    def feed(self, block: AudioBlock) -> np.ndarray | None:
        """Take the next block; hands each window that is now complete to the worker. Returns
        the model-free Diarizer's new MFCC frames (None without it), as NeuralDiarizer does."""
        if self.models is None:
            raise RuntimeError("LiveNeuralDiarizer.feed() needs the models (live_models)")
        if self.error is not None:
            raise self.error
        samples = self.mono(block)
        self._keep(samples)
        while self._next * self.step + sg.WINDOW <= self._n:
            s = self._next * self.step
            self._start_worker()
            self._queue.put((self._next, s, self._buf[s - self._base: s - self._base + sg.WINDOW].copy()))
            self._next += 1
            self._drop_before(s)  # this window may turn out the last: it is embedded at the end
        if self.fallback is None:
            return None
        return self.fallback.feed(AudioBlock(samples[None], block.t0, block.rate))

    def restore(self, starts: np.ndarray, activity: np.ndarray, which: np.ndarray, vectors: np.ndarray,
                train: np.ndarray, *, t0: float, mfcc: np.ndarray | None = None) -> None:
        """Take the windows a live session stored instead of audio (starts int64 [w] samples,
        activity [w, 589, 3]; embeddings which int64 [m, 2] (window, local speaker), vectors
        [m, 256], train [m]) and the model-free Diarizer's MFCC frames (float32 [k, 19]), the first
        sample at `t0` s, so `finish` diarizes a session rebuilt from its store."""
        if self._n or self._t0 is not None:
            raise RuntimeError("LiveNeuralDiarizer.restore() after feed()")
        self._t0 = float(t0)
        seg = sg.Segmentation(np.asarray(activity, np.float32).reshape(-1, sg.FRAMES, sg.LOCAL_SPEAKERS),
                              np.asarray(starts, np.int64))
        self._restored = (seg, np.asarray(vectors, np.float32).reshape(-1, 256),
                          np.asarray(which, np.int64).reshape(-1, 2), np.asarray(train, np.bool_))
        if self.fallback is not None:
            self.fallback.restore(np.zeros((0, 19), np.float32) if mfcc is None else mfcc, t0=t0)

    def diarization(self) -> Diarization:
        """Waits for the worker, computes the last window (and embeds it), then clusters and
        reconstructs (neural_diarize.diarize_windows)."""
        t0 = self.t0 or 0.0
        if self._restored is not None:
            seg, vectors, which, train = self._restored
            embedded = np.unique(which[:, 0])  # a silent window embedded or not: the same clusters
            return diarize_windows(seg, vectors, which, train, embedded, settings=self.settings,
                                   num_speakers=self.num_speakers, t0=t0)
        self.stop()
        if self.error is not None:
            raise self.error
        if self._n == 0:
            return Diarization(np.zeros((0, 0), dtype=np.bool_), np.zeros(0, dtype=np.int8), t0)
        began = time.perf_counter()
        starts = sg.window_starts(self._n, step=self.step)
        last = starts.size - 1
        for k in range(self._next, starts.size):  # at most one: the window reaching past the end
            s = int(starts[k])
            self._window(k, s, self._buf[s - self._base: min(s - self._base + sg.WINDOW, self._fill)], embed=True)
        if not self._out[last].embedded:  # the file pipeline embeds the last window too
            s = int(starts[last])
            self._window(last, s, self._buf[s - self._base: s - self._base + sg.WINDOW], embed=True,
                         activity=self._out[last].activity)
        outs = [self._out[k] for k in range(starts.size)]
        seg = sg.Segmentation(np.stack([o.activity for o in outs]), starts)
        vectors = np.concatenate([o.vectors for o in outs])
        which = np.concatenate([np.stack([np.full(o.speakers.size, o.index, np.int64), o.speakers], axis=1)
                                for o in outs])
        train = np.concatenate([o.train for o in outs])
        chosen = embedded_windows(starts.size, self.settings.embed_every)
        result = diarize_windows(seg, vectors, which, train, chosen, settings=self.settings,
                                 num_speakers=self.num_speakers, t0=t0)
        heard = self._n / sg.RATE
        log.info("live diarization: %d windows on the worker in %.1f CPU s for %.0f s of audio (%.3f s a second); "
                 "%.2f s at the end", starts.size, self.busy_s, heard, self.busy_s / max(heard, 1e-9),
                 time.perf_counter() - began)
        return result

    def speech_activity(self):
        """After `finish`: the model's speech as a VoiceActivity (no audio kept: level_db is -inf)."""
        if self.result is None:
            raise RuntimeError("speech_activity() is available after finish()")
        return speech_activity(self.result)

    def stop(self, *, drop: bool = False) -> None:
        """Ends the worker after the windows it was given (`finish` calls it), or, with `drop`
        (a session that failed), after the one it is computing."""
        self._drop = self._drop or drop
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join()
            self._worker = None

    # ------------------------------------------------------------ internals

    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="attune-diarize", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        background_thread()
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self.error is not None or self._drop:
                continue  # drain: an error is raised by feed() or finish()
            k, s, piece = item
            c0 = time.thread_time()
            embed = k % self.settings.embed_every == 0
            try:
                self._window(k, s, piece, embed=embed)
            except BaseException as e:  # noqa: BLE001 - handed to the session thread
                self.error = e
            if embed:
                _trim()
            self.busy_s += time.thread_time() - c0

    def _window(self, k: int, s: int, piece: np.ndarray, *, embed: bool, activity: np.ndarray | None = None) -> None:
        """Segment window k (unless its `activity` is known), embed its speakers if `embed`; keep and hand on."""
        segmenter, embedder = self.models
        if activity is None:
            activity = segmenter.segment(piece, step_s=self.settings.step_s,
                                         both_ways=self.settings.both_ways).activity[0]
        out = WindowOutput(k, s, activity)
        if embed:
            vectors, speakers, train = speaker_embeddings(piece, activity, embedder,
                                                          min_clean_s=self.settings.min_clean_s)
            out = WindowOutput(k, s, activity, True, vectors, speakers, train)
        self._out[k] = out
        if self.on_window is not None:
            self.on_window(out)

    def _keep(self, samples: np.ndarray) -> None:
        """Append to the kept audio (the buffer grows if a block is larger than what it has room for)."""
        need = self._fill + samples.shape[0]
        if need > self._buf.shape[0]:
            grown = np.zeros(max(need, 2 * self._buf.shape[0]), np.float32)
            grown[: self._fill] = self._buf[: self._fill]
            self._buf = grown
        self._buf[self._fill:need] = samples
        self._fill = need
        self._n += samples.shape[0]

    def _drop_before(self, s: int) -> None:
        """Forget the audio before sample s."""
        cut = s - self._base
        if cut > 0:
            self._buf[: self._fill - cut] = self._buf[cut:self._fill]
            self._fill -= cut
            self._base = s
