"""The sections of the settings (config.py builds and loads them): one frozen dataclass per table of
calibration/defaults.toml, each checking its own ranges so a wrong value is one clear error."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import ConfigError

#: The most people one shared microphone is told apart into: the bound of `--speakers`, of a
#: diarizer's forced count and of [diarization] max_speakers (a practice conversation rarely has more).
MAX_SPEAKERS = 6


@dataclass(frozen=True)
class VadConfig:
    """Voice activity (perception/vad.py); units and sources in the [vad] section of defaults.toml."""

    frame_ms: int
    aggressiveness: int
    highpass_hz: float
    min_snr_db: float
    range_db: float
    floor_rise_db_per_s: float
    level_tau_s: float
    min_speech_s: float
    min_pause_s: float
    audible_mode: int
    audible_db: float
    voiced_audible_db: float
    extend_before_s: float
    extend_after_s: float
    sounding_pause_s: float
    sounding_share: float

    def __post_init__(self) -> None:
        if self.frame_ms not in (10, 20, 30):
            raise ConfigError(f"[vad] frame_ms = {self.frame_ms}: webrtcvad takes 10, 20 or 30 ms frames")
        for key in ("aggressiveness", "audible_mode"):
            if getattr(self, key) not in (0, 1, 2, 3):
                raise ConfigError(f"[vad] {key} = {getattr(self, key)}: must be 0, 1, 2 or 3")
        if not 0 <= self.voiced_audible_db <= self.audible_db <= 60:
            raise ConfigError(f"[vad] voiced_audible_db = {self.voiced_audible_db}, audible_db = {self.audible_db}: "
                              "need 0 <= voiced_audible_db <= audible_db <= 60 dB")
        if not 0 < self.highpass_hz < 4000:
            raise ConfigError(f"[vad] highpass_hz = {self.highpass_hz}: must lie in (0, 4000) Hz")
        if self.range_db <= 0 or self.level_tau_s <= 0 or self.floor_rise_db_per_s < 0:
            raise ConfigError(f"[vad] range_db = {self.range_db}, level_tau_s = {self.level_tau_s} must be > 0 "
                              f"and floor_rise_db_per_s = {self.floor_rise_db_per_s} >= 0")
        for key in ("min_speech_s", "min_pause_s", "extend_before_s", "extend_after_s", "sounding_pause_s"):
            if not 0 <= getattr(self, key) <= 10:
                raise ConfigError(f"[vad] {key} = {getattr(self, key)}: must lie in [0, 10] s")
        if not 0 <= self.sounding_share <= 1:
            raise ConfigError(f"[vad] sounding_share = {self.sounding_share}: must lie in [0, 1]")


@dataclass(frozen=True)
class TurnConfig:
    bridge_pause_s: float
    backchannel_max_s: float
    interruption_min_holdover_s: float
    interruption_min_continue_s: float


@dataclass(frozen=True)
class ChannelConfig:
    leak_margin_db: float
    refill_max_s: float


@dataclass(frozen=True)
class SummaryConfig:
    norm_gap_s: float
    hesitation_gap_s: float
    monologue_s: float
    balance_share: float


@dataclass(frozen=True)
class PerceptionConfig:
    """Face and body landmarks (perception/landmarks.py); units and sources in [perception] of defaults.toml."""

    pose_rate_hz: float
    min_detection_confidence: float
    min_tracking_confidence: float
    face_rate_hz: float
    review_pose_rate_hz: float

    def __post_init__(self) -> None:
        for key, low, high, note in (("face_rate_hz", 0, 240, "[0, 240] Hz (0: every frame)"),
                                     ("review_pose_rate_hz", 1e-9, 120, "(0, 120] Hz (pose_rate_hz = 0: no body)"),
                                     ("pose_rate_hz", 0, 120, "[0, 120] Hz (0: no body landmarks)"),
                                     ("min_detection_confidence", 0, 1, "[0, 1]"),
                                     ("min_tracking_confidence", 0, 1, "[0, 1]")):
            if not low <= getattr(self, key) <= high:
                raise ConfigError(f"[perception] {key} = {getattr(self, key)}: must lie in {note}")


@dataclass(frozen=True)
class DiarizationConfig:
    """Mono diarization (conversation/diarize.py); units and sources in [diarization] of defaults.toml."""

    chunk_s: float
    shrink_frames: float
    min_speakers: int
    max_speakers: int
    reseg_iterations: int
    smooth_s: float
    switch_penalty: float
    overlap_margin: float
    min_overlap_s: float
    me_min_mouth_activity: float
    min_chunk_s: float
    affinity_keep: float
    merge_bic_lambda: float
    min_cluster_share: float
    count_gap_weight: float
    embeddings: str = "mfcc"
    engine: str = "neural"  # "neural": the trained pipeline for files; "mfcc": the model-free one (conversation/diarize.py)
    live_engine: str = "neural"  # the same choice for a live session's shared microphone (conversation/neural_live.py)
    # the trained pipeline (conversation/neural_diarize.py)
    nn_step_s: float = 2.5
    nn_cluster_threshold: float = 0.5
    nn_min_cluster_share: float = 0.05
    nn_min_clean_s: float = 0.5
    nn_trim_s: float = 0.0
    nn_embed_every: int = 4
    nn_min_heard: float = 0.3
    nn_audible_db: float = 6.0  # segment edges only on frames this far above the background (0: off)
    nn_floor_rise_db_per_s: float = 1.0  # the background's minimum tracking, as [vad] floor_rise_db_per_s
    nn_cut_pause_s: float = 0.0  # inaudible stretches longer than this inside a speaker's run are cut (0: kept)
    nn_both_ways: bool = True  # a second voice's run-on cut where the time-reversed segmentation ends it
    nn_fill_threshold: float = 0.0  # Silero VAD probability: its speech the model missed goes to the nearest heard speaker (0: off)
    nn_gate_db: float = 0.0  # spectral gating before segmentation: the background lowered this much (0: off)
    nn_threads: int = 2
    nn_clustering: str = "ahc"  # "ahc" (average linkage) or "vbx" (community-1's, conversation/vbx.py)
    nn_vbx_threshold: float = 0.6; nn_vbx_fa: float = 0.07; nn_vbx_fb: float = 0.8; nn_vbx_min_clean_s: float = 2.0

    def __post_init__(self) -> None:
        if (self.embeddings not in ("mfcc", "dvector") or {self.engine, self.live_engine} - {"neural", "mfcc"}
                or self.nn_clustering not in ("vbx", "ahc")):
            raise ConfigError(f"[diarization] embeddings = {self.embeddings!r}, engine = {self.engine!r}, live_engine = "
                              f"{self.live_engine!r}, nn_clustering = {self.nn_clustering!r}: must be \"mfcc\"/\"dvector\", "
                              "the engines \"neural\"/\"mfcc\", \"vbx\"/\"ahc\"")
        if not 1 <= self.min_speakers <= self.max_speakers <= MAX_SPEAKERS:
            raise ConfigError(f"[diarization] min_speakers = {self.min_speakers}, max_speakers = "
                              f"{self.max_speakers}: need 1 <= min_speakers <= max_speakers <= {MAX_SPEAKERS}")
        if not 0.2 <= self.chunk_s <= 30:
            raise ConfigError(f"[diarization] chunk_s = {self.chunk_s}: must lie in [0.2, 30] s")
        if not 0 <= self.reseg_iterations <= 20:
            raise ConfigError(f"[diarization] reseg_iterations = {self.reseg_iterations}: must lie in [0, 20]")
        if not 0 < self.affinity_keep <= 1:
            raise ConfigError(f"[diarization] affinity_keep = {self.affinity_keep}: must lie in (0, 1]")
        for key in ("shrink_frames", "smooth_s", "switch_penalty", "overlap_margin", "min_overlap_s", "min_chunk_s",
                    "merge_bic_lambda", "min_cluster_share", "count_gap_weight"):
            if not getattr(self, key) >= 0:
                raise ConfigError(f"[diarization] {key} = {getattr(self, key)}: must be >= 0")
        for key, lo, hi in (("nn_step_s", 0.1, 10), ("nn_cluster_threshold", 1e-9, 2 - 1e-9), ("nn_threads", 1, 64),
                            ("nn_min_cluster_share", 0, 0.999), ("nn_embed_every", 1, 8), ("nn_min_heard", 0, 1),
                            ("nn_trim_s", 0, 0.5), ("nn_min_clean_s", 0, 10), ("nn_vbx_threshold", 1e-9, 2),
                            ("nn_vbx_fa", 1e-6, 100), ("nn_vbx_fb", 1e-6, 100), ("nn_vbx_min_clean_s", 0, 10),
                            ("nn_audible_db", 0, 40), ("nn_floor_rise_db_per_s", 0, 20),
                            ("nn_cut_pause_s", 0, 10), ("nn_fill_threshold", 0, 0.99),
                            ("nn_gate_db", 0, 60)):
            if not lo <= getattr(self, key) <= hi:
                raise ConfigError(f"[diarization] {key} = {getattr(self, key)}: must lie in [{lo:g}, {hi:g}]")


@dataclass(frozen=True)
class PostureConfig:
    """Open posture (cues/posture.py); lengths in shoulder widths (sw); units and sources in [posture] of defaults.toml."""

    min_visibility: float
    cross_margin_sw: float
    torso_top_sw: float
    torso_bottom_sw: float
    forearm_gap_sw: float
    clasp_distance_sw: float
    chest_top_sw: float
    chest_bottom_sw: float
    chest_half_width_sw: float
    behind_m: float
    raise_margin_sw: float
    baseline_percentile: float

    def __post_init__(self) -> None:
        if not 0 <= self.min_visibility <= 1:
            raise ConfigError(f"[posture] min_visibility = {self.min_visibility}: must lie in [0, 1]")
        if not 0 <= self.baseline_percentile <= 100:
            raise ConfigError(f"[posture] baseline_percentile = {self.baseline_percentile}: must lie in [0, 100]")
        for top, bottom in (("torso_top_sw", "torso_bottom_sw"), ("chest_top_sw", "chest_bottom_sw")):
            if not getattr(self, top) < getattr(self, bottom):
                raise ConfigError(f"[posture] {top} = {getattr(self, top)} must be < {bottom} = {getattr(self, bottom)}")
        for key in ("cross_margin_sw", "forearm_gap_sw", "clasp_distance_sw", "chest_half_width_sw", "behind_m",
                    "raise_margin_sw"):
            if not getattr(self, key) >= 0:
                raise ConfigError(f"[posture] {key} = {getattr(self, key)}: must be >= 0")


@dataclass(frozen=True)
class CueConfig:
    """Face cues from the camera (attunement/cues/); units and sources in [cues] of defaults.toml."""

    iris_diameter_mm: float
    eyeball_radius_mm: float
    camera_hfov_deg: float
    camera_yaw_offset_deg: float
    camera_pitch_offset_deg: float
    fit_robust_mm: float
    contact_on_deg: float
    contact_off_deg: float
    contact_min_s: float
    contact_bridge_s: float
    blink_openness: float
    baseline_s: float
    baseline_min_frames: int
    baseline_min_share: float
    baseline_max_head_deg: float
    calibration_accept_deg: float
    calibration_max_shift_deg: float
    self_accept_deg: float
    self_max_shift_deg: float
    self_min_support: float
    lowered_lid_ratio: float
    closed_hold_s: float
    lean_margin: float
    lean_release: float
    lean_hold_s: float
    gesture_min_hz: float
    gesture_max_hz: float
    gesture_return_ratio: float
    nod_min_deg: float
    shake_min_deg: float
    shake_min_swings: int
    gap_fill_s: float
    mouth_closed_percentile: float

    def __post_init__(self) -> None:
        if not 0 < self.camera_hfov_deg < 180:
            raise ConfigError(f"[cues] camera_hfov_deg = {self.camera_hfov_deg}: must lie in (0, 180) degrees")
        for key in ("iris_diameter_mm", "eyeball_radius_mm", "fit_robust_mm", "baseline_s", "nod_min_deg",
                    "shake_min_deg"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"[cues] {key} = {getattr(self, key)}: must be > 0")
        if not 0 <= self.contact_on_deg <= self.contact_off_deg <= 90:
            raise ConfigError(f"[cues] contact_on_deg = {self.contact_on_deg}, contact_off_deg = "
                              f"{self.contact_off_deg}: need 0 <= on <= off <= 90 degrees")
        if not 0 <= self.lean_release < self.lean_margin < 1:
            raise ConfigError(f"[cues] lean_release = {self.lean_release}, lean_margin = {self.lean_margin}: "
                              "need 0 <= release < margin < 1")
        if not 0 < self.gesture_min_hz < self.gesture_max_hz:
            raise ConfigError(f"[cues] gesture_min_hz = {self.gesture_min_hz}, gesture_max_hz = "
                              f"{self.gesture_max_hz}: need 0 < min < max")
        for key in ("blink_openness", "baseline_min_share", "gesture_return_ratio", "self_min_support",
                    "lowered_lid_ratio"):
            if not 0 <= getattr(self, key) <= 1:
                raise ConfigError(f"[cues] {key} = {getattr(self, key)}: must lie in [0, 1]")
        for key in ("contact_min_s", "contact_bridge_s", "lean_hold_s", "gap_fill_s", "baseline_max_head_deg",
                    "calibration_accept_deg", "calibration_max_shift_deg", "self_accept_deg", "self_max_shift_deg",
                    "baseline_min_frames", "closed_hold_s"):
            if not getattr(self, key) >= 0:
                raise ConfigError(f"[cues] {key} = {getattr(self, key)}: must be >= 0")
        if self.shake_min_swings < 2:
            raise ConfigError(f"[cues] shake_min_swings = {self.shake_min_swings}: must be >= 2")
        if not 0 <= self.mouth_closed_percentile <= 100:
            raise ConfigError(f"[cues] mouth_closed_percentile = {self.mouth_closed_percentile}: must lie in [0, 100]")


@dataclass(frozen=True)
class RehearsalConfig:
    """Rehearsal pacing and echo suppression (session/rehearsal/measure.py, session/runners/pacing.py); units and
    sources in the [rehearse] section of defaults.toml. Times in s, levels in dB."""

    end_silence_s: float
    min_answer_s: float
    line_pause_s: float
    echo_margin_db: float
    echo_delay_s: float
    ref_floor_db: float
    onset_margin_db: float
    onset_s: float
    refill_s: float
    min_user_s: float

    def __post_init__(self) -> None:
        for key, value in dataclasses.asdict(self).items():
            if not 0 <= value <= 60:
                raise ConfigError(f"[rehearse] {key} = {value}: must lie in [0, 60]")


@dataclass(frozen=True)
class WordsConfig:
    """What was said (perception/asr.py, conversation/language.py); units and sources in [words] of defaults.toml."""

    transcribe: bool
    keep_words: bool
    threads: int
    max_piece_s: float
    join_gap_s: float
    min_piece_s: float
    pad_s: float
    min_level_db: float
    tokens_per_s: float
    max_batch: int
    boost: float
    reflection_min_overlap: float
    reflection_max_delay_s: float
    question_monologue_s: float

    def __post_init__(self) -> None:
        if not 1 <= self.threads <= 64 or not 1 <= self.max_batch <= 64:
            raise ConfigError(f"[words] threads = {self.threads}, max_batch = {self.max_batch}: must lie in [1, 64]")
        if not 0 <= self.min_piece_s < self.max_piece_s:
            raise ConfigError(f"[words] min_piece_s = {self.min_piece_s}: must lie in [0, max_piece_s)")
        for key, lo, hi in (("max_piece_s", 1, 30), ("join_gap_s", 0, 600), ("pad_s", 0, 600), ("tokens_per_s", 1, 30),
                            ("reflection_max_delay_s", 0, 600), ("question_monologue_s", 0, 600),
                            ("min_level_db", -120, 0), ("reflection_min_overlap", 1e-9, 1), ("boost", 0, 10)):
            if not lo <= getattr(self, key) <= hi:
                raise ConfigError(f"[words] {key} = {getattr(self, key)}: must lie in [{lo:g}, {hi:g}]")
