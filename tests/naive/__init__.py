"""Slow, obvious references for every public kernel wrapper (stumpy's tests/naive.py).

Each is written from the definition in the wrapper's docstring and docs/ (metrics.md, cues.md,
posture.md, diarization.md) in plain Python or numpy, loop by loop where that is clearest, and
never line by line after the kernel, so a wrong algorithm shows. The tests next to each module
compare the kernel with its reference on hand-made, random (seeded) and NaN-laden input:

    from tests import naive
    np.testing.assert_array_equal(bool_runs(flags)[0], naive.bool_runs(flags)[0])

One module per stage; every name is re-exported here under the public wrapper's name.
"""

from .conversation import (analyze_turns, box_smooth, bridge_pauses, chunk_stats, glr_distances, kmeans_cosine,
                           lstm_cell, lstm_embedding, mfcc, mouth_activity, prune_affinity, refill_masked, run_floor,
                           second_speaker, spectral_clusters, speech_chunks, suppress_leak, viterbi, window_votes)
from .demo import gaze_slide, lid_weight, rasterize, resonate, resonator
from .evaluation import diarization_error
from .face import (angle_to, direction, equal_runs, eye_contact, eye_gaze_frame, head_pose_frame, held_runs,
                   iris_diameter_px, lean_events, line_of_sight, line_of_sight_one, mouth_opening, pose_angle_frame,
                   pose_angles, swing_events, yaw_pitch)
from .perception import (audible_frames, bool_runs, decide_frames, extend_speech, fill_sounding_pauses,
                         frame_energy_db, highpass, landmark_array, level_gate, rising_floor, runs, segments_to_frames,
                         smooth_frames, speech_segments, suppress_echo)
from .posture import behind, either, posture, posture_frame, segment_distance

__all__ = ["analyze_turns", "angle_to", "audible_frames", "behind", "bool_runs", "box_smooth",
           "bridge_pauses", "chunk_stats", "decide_frames", "diarization_error", "direction", "either",
           "equal_runs", "extend_speech", "eye_contact", "eye_gaze_frame", "fill_sounding_pauses",
           "frame_energy_db", "gaze_slide", "glr_distances", "head_pose_frame", "held_runs", "highpass",
           "iris_diameter_px", "kmeans_cosine", "landmark_array", "lean_events", "level_gate", "lid_weight",
           "line_of_sight", "line_of_sight_one", "lstm_cell", "lstm_embedding", "mfcc", "mouth_activity",
           "mouth_opening", "pose_angle_frame", "pose_angles", "posture", "posture_frame", "prune_affinity",
           "rasterize", "rising_floor", "refill_masked", "resonate", "resonator", "run_floor", "runs", "second_speaker",
           "segment_distance", "segments_to_frames", "smooth_frames", "spectral_clusters", "speech_chunks",
           "speech_segments", "suppress_echo", "suppress_leak", "swing_events", "viterbi", "window_votes",
           "yaw_pitch"]
