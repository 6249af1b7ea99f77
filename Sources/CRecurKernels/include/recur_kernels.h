// Recur's fused kernels: vectorised activations and one pass per timestep over the gates of
// RNN, LSTM and GRU cells, forward and backward.
//
// Conventions
// - B: batch rows, H: hidden size. Row-major; a gate row of an LSTM is [i | f | g | o], of a
//   GRU [r | z | n], each block H floats (PyTorch's gate order).
// - `lengths` (may be NULL) gives each row's valid length. At step t, a row with
//   t >= lengths[b] is padding: its state passes through unchanged, its output is 0 and its
//   gate gradients are 0 (PyTorch packed-sequence semantics; the same rule serves both
//   directions because the reverse direction starts from the initial state at the row's
//   last valid step).
// - Activations are given by `RecurActivation`. Derivatives are taken from the activated
//   value y, so backward needs only what forward stored.
// - Every function is built twice, for AVX2+FMA and for the baseline CPU, and the version
//   is chosen once at run time.
#ifndef RECUR_KERNELS_H
#define RECUR_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RECUR_ACT_TANH = 0,
    RECUR_ACT_RELU = 1,
    RECUR_ACT_SIGMOID = 2,
    /// Keras 2: clip(0.2 x + 0.5, 0, 1).
    RECUR_ACT_HARD_SIGMOID = 3,
    RECUR_ACT_IDENTITY = 4,
} RecurActivation;

/// 1 when the AVX2+FMA versions are in use.
int recur_kernels_use_avx2(void);

/// 1 when the CPU has AVX-512 F, BW, DQ and VL (the kernels then use 512-bit vectors).
int recur_cpu_has_avx512(void);

/// y[i] = act(x[i]); x and y may alias. Max relative error about 2e-7 for tanh/sigmoid.
void recur_activate(int act, const float *x, float *y, long n);
/// dx[i] = dy[i] * act'(x) where y = act(x) is given. dx may alias dy.
void recur_activate_backward(int act, const float *y, const float *dy, float *dx, long n);
/// y[i] = exp(x[i]).
void recur_exp(const float *x, float *y, long n);

/// One row of softmax cross-entropy over n classes: g = scale * (softmax(x) - onehot(target)),
/// returns logsumexp(x) - x[target] (the row's loss, unscaled).
float recur_softmax_xent_row(const float *x, float *g, long n, long target, float scale);

// Flush subnormal floats to zero (FTZ and DAZ) on the calling thread when on != 0; returns the previous setting.
int recur_flush_subnormals(int on);

// ---- The packed GEMM of the recurrent step ----
// A weight is laid out once per sequence in the step kernel's panels; every step then
// multiplies a block of batch rows by it with no further copying. Each element of C is the
// sum over k in order 0..<K, so a row's result does not depend on the other rows computed
// with it (the batch can be split between threads without changing any number).

/// Columns per packed panel for the instruction set in use (32 AVX-512, 16 AVX2, 8 baseline).
int recur_packed_panel_width(void);
/// Floats needed by the packed form of a [K, N] matrix (N rounded up to whole panels).
long recur_packed_size(int K, int N);
/// Packs B [K, N], element (k, n) at src[k * sk + n * sn], into `packed`
/// (recur_packed_size(K, N) floats).
void recur_pack(int K, int N, const float *src, long sk, long sn, float *packed);
/// C[M, N] = A[M, K] x B (accumulate == 0) or C += A x B, for B packed by recur_pack.
/// A and C are row-major with row strides lda and ldc.
void recur_packed_gemm(int M, int N, int K, const float *A, long lda, const float *packed, float *C,
                       long ldc, int accumulate);

// ---- Vanilla RNN: h_t = act(pre_t), pre_t = x W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh ----

/// gates: [B, H] pre-activations in, act(pre) out. h_next: [B, H]. out: rows of stride ldo.
void recur_rnn_forward_step(int B, int H, int t, const int32_t *lengths, float *gates,
                            const float *h_prev, float *h_next, float *out, int ldo, int act);
