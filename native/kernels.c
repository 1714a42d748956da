/* C reference versions of attunement's per-sample and per-frame kernels.
 *
 * Used only as a correctness oracle in tests (tests/test_native.py) and as the
 * speed-of-light line in benchmarks (benchmarks/bench_kernels.py); the package never
 * loads this. Each function mirrors one numba kernel, same arguments, same arithmetic.
 */
#include <math.h>
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

/* conversation/speakers.py: _suppress_leak. speech/out are uint8 [channels, frames], row-major. */
void suppress_leak(const uint8_t *speech, const float *level_db, int64_t channels, int64_t frames,
                   float margin_db, uint8_t *out)
{
    for (int64_t t = 0; t < frames; t++) {
        float loudest = -INFINITY;
        for (int64_t c = 0; c < channels; c++)
            if (speech[c * frames + t] && level_db[c * frames + t] > loudest)
                loudest = level_db[c * frames + t];
        for (int64_t c = 0; c < channels; c++)
            out[c * frames + t] = speech[c * frames + t] && level_db[c * frames + t] >= loudest - margin_db;
    }
}
