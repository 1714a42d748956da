"""Fast per-pixel kernels of the face warp (demo/warp.py): triangle rasterisation with a depth
buffer, and the iris slide of a gaze turn with the lids pinned.

Each public function validates and allocates; a private numba kernel fills what it is given.
Pixel (row i, column j) has its centre at (j + 0.5, i + 0.5) in landmark coordinates."""

from __future__ import annotations

import math

import numpy as np

from .._numba import kernel


def rasterize(tri_d: np.ndarray, tri_s: np.ndarray, tri_z: np.ndarray, layer: np.ndarray, *,
              shape: tuple[int, int], empty_layer: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """remap() maps of a triangle mesh warp: (map_x, map_y float32 [h, w], depth float64 [h, w],
    winning layer int32 [h, w]) for an image of `shape` (h, w).

    tri_d : float [t, 3, 2], the triangles' corners in the target image (pixels)
    tri_s : float [t, 3, 2], the same triangles in the source image
    tri_z : float [t, 3], depth at each target corner (smaller is nearer)
    layer : int [t], each triangle's layer (a lower layer wins over a higher one)

    Every pixel centre inside a target triangle reads the source point with the same barycentric
    coordinates, from the triangle of the lowest layer and, within it, the nearest depth; a pixel no
    triangle covers reads itself (identity map, depth inf, layer `empty_layer`). Triangles with a NaN
    or infinite corner, or without area, are skipped.
    """
    tri_d, tri_s = (np.ascontiguousarray(a, np.float64) for a in (tri_d, tri_s))
    tri_z, layer = np.ascontiguousarray(tri_z, np.float64), np.ascontiguousarray(layer, np.int32)
    t = tri_d.shape[0]
    if tri_d.shape != (t, 3, 2) or tri_s.shape != (t, 3, 2) or tri_z.shape != (t, 3) or layer.shape != (t,):
        raise ValueError(f"need tri_d, tri_s [t, 3, 2], tri_z [t, 3], layer [t]; got {tri_d.shape}, "
                         f"{tri_s.shape}, {tri_z.shape}, {layer.shape}")
    h, w = shape
    if h < 0 or w < 0:
        raise ValueError(f"image shape {shape} must be (h, w) >= 0")
    map_y, map_x = np.mgrid[0:h, 0:w].astype(np.float32)
    zbuf = np.full((h, w), np.inf)
    lbuf = np.full((h, w), empty_layer, np.int32)
    _rasterize(tri_d, tri_s, tri_z, layer, map_x, map_y, zbuf, lbuf)
    return map_x, map_y, zbuf, lbuf


@kernel
def _rasterize(tri_d, tri_s, tri_z, layer, map_x, map_y, zbuf, lbuf):
    h, w = map_x.shape
    for t in range(tri_d.shape[0]):
        if not (np.isfinite(tri_d[t]).all() and np.isfinite(tri_s[t]).all()):
            continue  # NaN or infinite corners
        x0, y0 = tri_d[t, 0, 0], tri_d[t, 0, 1]
        x1, y1 = tri_d[t, 1, 0], tri_d[t, 1, 1]
        x2, y2 = tri_d[t, 2, 0], tri_d[t, 2, 1]
        det = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0)
        if abs(det) < 1e-9:
            continue  # no area
        xa = max(int(math.floor(min(x0, x1, x2) - 0.5)), 0)
        xb = min(int(math.ceil(max(x0, x1, x2) - 0.5)), w - 1)
        ya = max(int(math.floor(min(y0, y1, y2) - 0.5)), 0)
        yb = min(int(math.ceil(max(y0, y1, y2) - 0.5)), h - 1)
        lay = layer[t]
        for py in range(ya, yb + 1):
            cy = py + 0.5
            for px in range(xa, xb + 1):
                cx = px + 0.5
                l1 = ((cx - x0) * (y2 - y0) - (cy - y0) * (x2 - x0)) / det
                l2 = ((x1 - x0) * (cy - y0) - (y1 - y0) * (cx - x0)) / det
                l0 = 1.0 - l1 - l2
                if l0 < -1e-7 or l1 < -1e-7 or l2 < -1e-7:
                    continue
                z = l0 * tri_z[t, 0] + l1 * tri_z[t, 1] + l2 * tri_z[t, 2]
                if lay < lbuf[py, px] or (lay == lbuf[py, px] and z < zbuf[py, px]):
                    lbuf[py, px] = lay
                    zbuf[py, px] = z
                    # remap() addresses pixel centres at integers; landmarks put them at +0.5.
                    map_x[py, px] = l0 * tri_s[t, 0, 0] + l1 * tri_s[t, 1, 0] + l2 * tri_s[t, 2, 0] - 0.5
                    map_y[py, px] = l0 * tri_s[t, 0, 1] + l1 * tri_s[t, 1, 1] + l2 * tri_s[t, 2, 1] - 0.5


