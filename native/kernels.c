/* C reference versions of attunement's hot kernels (per sample, per frame, per segment).
 *
 * Used only as a correctness oracle in tests (tests/test_native.py) and as the
 * speed-of-light line in benchmarks (benchmarks/bench_kernels.py); the package never
 * loads this. Each function mirrors one numba kernel, same arguments, same arithmetic.
 */
#include <math.h>
#include <stdlib.h>
#include <stdint.h>

/* perception/vad_kernels.py: _highpass. Biquad, transposed direct form II, float64 state. */
void highpass(const float *x, int64_t n, const double *coef, double *state, float *out)
{
    const double b0 = coef[0], b1 = coef[1], b2 = coef[2], a1 = coef[3], a2 = coef[4];
    double z1 = state[0], z2 = state[1];
    for (int64_t i = 0; i < n; i++) {
        const double xi = x[i];
        const double y = b0 * xi + z1;
        z1 = b1 * xi - a1 * y + z2;
        z2 = b2 * xi - a2 * y;
        out[i] = (float)y;
    }
    state[0] = z1;
    state[1] = z2;
}

/* perception/vad_kernels.py: _frame_energy_db. 10*log10(mean(x^2) + 1e-12) per whole frame. */
void frame_energy_db(const float *x, int64_t frames, int64_t frame_len, float *out)
{
    for (int64_t f = 0; f < frames; f++) {
        double acc = 0.0;
        const float *p = x + f * frame_len;
        for (int64_t i = 0; i < frame_len; i++)
            acc += (double)p[i] * (double)p[i];
        out[f] = (float)(10.0 * log10(acc / (double)frame_len + 1e-12));
    }
}

/* conversation/speakers.py: _suppress_leak. speech/out are uint8 [channels, frames], row-major.
 * Row by row, as the numba kernel: the loudest speaking level of each frame, then each channel against it. */
void suppress_leak(const uint8_t *speech, const float *level_db, int64_t channels, int64_t frames,
                   float margin_db, uint8_t *out)
{
    float *loudest = malloc((size_t)(frames > 0 ? frames : 1) * sizeof(float));
    if (!loudest)
        return;
    for (int64_t t = 0; t < frames; t++)
        loudest[t] = -INFINITY;
    for (int64_t c = 0; c < channels; c++)
        for (int64_t t = 0; t < frames; t++) {  /* branch-free, so gcc vectorises it as LLVM does numba's */
            const float l = level_db[c * frames + t];
            loudest[t] = ((speech[c * frames + t] != 0) & (l > loudest[t])) ? l : loudest[t];
        }
    for (int64_t c = 0; c < channels; c++)
        for (int64_t t = 0; t < frames; t++)
            out[c * frames + t] = (speech[c * frames + t] != 0) & (level_db[c * frames + t] >= loudest[t] - margin_db);
    free(loudest);
}

