// Builds kernels_impl.inc for AVX-512 and for AVX2+FMA (x86-64), and for the baseline CPU,
// and routes each public entry point to the best version this CPU supports.
#include "recur_kernels.h"

#include <stddef.h>
#include <math.h>

// The per-row loops of the step kernels work on disjoint H-long segments of the gate,
// state and gradient buffers; clang cannot prove that (the offsets depend on H), checks at
// run time and, when in doubt, runs the scalar loop. This tells it the segments never overlap.
#if defined(__clang__)
#define RK_ROW_LOOP _Pragma("clang loop vectorize(assume_safety)")
#else
#define RK_ROW_LOOP
#endif

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define RECUR_HAVE_AVX2_BUILD 1
#define RK_SUFFIX(name) name##_avx2
#define RK_VW 8
#define RK_MR 6
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "kernels_impl.inc"
#include "gemm_impl.inc"
#pragma clang attribute pop
#undef RK_SUFFIX
#undef RK_VW
#undef RK_MR

// 512-bit vectors: on CPUs with full-width AVX-512 units (e.g. AMD Zen 5) twice the
// elementwise throughput of the AVX2 build.
#define RK_SUFFIX(name) name##_avx512
#define RK_VW 16
#define RK_MR 8
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma"), min_vector_width(512))), apply_to = function)
#include "kernels_impl.inc"
#include "gemm_impl.inc"
#pragma clang attribute pop
#undef RK_SUFFIX
#undef RK_VW
#undef RK_MR
#endif

#define RK_SUFFIX(name) name##_generic
#define RK_VW 4
#define RK_MR 6
#include "kernels_impl.inc"
#include "gemm_impl.inc"
#undef RK_SUFFIX
#undef RK_VW
#undef RK_MR

int recur_kernels_use_avx2(void) {
#ifdef RECUR_HAVE_AVX2_BUILD
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
#else
    return 0;
#endif
}

int recur_cpu_has_avx512(void) {
#ifdef RECUR_HAVE_AVX2_BUILD
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    }
    return cached;
#else
    return 0;
#endif
}