def gaze_slide(map_x: np.ndarray, map_y: np.ndarray, *, eye: np.ndarray, centre, shift, radius: float) -> None:
    """Slide the iris by `shift` pixels inside the eye opening `eye` [k, 2] (target pixels), in place
    in the remap() maps `map_x`, `map_y` (float32 [h, w], C-contiguous); `centre` (x, y) and
    `radius` (pixels) are the iris disk's where the slide starts.

    Displacement d(q) = shift * w(q), w = min(w_iris, w_lids): w_iris = 1 on the iris disk
    (`radius` about `centre`) and falls linearly to 0 over max(radius, 1.5 |shift|) beyond it;
    w_lids (`lid_weight`) = 0 on and outside the eyelids, which stay where they are. Both keep
    shift . grad w >= -2/3, so q -> q + d(q) stays one-to-one: each target pixel p reads the
    head-warp map at the q with q + d(q) = p (fixed-point iteration), and the iris texture
    moves as a whole.
    """
    for name, m in (("map_x", map_x), ("map_y", map_y)):
        if not (isinstance(m, np.ndarray) and m.dtype == np.float32 and m.ndim == 2 and m.flags.c_contiguous):
            raise TypeError(f"{name} must be a C-contiguous float32 [h, w] array, got {type(m).__name__} "
                            f"{getattr(m, 'dtype', '')}{getattr(m, 'shape', '')}")
    if map_x.shape != map_y.shape:
        raise ValueError(f"map_x {map_x.shape} and map_y {map_y.shape} must be one shape")
    eye = np.ascontiguousarray(eye, np.float64)
    centre, shift = np.asarray(centre, np.float64), np.asarray(shift, np.float64)
    if eye.ndim != 2 or eye.shape[1] != 2 or eye.shape[0] < 3 or centre.shape != (2,) or shift.shape != (2,):
        raise ValueError(f"need eye [k >= 3, 2], centre [2], shift [2]; got {eye.shape}, {centre.shape}, {shift.shape}")
    _gaze_slide(map_x, map_y, eye, centre, shift, float(radius))


