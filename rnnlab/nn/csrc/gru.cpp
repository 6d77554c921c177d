// The step loop of one GRU direction, forward and backward, with the gate arithmetic of each step in one pass.
// The matrix products stay torch's (at::addmm); see rnnlab/nn/fused_gru.py for the equations and the Python twin.
#include <ATen/Parallel.h>
#include <torch/extension.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

// Both through exp, which the compiler turns into glibc's vector exp (libmvec) inside the loops below. The argument
// is clamped first: under -ffast-math an exp that overflows to inf turns the division into NaN (not 0), and past
// |a| = 80 (40 for tanh) the result is 0 or 1 to float precision anyway.
template <typename T>
inline T sigmoid(T a) {
  return T(1) / (T(1) + std::exp(-std::min(std::max(a, T(-80)), T(80))));
}

template <typename T>
inline T tanh_(T a) {
  return T(2) / (T(1) + std::exp(-2 * std::min(std::max(a, T(-40)), T(40)))) - T(1);
}

// One sequence's gate arithmetic for one step, over its H units. Separate functions with restrict-qualified rows, so
// that the compiler knows the rows do not overlap and vectorises the unit loop (exp through libmvec).
template <typename T>
void forward_row(const T* __restrict__ x3, const T* __restrict__ g3, T* __restrict__ h, T* __restrict__ rz,
                 T* __restrict__ n, T* __restrict__ ghn, T* __restrict__ previous, T* __restrict__ out,
                 int64_t hidden, bool inside) {
  const T keep = inside ? T(1) : T(0);
#pragma omp simd
  for (int64_t j = 0; j < hidden; ++j) {
    const T r = sigmoid(x3[j] + g3[j]);
    const T z = sigmoid(x3[hidden + j] + g3[hidden + j]);
    const T candidate = tanh_(x3[2 * hidden + j] + r * g3[2 * hidden + j]);
    const T before = h[j];
    const T after = candidate + z * (before - candidate);
    rz[j] = r;
    rz[hidden + j] = z;
    n[j] = candidate;
    ghn[j] = g3[2 * hidden + j];
    previous[j] = before;
    h[j] = before + keep * (after - before);  // past a sequence's end the state is kept
    out[j] = keep * after;
  }
}

template <typename T>
void backward_row(const T* __restrict__ d_out, const T* __restrict__ dh, const T* __restrict__ rz,
                  const T* __restrict__ n, const T* __restrict__ ghn, const T* __restrict__ previous,
                  T* __restrict__ x3, T* __restrict__ h3, T* __restrict__ direct, int64_t hidden, bool inside) {
  const T keep = inside ? T(1) : T(0);
#pragma omp simd
  for (int64_t j = 0; j < hidden; ++j) {
    const T r = rz[j], z = rz[hidden + j], c = n[j];
    const T g = (dh[j] + d_out[j]) * keep;  // ∂L/∂h_t of this step's own state
    const T dn = g * (1 - z) * (1 - c * c);
    const T dz = g * (previous[j] - c) * z * (1 - z);
    const T dr = dn * ghn[j] * r * (1 - r);
    x3[j] = dr;
    x3[hidden + j] = dz;
    x3[2 * hidden + j] = dn;
    h3[j] = dr;
    h3[hidden + j] = dz;
    h3[2 * hidden + j] = dn * r;
    direct[j] = g * z + (1 - keep) * dh[j];  // past the end, h_t = h_{t-1}
  }
}

}  // namespace