/* cues/headpose.py: _top_eigenvector4. Cyclic Jacobi on a symmetric 4x4 (m is not changed). */
static void top_eigenvector4(const double m[4][4], double out[4])
{
    double a[4][4], v[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            a[i][j] = m[i][j];
            v[i][j] = i == j ? 1.0 : 0.0;
        }
    for (int sweep = 0; sweep < 30; sweep++) {
        double off = 0.0;
        for (int p = 0; p < 3; p++)
            for (int q = p + 1; q < 4; q++)
                off += a[p][q] * a[p][q];
        if (off < 1e-30 * (1.0 + a[0][0] * a[0][0] + a[1][1] * a[1][1] + a[2][2] * a[2][2] + a[3][3] * a[3][3]))
            break;
        for (int p = 0; p < 3; p++)
            for (int q = p + 1; q < 4; q++) {
                if (a[p][q] == 0.0)
                    continue;
                const double theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                const double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < 4; k++) {
                    const double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 4; k++) {
                    const double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 4; k++) {
                    const double vkp = v[k][p], vkq = v[k][q];
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
    }
    int best = 0;
    for (int k = 1; k < 4; k++)
        if (a[k][k] > a[best][best])
            best = k;
    for (int k = 0; k < 4; k++)
        out[k] = v[k][best];
}

/* cues/headpose.py: _similarity. Weighted Horn fit dst ~ s R src + t; src, dst [k, 3]; rot [3, 3]. */
static double similarity(const double *src, const double *dst, const double *w, int64_t k, double *rot, double *trans)
{
    double wsum = 0.0, cs[3] = {0, 0, 0}, cd[3] = {0, 0, 0}, sm[3][3] = {{0}}, var = 0.0, n[4][4], q[4];
    for (int64_t i = 0; i < k; i++) {
        wsum += w[i];
        for (int j = 0; j < 3; j++) {
            cs[j] += w[i] * src[3 * i + j];
            cd[j] += w[i] * dst[3 * i + j];
        }
    }
    for (int j = 0; j < 3; j++) {
        cs[j] /= wsum;
        cd[j] /= wsum;
    }
    for (int64_t i = 0; i < k; i++)
        for (int a = 0; a < 3; a++) {
            const double da = src[3 * i + a] - cs[a];
            var += w[i] * (da * da);
            for (int b = 0; b < 3; b++)
                sm[a][b] += w[i] * da * (dst[3 * i + b] - cd[b]);
        }
    n[0][0] = sm[0][0] + sm[1][1] + sm[2][2];
    n[0][1] = n[1][0] = sm[1][2] - sm[2][1];
    n[0][2] = n[2][0] = sm[2][0] - sm[0][2];
    n[0][3] = n[3][0] = sm[0][1] - sm[1][0];
    n[1][1] = sm[0][0] - sm[1][1] - sm[2][2];
    n[1][2] = n[2][1] = sm[0][1] + sm[1][0];
    n[1][3] = n[3][1] = sm[2][0] + sm[0][2];
    n[2][2] = -sm[0][0] + sm[1][1] - sm[2][2];
    n[2][3] = n[3][2] = sm[1][2] + sm[2][1];
    n[3][3] = -sm[0][0] - sm[1][1] + sm[2][2];
    top_eigenvector4((const double (*)[4])n, q);
    const double q0 = q[0], qx = q[1], qy = q[2], qz = q[3];
    rot[0] = q0 * q0 + qx * qx - qy * qy - qz * qz;
    rot[1] = 2.0 * (qx * qy - q0 * qz);
    rot[2] = 2.0 * (qx * qz + q0 * qy);
    rot[3] = 2.0 * (qy * qx + q0 * qz);
    rot[4] = q0 * q0 - qx * qx + qy * qy - qz * qz;
    rot[5] = 2.0 * (qy * qz - q0 * qx);
    rot[6] = 2.0 * (qz * qx - q0 * qy);
    rot[7] = 2.0 * (qz * qy + q0 * qx);
    rot[8] = q0 * q0 - qx * qx - qy * qy + qz * qz;
    double cov = 0.0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            cov += rot[3 * b + a] * sm[a][b];
    const double s = cov / var;
    for (int a = 0; a < 3; a++)
        trans[a] = cd[a] - s * (rot[3 * a] * cs[0] + rot[3 * a + 1] * cs[1] + rot[3 * a + 2] * cs[2]);
    return s;
}

/* cues/headpose.py: _line_of_sight. */
static void line_of_sight(const double *view, double *out)
{
    const double vx = view[0], vy = view[1], vz = view[2], k = 1.0 / (1.0 + vz);
    out[0] = 1.0 - vx * vx * k; out[1] = -vx * vy * k; out[2] = vx;
    out[3] = -vx * vy * k; out[4] = 1.0 - vy * vy * k; out[5] = vy;
    out[6] = -vx; out[7] = -vy; out[8] = vz;
}

/* cues/headpose.py: fit_head_pose (_fit, then _to_camera). faces float32 [n, 478, 3]; idx [k] into the
 * 478 points; canon [k, 3]; outputs app, rot [n, 3, 3], view, trans [n, 3], scale, resid [n]. k <= 478. */
void fit_head_pose(const float *faces, int64_t n, const int64_t *idx, int64_t k, const double *canon,
                   double robust, int64_t iterations, double focal, double cx, double cy,
                   double *app, double *rot, double *view, double *scale, double *trans, double *resid)
{
    double dst[478 * 3], w[478], r[478], los[9];
    for (int64_t f = 0; f < n; f++) {
        double *R = app + 9 * f, *T = trans + 3 * f;
        int ok = 1;
        for (int64_t i = 0; i < k; i++) {
            for (int j = 0; j < 3; j++)
                dst[3 * i + j] = faces[(f * 478 + idx[i]) * 3 + j];
            if (!(isfinite(dst[3 * i]) && isfinite(dst[3 * i + 1]) && isfinite(dst[3 * i + 2])))
                ok = 0;
        }
        if (!ok) {
            for (int j = 0; j < 9; j++)
                R[j] = NAN;
            T[0] = T[1] = T[2] = scale[f] = resid[f] = NAN;
        } else {
            double s = 0.0, total = 0.0;
            for (int64_t i = 0; i < k; i++)
                w[i] = 1.0;
            for (int64_t it = 0; it < iterations + 1; it++) {
                s = similarity(canon, dst, w, k, R, T);
                total = 0.0;
                for (int64_t i = 0; i < k; i++) {
                    double e2 = 0.0;
                    for (int a = 0; a < 3; a++) {
                        const double p = s * (R[3 * a] * canon[3 * i] + R[3 * a + 1] * canon[3 * i + 1]
                                              + R[3 * a + 2] * canon[3 * i + 2]) + T[a];
                        e2 += (p - dst[3 * i + a]) * (p - dst[3 * i + a]);
                    }
                    r[i] = sqrt(e2) / s;
                    total += r[i] * r[i];
                    const double u = r[i] / robust;
                    w[i] = 1.0 / (1.0 + u * u);
                }
            }
            scale[f] = s;
            resid[f] = sqrt(total / (double)k);
        }
        double *V = view + 3 * f, *C = rot + 9 * f;
        if (focal > 0) {
            const double vx = (T[0] - cx) / focal, vy = (T[1] - cy) / focal, norm = sqrt(vx * vx + vy * vy + 1.0);
            V[0] = vx / norm; V[1] = vy / norm; V[2] = 1.0 / norm;
        } else {
            V[0] = 0.0; V[1] = 0.0; V[2] = 1.0;
        }
        if (!isfinite(T[0]))
            V[0] = V[1] = V[2] = NAN;
        line_of_sight(V, los);
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                C[3 * a + b] = los[3 * a] * R[b] + los[3 * a + 1] * R[3 + b] + los[3 * a + 2] * R[6 + b];
    }
}

/* conversation/turn_kernels.py: _bridge. Returns the number of merged segments. */
#define EPS_S 1e-9
int64_t bridge_pauses(const double *starts, const double *ends, const int32_t *speakers, int64_t n,
                      double bridge_pause_s, double *out_s, double *out_e, int32_t *out_k)
{
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        if (m > 0 && out_k[m - 1] == speakers[i]) {
            const double pause = starts[i] - out_e[m - 1];
            if (pause <= EPS_S || pause < bridge_pause_s - EPS_S) {
                if (ends[i] > out_e[m - 1])
                    out_e[m - 1] = ends[i];
                continue;
            }
        }
        out_s[m] = starts[i];
        out_e[m] = ends[i];
        out_k[m] = speakers[i];
        m++;
    }
    return m;
}

