"""Fast per-pixel kernels of the face warp (demo/warp.py): triangle rasterisation with a depth
buffer, and the iris slide of a gaze turn with the lids pinned."""

from __future__ import annotations

import math

import numpy as np

from .._numba import kernel


@kernel
def rasterize(tri_d, tri_s, tri_z, layer, map_x, map_y, zbuf, lbuf):
    """For every pixel centre inside a target triangle, the source point with the same barycentric
    coordinates; the lower layer wins, then the nearer (smaller z) triangle."""
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


@kernel
def gaze_slide(map_x, map_y, eye, centre, shift, radius):
    """Slide the iris by `shift` pixels inside the eye opening `eye` [k, 2] (target pixels).

    Displacement d(q) = shift * w(q), w = min(w_iris, w_lids): w_iris = 1 on the iris disk
    (`radius` about `centre`) and falls linearly to 0 over max(radius, 1.5 |shift|) beyond it;
    w_lids (`lid_weight`) = 0 on and outside the eyelids, which stay where they are. Both keep
    shift . grad w >= -2/3, so q -> q + d(q) stays one-to-one: each target pixel p reads the
    head-warp map at the q with q + d(q) = p (fixed-point iteration), and the iris texture
    moves as a whole.
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
            if lid_weight(eye, shift, radius, cx, cy) <= 0.0:
                continue
            qx, qy = cx, cy
            for _ in range(60):  # contraction by <= 2/3 per step
                r = math.hypot(qx - centre[0], qy - centre[1])
                wq = min(1.0 if r <= radius else max(0.0, 1.0 - (r - radius) / fall),
                         lid_weight(eye, shift, radius, qx, qy))
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


@kernel
def lid_weight(poly, shift, radius, x, y):
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