// gx (T, B, 3H) = W_ih x + b_ih for every step; h0 (B, H); w_hh (3H, H); b_hh (3H); mask (T, B) bool or empty;
// blocks: the batch is cut into this many blocks of sequences, and each thread walks time for its own block (its
// own small matrix products, no wait for the other threads between steps); 1: one block, whose matrix products
// use every thread.
// Returns out (T, B, H), h_T (B, H), and what the backward needs: rz (T, B, 2H), n, gh_n, previous (T, B, H).
std::vector<at::Tensor> gru_forward(const at::Tensor& gx, const at::Tensor& h0, const at::Tensor& w_hh,
                                    const at::Tensor& b_hh, const at::Tensor& mask, int64_t blocks) {
  const int64_t steps = gx.size(0), batch = gx.size(1), hidden = h0.size(1);
  auto rz = at::empty({steps, batch, 2 * hidden}, gx.options());
  auto n = at::empty({steps, batch, hidden}, gx.options());
  auto gh_n = at::empty({steps, batch, hidden}, gx.options());
  auto previous = at::empty({steps, batch, hidden}, gx.options());
  auto out = at::empty({steps, batch, hidden}, gx.options());
  auto h = h0.contiguous().clone();
  const auto w_hh_t = w_hh.t();
  const bool masked = mask.numel() > 0;
  const bool* pm = masked ? mask.data_ptr<bool>() : nullptr;  // (T, B)
  const int64_t grain = (batch + blocks - 1) / std::max<int64_t>(blocks, 1);
  AT_DISPATCH_FLOATING_TYPES(gx.scalar_type(), "gru_forward", [&] {
    const scalar_t* pgx = gx.data_ptr<scalar_t>();
    scalar_t* ph = h.data_ptr<scalar_t>();
    scalar_t* prz = rz.data_ptr<scalar_t>();
    scalar_t* pn = n.data_ptr<scalar_t>();
    scalar_t* pghn = gh_n.data_ptr<scalar_t>();
    scalar_t* pprev = previous.data_ptr<scalar_t>();
    scalar_t* pout = out.data_ptr<scalar_t>();
    at::parallel_for(0, batch, grain, [&](int64_t begin, int64_t end) {
      const at::NoGradGuard no_grad;  // grad mode is per thread: a worker thread starts with it on
      const int64_t rows = end - begin;
      const auto h_rows = h.narrow(0, begin, rows);  // (rows, H), updated in place step by step
      auto gh = at::empty({rows, 3 * hidden}, gx.options());
      const scalar_t* pgh = gh.data_ptr<scalar_t>();
      for (int64_t t = 0; t < steps; ++t) {
        at::addmm_out(gh, b_hh, h_rows, w_hh_t);  // (rows, 3H)
        for (int64_t b = begin; b < end; ++b) {
          const int64_t i = t * batch + b;  // (t, b)
          forward_row(pgx + i * 3 * hidden, pgh + (b - begin) * 3 * hidden, ph + b * hidden, prz + i * 2 * hidden,
                      pn + i * hidden, pghn + i * hidden, pprev + i * hidden, pout + i * hidden, hidden,
                      !masked || pm[i]);
        }
      }
    });
  });
  return {out, h, rz, n, gh_n, previous};
}

// Returns d_gx (T, B, 3H), d_gh (T, B, 3H) and dL/dh_0 (B, H); blocks as in the forward.
std::vector<at::Tensor> gru_backward(const at::Tensor& d_out, const at::Tensor& d_last, const at::Tensor& w_hh,
                                     const at::Tensor& rz, const at::Tensor& n, const at::Tensor& gh_n,
                                     const at::Tensor& previous, const at::Tensor& mask, int64_t blocks) {
  const int64_t steps = n.size(0), batch = n.size(1), hidden = n.size(2);
  auto d_gx = at::empty({steps, batch, 3 * hidden}, n.options());
  auto d_gh = at::empty({steps, batch, 3 * hidden}, n.options());
  auto dh = d_last.contiguous().clone();
  const auto d_out_c = d_out.contiguous();
  const bool masked = mask.numel() > 0;
  const bool* pm = masked ? mask.data_ptr<bool>() : nullptr;  // (T, B)
  const int64_t grain = (batch + blocks - 1) / std::max<int64_t>(blocks, 1);
  AT_DISPATCH_FLOATING_TYPES(n.scalar_type(), "gru_backward", [&] {
    const scalar_t* pdo = d_out_c.data_ptr<scalar_t>();
    scalar_t* pdh = dh.data_ptr<scalar_t>();
    const scalar_t* prz = rz.data_ptr<scalar_t>();
    const scalar_t* pn = n.data_ptr<scalar_t>();
    const scalar_t* pghn = gh_n.data_ptr<scalar_t>();
    const scalar_t* pprev = previous.data_ptr<scalar_t>();
    scalar_t* pgx = d_gx.data_ptr<scalar_t>();
    scalar_t* pgh = d_gh.data_ptr<scalar_t>();
    at::parallel_for(0, batch, grain, [&](int64_t begin, int64_t end) {
      const at::NoGradGuard no_grad;
      const int64_t rows = end - begin;
      auto dh_rows = dh.narrow(0, begin, rows);  // (rows, H): dL/dh_t, then dL/dh_{t-1}
      auto direct = at::empty({rows, hidden}, n.options());  // the part of dL/dh_{t-1} that skips W_hh
      scalar_t* pdirect = direct.data_ptr<scalar_t>();
      for (int64_t t = steps - 1; t >= 0; --t) {
        for (int64_t b = begin; b < end; ++b) {
          const int64_t i = t * batch + b;
          backward_row(pdo + i * hidden, pdh + b * hidden, prz + i * 2 * hidden, pn + i * hidden,
                       pghn + i * hidden, pprev + i * hidden, pgx + i * 3 * hidden, pgh + i * 3 * hidden,
                       pdirect + (b - begin) * hidden, hidden, !masked || pm[i]);
        }
        at::addmm_out(dh_rows, direct, d_gh.select(0, t).narrow(0, begin, rows), w_hh);  // (rows, H)
      }
    });
  });
  return {d_gx, d_gh, dh};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &gru_forward, "GRU direction forward (step loop, fused gates)");
  m.def("backward", &gru_backward, "GRU direction backward (step loop, fused gates)");
}