/* conversation/turn_kernels.py: _floor. kind/holder/offset/overlap [n] pre-filled (0, -1, 0, 0). */
int64_t run_floor(const double *starts, const double *ends, const int32_t *speakers, int64_t n,
                  double backchannel_max_s, double min_holdover_s, double min_continue_s,
                  int8_t *kind, int32_t *holder, double *offset, double *overlap,
                  int32_t *turn_k, double *turn_s, double *turn_e)
{
    enum { FIRST, CONTINUE, GAP, SMOOTH_OVERLAP, INTERRUPTION, OVERLAP_TRANSFER, BACKCHANNEL, ATTEMPT };
    if (n == 0)
        return 0;
    int32_t h = speakers[0];
    double h_end = ends[0];
    kind[0] = FIRST;
    turn_k[0] = h;
    turn_s[0] = starts[0];
    int64_t m = 1;
    for (int64_t i = 1; i < n; i++) {
        const int32_t b = speakers[i];
        const double start = starts[i], end = ends[i];
        holder[i] = h;
        if (b == h) {
            kind[i] = CONTINUE;
            offset[i] = start - h_end > 0.0 ? start - h_end : 0.0;
            h_end = h_end > end ? h_end : end;
            continue;
        }
        if (start >= h_end - EPS_S) {
            kind[i] = GAP;
        } else if (end <= h_end + EPS_S) {
            kind[i] = end - start <= backchannel_max_s + EPS_S ? BACKCHANNEL : ATTEMPT;
            overlap[i] = end - start;
            continue;
        } else {
            const double holdover = h_end - start;
            if (holdover < min_holdover_s - EPS_S)
                kind[i] = SMOOTH_OVERLAP;
            else if (end - h_end >= min_continue_s - EPS_S)
                kind[i] = INTERRUPTION;
            else
                kind[i] = OVERLAP_TRANSFER;
            overlap[i] = holdover;
        }
        offset[i] = start - h_end;
        turn_e[m - 1] = h_end;
        turn_k[m] = b;
        turn_s[m] = start;
        m++;
        h = b;
        h_end = end;
    }
    turn_e[m - 1] = h_end;
    return m;
}