#ifdef RECUR_HAVE_AVX2_BUILD
#define DISPATCH(name, args) \
    do { if (recur_cpu_has_avx512()) name##_avx512 args; else if (recur_kernels_use_avx2()) name##_avx2 args; \
         else name##_generic args; } while (0)
#else
#define DISPATCH(name, args) name##_generic args
#endif

void recur_activate(int act, const float *x, float *y, long n) {
    DISPATCH(activate_row, (act, x, y, n));
}

void recur_activate_backward(int act, const float *y, const float *dy, float *dx, long n) {
    DISPATCH(dact_row, (act, y, dy, dx, n));
}

void recur_exp(const float *x, float *y, long n) { DISPATCH(exp_vec, (x, y, n)); }

float recur_softmax_xent_row(const float *x, float *g, long n, long target, float scale) {
#ifdef RECUR_HAVE_AVX2_BUILD
    if (recur_cpu_has_avx512()) return softmax_xent_row_avx512(x, g, n, target, scale);
    if (recur_kernels_use_avx2()) return softmax_xent_row_avx2(x, g, n, target, scale);
#endif
    return softmax_xent_row_generic(x, g, n, target, scale);
}

int recur_packed_panel_width(void) {
#ifdef RECUR_HAVE_AVX2_BUILD
    if (recur_cpu_has_avx512()) return 32;
    if (recur_kernels_use_avx2()) return 16;
#endif
    return 8;
}

long recur_packed_size(int K, int N) {
    long nr = recur_packed_panel_width();
    return (long)K * ((N + nr - 1) / nr) * nr;
}

void recur_pack(int K, int N, const float *src, long sk, long sn, float *packed) {
    DISPATCH(pack_b, (K, N, src, sk, sn, packed));
}

void recur_packed_gemm(int M, int N, int K, const float *A, long lda, const float *packed, float *C,
                       long ldc, int accumulate) {
    DISPATCH(packed_gemm, (M, N, K, A, lda, packed, C, ldc, accumulate));
}

void recur_rnn_forward_step(int B, int H, int t, const int32_t *lengths, float *gates,
                            const float *h_prev, float *h_next, float *out, int ldo, int act) {
    DISPATCH(rnn_forward_step, (B, H, t, lengths, gates, h_prev, h_next, out, ldo, act));
}

void recur_rnn_backward_step(int B, int H, int t, const int32_t *lengths, const float *gates,
                             const float *dy, int lddy, float *dh, float *dgates, int act) {
    DISPATCH(rnn_backward_step, (B, H, t, lengths, gates, dy, lddy, dh, dgates, act));
}

void recur_lstm_forward_step(int B, int H, int t, const int32_t *lengths, float *gates,
                             const float *c_prev, float *c_next, float *act_c,
                             const float *h_prev, float *h_next, float *out, int ldo,
                             int gate_act, int act) {
    DISPATCH(lstm_forward_step, (B, H, t, lengths, gates, c_prev, c_next, act_c, h_prev, h_next,
                                 out, ldo, gate_act, act));
}

void recur_lstm_backward_step(int B, int H, int t, const int32_t *lengths, const float *gates,
                              const float *c_prev, const float *act_c, const float *dy,
                              int lddy, float *dh, float *dc, float *dgates, int gate_act,
                              int act) {
    DISPATCH(lstm_backward_step, (B, H, t, lengths, gates, c_prev, act_c, dy, lddy, dh, dc,
                                  dgates, gate_act, act));
}

void recur_gru_forward_step(int B, int H, int t, const int32_t *lengths, float *gates,
                            const float *hp, const float *h_prev, float *h_next, float *out,
                            int ldo, int gate_act, int act) {
    DISPATCH(gru_forward_step, (B, H, t, lengths, gates, hp, h_prev, h_next, out, ldo, gate_act,
                                act));
}

void recur_gru_backward_step(int B, int H, int t, const int32_t *lengths, const float *gates,
                             const float *hp, const float *h_prev, const float *dy, int lddy,
                             float *dh, float *dgi, float *dgh, int gate_act, int act) {
    DISPATCH(gru_backward_step, (B, H, t, lengths, gates, hp, h_prev, dy, lddy, dh, dgi, dgh,
                                 gate_act, act));
}

void recur_gru_rb_forward_rz(int B, int H, float *gates, const float *hp, const float *h_prev,
                             float *rh, int gate_act) {
    DISPATCH(gru_rb_forward_rz, (B, H, gates, hp, h_prev, rh, gate_act));
}

void recur_gru_rb_forward_n(int B, int H, int t, const int32_t *lengths, float *gates,
                            const float *hpn, int ldhpn, const float *h_prev, float *h_next,
                            float *out, int ldo, int act) {
    DISPATCH(gru_rb_forward_n, (B, H, t, lengths, gates, hpn, ldhpn, h_prev, h_next, out, ldo,
                                act));
}

void recur_gru_rb_backward_n(int B, int H, int t, const int32_t *lengths, const float *gates,
                             const float *h_prev, const float *dy, int lddy, float *dh,
                             float *dgi, float *dgh, int gate_act, int act) {
    DISPATCH(gru_rb_backward_n, (B, H, t, lengths, gates, h_prev, dy, lddy, dh, dgi, dgh,
                                 gate_act, act));
}

void recur_gru_rb_backward_r(int B, int H, int t, const int32_t *lengths, const float *gates,
                             const float *h_prev, const float *drh, float *dh, float *dgi,
                             float *dgh, int gate_act) {
    DISPATCH(gru_rb_backward_r, (B, H, t, lengths, gates, h_prev, drh, dh, dgi, dgh, gate_act));
}

/* Flush-to-zero and denormals-are-zero on the calling thread (x86 MXCSR FTZ and DAZ bits,
 * arm64 FPCR.FZ). Returns whether they were on before. */
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
int recur_flush_subnormals(int on) {
    unsigned int csr = _mm_getcsr();
    int previous = (csr & 0x8040u) == 0x8040u;
    _mm_setcsr(on ? (csr | 0x8040u) : (csr & ~0x8040u));
    return previous;
}
#elif defined(__aarch64__)
#include <stdint.h>
int recur_flush_subnormals(int on) {
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    int previous = (int)((fpcr >> 24) & 1u);
    fpcr = on ? (fpcr | (1ull << 24)) : (fpcr & ~(1ull << 24));
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
    return previous;
}
#else
int recur_flush_subnormals(int on) { (void)on; return 0; }
#endif