/// dy: [B, lddy] output gradient at t (NULL: none). dh: [B, H] in: dL/dh_t from later steps;
/// out: the carried part of dL/dh_{t-1} (padding rows keep theirs, others get 0; the caller
/// then adds dgates W_hh). dgates: [B, H] gradient of the pre-activation.
void recur_rnn_backward_step(int B, int H, int t, const int32_t *lengths, const float *gates,
                             const float *dy, int lddy, float *dh, float *dgates, int act);

// ---- LSTM: gates [i f g o] ----
/// gates: [B, 4H] pre-activations in, activated out. c_next = f c_prev + i g,
/// act_c = act(c_next), h_next = o act_c.
void recur_lstm_forward_step(int B, int H, int t, const int32_t *lengths, float *gates,
                             const float *c_prev, float *c_next, float *act_c,
                             const float *h_prev, float *h_next, float *out, int ldo,
                             int gate_act, int act);
/// dh as in the RNN step. dc: [B, H] in: dL/dc_t, out: dL/dc_{t-1}. dgates: [B, 4H].
void recur_lstm_backward_step(int B, int H, int t, const int32_t *lengths, const float *gates,
                              const float *c_prev, const float *act_c, const float *dy,
                              int lddy, float *dh, float *dc, float *dgates, int gate_act,
                              int act);

// ---- GRU, reset after the recurrent product (PyTorch, Keras reset_after=True) ----
// r = σ(xr + hr), z = σ(xz + hz), n = act(xn + r hn), h = (1 - z) n + z h_prev,
// where x* = W_i* x + b_i* and h* = W_h* h_prev + b_h*.

/// gates: [B, 3H] input projections in, [r z n] out. hp: [B, 3H] recurrent projections.
void recur_gru_forward_step(int B, int H, int t, const int32_t *lengths, float *gates,
                            const float *hp, const float *h_prev, float *h_next, float *out,
                            int ldo, int gate_act, int act);
/// dgi: [B, 3H] gradient of the input projections; dgh: [B, 3H] of the recurrent ones.
/// dh out: the carried part of dL/dh_{t-1} (z dh for valid rows); the caller adds dgh W_hh.
void recur_gru_backward_step(int B, int H, int t, const int32_t *lengths, const float *gates,
                             const float *hp, const float *h_prev, const float *dy, int lddy,
                             float *dh, float *dgi, float *dgh, int gate_act, int act);

// ---- GRU, reset before the recurrent product (Cho et al., Keras reset_after=False) ----
// n = act(xn + W_hn (r h_prev) + b_hn). Forward is split around the n-block product.

/// r, z from gates[:, 0:2H] + hp[:, 0:2H] (activated in place); rh = r h_prev.
void recur_gru_rb_forward_rz(int B, int H, float *gates, const float *hp, const float *h_prev,
                             float *rh, int gate_act);
/// n from gates[:, 2H:3H] + hpn, where hpn: [B, ldhpn] = (r h_prev) W_hn^T + b_hn; then h.
void recur_gru_rb_forward_n(int B, int H, int t, const int32_t *lengths, float *gates,
                            const float *hpn, int ldhpn, const float *h_prev, float *h_next,
                            float *out, int ldo, int act);
/// First half of backward: dn, dz. Writes dgi[:, 1H:3H], dgh[:, 1H:3H] (dgh n-block is the
/// gradient of W_hn (r h) + b_hn) and dh := carried part (z dh, or dh for padding).
void recur_gru_rb_backward_n(int B, int H, int t, const int32_t *lengths, const float *gates,
                             const float *h_prev, const float *dy, int lddy, float *dh,
                             float *dgi, float *dgh, int gate_act, int act);
/// Second half: given drh = dgh_n W_hn (gradient of r h_prev), writes the r-block of dgi and
/// dgh and adds r drh to dh. The caller then adds dgh[:, 0:2H] W_h{r,z}.
void recur_gru_rb_backward_r(int B, int H, int t, const int32_t *lengths, const float *gates,
                             const float *h_prev, const float *drh, float *dh, float *dgi,
                             float *dgh, int gate_act);

#ifdef __cplusplus
}
#endif
#endif
