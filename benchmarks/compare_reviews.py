"""Do two source trees give the same reviews? `attune review` (and `attune demo`) with each tree's
package on the real recordings in ../shared/data and the demo, JSON compared field by field apart
from what names the machine or the moment (paths, versions).

    python benchmarks/compare_reviews.py --before /path/to/old/src [--after src] [--jobs 2]

Used to show that a restructuring changed no result (the architecture issue); prints one line per
input and exits 1 if any differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import data_dir  # noqa: E402

#: Keys whose values name the machine or the moment, not the result.
VOLATILE = {"input", "path", "version", "attunement_version", "created_utc", "folder"}


def inputs() -> list[tuple[str, list[str]]]:
    """(label, attune arguments) for every input compared."""
    data = data_dir()
    out: list[tuple[str, list[str]]] = [("demo", ["demo", "--no-video"]), ("demo-video", ["demo"])]
    if data is None:
        return out
    conv = data / "conversations"
    out.append(("sample.wav", ["review", str(conv / "sample.wav"), "--no-save"]))
    out.append(("sample.wav --rttm", ["review", str(conv / "sample.wav"), "--rttm", str(conv / "sample.rttm"),
                                      "--no-save"]))
    out += [(f"ami/{p.name}", ["review", str(p), "--no-save"]) for p in sorted((conv / "ami").glob("*.wav"))]
    videos = sorted((data / "video").glob("*.mp4")) + sorted((data / "video" / "gaze").glob("*.mp4"))
    out += [(f"video/{p.name}", ["review", str(p), "--no-save"]) for p in videos]
    return out


def run(src: Path, args: list[str], out: Path) -> dict:
    """The review JSON that the package under `src` writes for `args`."""
    env = dict(os.environ, PYTHONPATH=str(src), XDG_DATA_HOME=str(out.parent / "xdg"))
    cmd = [sys.executable, "-m", "attunement", *args, "--json", str(out), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=out.parent, timeout=900)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-500:]}
    return json.loads(out.read_text())


def strip(x):
    """`x` without the volatile keys, floats rounded to 1 µs-level noise."""
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [strip(v) for v in x]
    if isinstance(x, float):
        return round(x, 6)
    return x


def differences(a, b, path: str = "") -> list[str]:
    """Where `a` and `b` differ, as paths into the JSON (at most a few)."""
    if type(a) is not type(b):
        return [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += differences(a.get(k), b.get(k), f"{path}.{k}") if k in a and k in b else [f"{path}.{k} missing"]
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [d for i, (u, v) in enumerate(zip(a, b)) for d in differences(u, v, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, type=Path, help="the old tree's src folder")
    ap.add_argument("--after", default=REPO / "src", type=Path, help="the new tree's src folder (default: this one)")
    ap.add_argument("--jobs", type=int, default=2, help="reviews run at once (default 2)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="attune-compare-"))
    jobs = []
    for i, (label, cmd) in enumerate(inputs()):
        for side, src in (("before", args.before), ("after", args.after)):
            (work / f"{i}-{side}").mkdir()
            jobs.append((label, side, src, cmd, work / f"{i}-{side}" / "out.json"))
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda j: (j[0], j[1], run(j[2], j[3], j[4])), jobs))
    by = {}
    for label, side, data in results:
        by.setdefault(label, {})[side] = strip(data)
    same = 0
    for label, sides in by.items():
        diff = differences(sides["before"], sides["after"])
        same += not diff
        print(f"{'same' if not diff else 'DIFFERS'}  {label}" + ("" if not diff else f": {'; '.join(diff[:3])}"))
    print(f"{same} of {len(by)} inputs give the same review JSON")
    return 0 if same == len(by) else 1


if __name__ == "__main__":
    sys.exit(main())
