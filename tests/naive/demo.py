"""References of attunement.demo: the warp kernels (warp_kernels.py) and the voice resonator (conversation.py)."""

from __future__ import annotations

import math

import cv2
import numpy as np


def rasterize(tri_d, tri_s, tri_z, layer, h, w, empty_layer=2):
    """Maps, z-buffer and layer buffer by numpy, one triangle at a time over every pixel centre."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    map_x, map_y = xs.copy(), ys.copy()
    zbuf = np.full((h, w), np.inf)
    lbuf = np.full((h, w), empty_layer, np.int32)
    cx, cy = xs + 0.5, ys + 0.5
    for t in range(len(tri_d)):
        if not (np.isfinite(tri_d[t]).all() and np.isfinite(tri_s[t]).all()):
            continue
        (x0, y0), (x1, y1), (x2, y2) = tri_d[t].tolist()
        det = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0)
        if abs(det) < 1e-9:
            continue
        l1 = ((cx - x0) * (y2 - y0) - (cy - y0) * (x2 - x0)) / det
        l2 = ((x1 - x0) * (cy - y0) - (y1 - y0) * (cx - x0)) / det
        l0 = 1.0 - l1 - l2
        z = l0 * tri_z[t, 0] + l1 * tri_z[t, 1] + l2 * tri_z[t, 2]
        inside = (l0 >= -1e-7) & (l1 >= -1e-7) & (l2 >= -1e-7)
        win = inside & ((layer[t] < lbuf) | ((layer[t] == lbuf) & (z < zbuf)))
        lbuf[win], zbuf[win] = layer[t], z[win]
        map_x[win] = (l0 * tri_s[t, 0, 0] + l1 * tri_s[t, 1, 0] + l2 * tri_s[t, 2, 0] - 0.5)[win]
        map_y[win] = (l0 * tri_s[t, 0, 1] + l1 * tri_s[t, 1, 1] + l2 * tri_s[t, 2, 1] - 0.5)[win]
    return map_x, map_y, zbuf, lbuf


def lid_weight(poly, shift, radius, x, y):
    """The lid weight by numpy: inside from OpenCV's polygon test; the distance to the outline after
    shrinking the coordinates along the shift as documented, over radius / 4, capped at 1."""
    if cv2.pointPolygonTest(poly.astype(np.float32).reshape(-1, 1, 2), (float(x), float(y)), False) <= 0:
        return 0.0
    base, glen = 0.25 * radius, math.hypot(*shift)
    g = np.asarray(shift, float) / glen if glen else np.array([1.0, 0.0])
    alpha = min(1.0, base / (1.5 * glen)) if glen else 1.0
    squeeze = np.eye(2) + (alpha - 1) * np.outer(g, g)
    a = poly @ squeeze.T
    e = np.roll(a, -1, axis=0) - a
    p = squeeze @ np.array([x, y])
    ll = (e ** 2).sum(axis=1)
    u = np.clip(np.where(ll > 0, ((p - a) * e).sum(axis=1) / np.where(ll > 0, ll, 1), 0), 0, 1)
    return float(min(1.0, np.hypot(*(p - a - u[:, None] * e).T).min() / base))


def gaze_slide(map_x, map_y, eye, centre, shift, radius):
    """The iris slide by bisection: q = p - t shift with t = w(q), then a bilinear read of the old maps."""
    h, w = map_x.shape
    out_x, out_y = map_x.copy(), map_y.copy()
    xa, xb = max(math.floor(eye[:, 0].min()), 0), min(math.ceil(eye[:, 0].max()), w - 1)
    ya, yb = max(math.floor(eye[:, 1].min()), 0), min(math.ceil(eye[:, 1].max()), h - 1)
    fall = max(radius, 1.5 * math.hypot(*shift))

    def weight(qx, qy):
        r = math.hypot(qx - centre[0], qy - centre[1])
        iris = 1.0 if r <= radius else max(0.0, 1.0 - (r - radius) / fall)
        return min(iris, lid_weight(eye, shift, radius, qx, qy))

    for py in range(ya, yb + 1):
        for px in range(xa, xb + 1):
            cx, cy = px + 0.5, py + 0.5
            if lid_weight(eye, shift, radius, cx, cy) <= 0:
                continue
            lo, hi = 0.0, 1.0  # t - w(p - t shift) rises with t
            for _ in range(60):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if mid < weight(cx - mid * shift[0], cy - mid * shift[1]) else (lo, mid)
            t = (lo + hi) / 2
            fx = min(max(cx - t * shift[0] - 0.5 - xa, 0.0), xb - xa - 1e-6)
            fy = min(max(cy - t * shift[1] - 0.5 - ya, 0.0), yb - ya - 1e-6)
            ix, iy = int(fx), int(fy)
            ax, ay = fx - ix, fy - iy
            for src, dst in ((map_x, out_x), (map_y, out_y)):
                block = src[ya + iy:ya + iy + 2, xa + ix:xa + ix + 2]
                dst[py, px] = ((1 - ay) * ((1 - ax) * block[0, 0] + ax * block[0, 1])
                               + ay * ((1 - ax) * block[1, 0] + ax * block[1, 1]))
    return out_x, out_y


def resonator(x, a, b, c):
    """y[n] = a[n] x[n] + b[n] y[n-1] + c[n] y[n-2] from rest, sample by sample."""
    out, y1, y2 = [], 0.0, 0.0
    for i in range(len(x)):
        y = a[i] * x[i] + b[i] * y1 + c[i] * y2
        out.append(y)
        y1, y2 = y, y1
    return np.array(out)


def resonate(x, *, freq_hz, bandwidth_hz, rate):
    """Klatt's (1980) two-pole resonator: poles at radius exp(-pi B / rate) and angle 2 pi F / rate,
    scaled to unity gain at 0 Hz, i.e. y = (1 - b - c) x + b y[-1] + c y[-2] with b = 2 r cos(angle),
    c = -r^2; F and B may change every sample. Built from the poles with numpy's polynomial."""
    n = len(x)
    freq = np.broadcast_to(np.asarray(freq_hz, np.float64), (n,))
    bw = np.broadcast_to(np.asarray(bandwidth_hz, np.float64), (n,))
    a, b, c = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        pole = np.exp(-np.pi * bw[i] / rate) * np.exp(2j * np.pi * freq[i] / rate)
        denominator = np.poly([pole, np.conj(pole)]).real          # 1 - b z^-1 - c z^-2
        b[i], c[i] = -denominator[1], -denominator[2]
        a[i] = denominator.sum()                                   # H(z = 1) = a / (1 - b - c) = 1
    return resonator(np.asarray(x, np.float64), a, b, c)