@kernel
def _gaze_slide(map_x, map_y, eye, centre, shift, radius):
    """The slide of `gaze_slide`, in place.

    """
    h, w = map_x.shape
    if shift[0] == 0.0 and shift[1] == 0.0:
        return
    xa = max(int(math.floor(eye[:, 0].min())), 0)
    xb = min(int(math.ceil(eye[:, 0].max())), w - 1)
    ya = max(int(math.floor(eye[:, 1].min())), 0)
    yb = min(int(math.ceil(eye[:, 1].max())), h - 1)
    if xb <= xa or yb <= ya:
        return
    old_x = map_x[ya:yb + 1, xa:xb + 1].copy()
    old_y = map_y[ya:yb + 1, xa:xb + 1].copy()
    fall = max(radius, 1.5 * math.hypot(shift[0], shift[1]))
    for py in range(ya, yb + 1):
        for px in range(xa, xb + 1):
            cx, cy = px + 0.5, py + 0.5
            if _lid_weight(eye, shift, radius, cx, cy) <= 0.0:
                continue
            qx, qy = cx, cy
            for _ in range(60):  # contraction by <= 2/3 per step
                r = math.hypot(qx - centre[0], qy - centre[1])
                wq = min(1.0 if r <= radius else max(0.0, 1.0 - (r - radius) / fall),
                         _lid_weight(eye, shift, radius, qx, qy))
                nx, ny = cx - shift[0] * wq, cy - shift[1] * wq
                done = abs(nx - qx) + abs(ny - qy) < 1e-9
                qx, qy = nx, ny
                if done:
                    break
            # bilinear read of the old maps at q (they are affine inside each triangle)
            fx = min(max(qx - 0.5 - xa, 0.0), xb - xa - 1e-6)
            fy = min(max(qy - 0.5 - ya, 0.0), yb - ya - 1e-6)
            ix, iy = int(fx), int(fy)
            ax, ay = fx - ix, fy - iy
            map_x[py, px] = ((1 - ay) * ((1 - ax) * old_x[iy, ix] + ax * old_x[iy, ix + 1])
                             + ay * ((1 - ax) * old_x[iy + 1, ix] + ax * old_x[iy + 1, ix + 1]))
            map_y[py, px] = ((1 - ay) * ((1 - ax) * old_y[iy, ix] + ax * old_y[iy, ix + 1])
                             + ay * ((1 - ax) * old_y[iy + 1, ix] + ax * old_y[iy + 1, ix + 1]))


def lid_weight(poly: np.ndarray, shift, radius: float, x: float, y: float) -> float:
    """The lids' weight at point (x, y), pixels: 0 outside the eye opening `poly` [k, 2]; inside, the
    distance to its outline over radius / 4, capped at 1, with distances along `shift` [2] shrunk by
    min(1, (radius / 4) / (1.5 |shift|)) (see `gaze_slide`)."""
    poly = np.ascontiguousarray(poly, np.float64)
    shift = np.asarray(shift, np.float64)
    if poly.ndim != 2 or poly.shape[1] != 2 or poly.shape[0] < 3 or shift.shape != (2,):
        raise ValueError(f"need poly [k >= 3, 2] and shift [2]; got {poly.shape} and {shift.shape}")
    return float(_lid_weight(poly, shift, float(radius), float(x), float(y)))


@kernel
def _lid_weight(poly, shift, radius, x, y):
    """0 outside the eye opening `poly` [k, 2]; inside, the distance to its outline over radius / 4,
    capped at 1, with distances along `shift` shrunk by min(1, (radius / 4) / (1.5 |shift|)): the
    lids hold the sclera near the eye corners over about 1.5 |shift| along the slide, the iris
    still slides freely between the upper and lower lid, and shift . grad w >= -2/3."""
    n = poly.shape[0]
    base = 0.25 * radius
    glen = math.hypot(shift[0], shift[1])
    gx, gy, alpha = 1.0, 0.0, 1.0
    if glen > 0.0:
        gx, gy, alpha = shift[0] / glen, shift[1] / glen, min(1.0, base / (1.5 * glen))
    shrink = alpha - 1.0
    s = x * gx + y * gy
    tx, ty = x + shrink * s * gx, y + shrink * s * gy
    best = np.inf
    inside = False
    for i in range(n):
        ax, ay = poly[i, 0], poly[i, 1]
        bx, by = poly[(i + 1) % n, 0], poly[(i + 1) % n, 1]
        if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
            inside = not inside
        sa, sb = ax * gx + ay * gy, bx * gx + by * gy
        ax, ay = ax + shrink * sa * gx, ay + shrink * sa * gy
        bx, by = bx + shrink * sb * gx, by + shrink * sb * gy
        ex, ey = bx - ax, by - ay
        ll = ex * ex + ey * ey
        u = 0.0 if ll == 0.0 else min(max(((tx - ax) * ex + (ty - ay) * ey) / ll, 0.0), 1.0)
        best = min(best, math.hypot(tx - ax - u * ex, ty - ay - u * ey))
    return min(1.0, best / base) if inside else 0.0
