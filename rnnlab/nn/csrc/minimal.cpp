// One direction of a MinGRU or MinLSTM layer, forward and backward: the gates and the linear recurrence
// h_t = a_t * h_{t-1} + b_t in one pass per step, every unit of the batch in parallel (threads take blocks of
// sequences and walk time inside, so no thread waits for another between steps). The input projection stays torch's
// (one matrix product for all steps). See rnnlab/nn/fused_minimal.py for the equations and the Python twin.
#include <ATen/Parallel.h>
#include <torch/extension.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

// Clamped: under -ffast-math an exp that overflows to inf turns the division into NaN (not 0); past |a| = 80 the
// result is 0 or 1 to float precision anyway.
template <typename T>
inline T sigmoid(T a) {
  return T(1) / (T(1) + std::exp(-std::min(std::max(a, T(-80)), T(80))));
}

// g(a) = a + 1/2 for a >= 0, sigmoid(a) below, and its derivative
// log(1 + e^x) without overflow
template <typename T>
inline T softplus(T x) {
  return std::max(x, T(0)) + std::log(T(1) + std::exp(-std::abs(x)));
}

// The MinLSTM's normalised forget gate s_f / (s_f + s_i), as sigmoid(log s_f - log s_i) so that it stays defined
// when both gates are closed (s_f and s_i both underflow to 0 far below a = -80).
template <typename T>
inline T normalised_forget(T a_f, T a_i) {
  return sigmoid(softplus(-a_i) - softplus(-a_f));
}

template <typename T>
inline T positive(T a) {
  return a >= T(0) ? a + T(0.5) : sigmoid(a);
}

template <typename T>
inline T positive_grad(T a) {
  const T s = sigmoid(a);
  return a >= T(0) ? T(1) : s * (T(1) - s);
}

// One sequence's step over its H units: h = keep * h + (1 - keep) * g(a_n), with
// keep = 1 - sigmoid(a_z) (MinGRU, GATES = 2) or s_f / (s_f + s_i) (MinLSTM, GATES = 3, computed stably). Restrict-qualified rows and
// no branches in the unit loop, so that the compiler vectorises it (exp through libmvec).
template <int GATES, typename T>
void forward_row(const T* __restrict__ row, T* __restrict__ h, T* __restrict__ out, int64_t hidden) {
  const T* __restrict__ candidate = row + (GATES - 1) * hidden;
#pragma omp simd
  for (int64_t j = 0; j < hidden; ++j) {
    T keep;
    if constexpr (GATES == 2) {
      keep = T(1) - sigmoid(row[j]);
    } else {
      keep = normalised_forget(row[j], row[hidden + j]);
    }
    h[j] = keep * h[j] + (T(1) - keep) * positive(candidate[j]);
    out[j] = h[j];
  }
}

// The same step backward: g = grad + carry is the whole ∂L/∂h_t; writes ∂L/∂(the row's pre-activations) and
// carry = keep * g, the gradient handed to h_{t-1}.
template <int GATES, typename T>
void backward_row(const T* __restrict__ row, const T* __restrict__ grad, const T* __restrict__ previous,
                  T* __restrict__ d_row, T* __restrict__ carry, int64_t hidden) {
  const T* __restrict__ candidate = row + (GATES - 1) * hidden;
  T* __restrict__ d_candidate = d_row + (GATES - 1) * hidden;
#pragma omp simd
  for (int64_t j = 0; j < hidden; ++j) {
    const T g = grad[j] + carry[j];
    const T a_n = candidate[j];
    const T n = positive(a_n);
    const T d_keep = g * (previous[j] - n);
    T keep;
    if constexpr (GATES == 2) {
      const T z = sigmoid(row[j]);
      keep = T(1) - z;
      d_row[j] = -d_keep * z * (T(1) - z);  // keep = 1 - z
    } else {
      keep = normalised_forget(row[j], row[hidden + j]);  // sigmoid(softplus(-a_i) - softplus(-a_f))
      const T scale = d_keep * keep * (T(1) - keep);
      d_row[j] = scale * sigmoid(-row[j]);  // d softplus(-a)/da = -sigmoid(-a)
      d_row[hidden + j] = -scale * sigmoid(-row[hidden + j]);
    }
    d_candidate[j] = g * (T(1) - keep) * positive_grad(a_n);
    carry[j] = keep * g;
  }
}

}  // namespace

// x_proj (T, B, G*H) = W_ih x + b_ih of every step; h0 (B, H); mask (T, B) bool or empty.
// Returns the states (T, B, H): past a sequence's end the state is carried unchanged.
at::Tensor minimal_forward(const at::Tensor& x_proj, const at::Tensor& h0, const at::Tensor& mask, int64_t gates) {
  const auto xp = x_proj.contiguous();
  const auto start = h0.contiguous();
  const int64_t steps = xp.size(0), batch = xp.size(1), hidden = start.size(1);
  auto states = at::empty({steps, batch, hidden}, xp.options());
  const bool masked = mask.numel() > 0;
  const bool* pm = masked ? mask.data_ptr<bool>() : nullptr;
  AT_DISPATCH_FLOATING_TYPES(xp.scalar_type(), "minimal_forward", [&] {
    const scalar_t* px = xp.data_ptr<scalar_t>();
    const scalar_t* p0 = start.data_ptr<scalar_t>();
    scalar_t* ps = states.data_ptr<scalar_t>();
    at::parallel_for(0, batch, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        std::vector<scalar_t> h(p0 + b * hidden, p0 + (b + 1) * hidden);
        for (int64_t t = 0; t < steps; ++t) {
          scalar_t* out = ps + (t * batch + b) * hidden;
          const scalar_t* row = px + (t * batch + b) * gates * hidden;
          if (masked && !pm[t * batch + b]) {  // past the sequence's end: the state is carried
            std::copy(h.begin(), h.end(), out);
          } else if (gates == 2) {
            forward_row<2>(row, h.data(), out, hidden);
          } else {
            forward_row<3>(row, h.data(), out, hidden);
          }
        }
      }
    });
  });
  return states;
}

// grad (T, B, H) = dL/d states; the forward's x_proj, h0, states and mask. Walking back in time with
// g_t = grad_t + keep_{t+1} g_{t+1}: dL/d keep_t = g_t (h_{t-1} - n_t), dL/d n_t = g_t (1 - keep_t), and through the
// gates to dL/d x_proj (T, B, G*H); dL/d h0 = keep_1 g_1.
std::vector<at::Tensor> minimal_backward(const at::Tensor& grad, const at::Tensor& x_proj, const at::Tensor& h0,
                                         const at::Tensor& states, const at::Tensor& mask, int64_t gates) {
  const auto g_out = grad.contiguous();
  const auto xp = x_proj.contiguous();
  const auto start = h0.contiguous();
  const int64_t steps = xp.size(0), batch = xp.size(1), hidden = start.size(1);
  auto d_x = at::empty_like(xp);
  auto d_h0 = at::empty_like(start);
  const bool masked = mask.numel() > 0;
  const bool* pm = masked ? mask.data_ptr<bool>() : nullptr;
  AT_DISPATCH_FLOATING_TYPES(xp.scalar_type(), "minimal_backward", [&] {
    const scalar_t* pg = g_out.data_ptr<scalar_t>();
    const scalar_t* px = xp.data_ptr<scalar_t>();
    const scalar_t* p0 = start.data_ptr<scalar_t>();
    const scalar_t* ps = states.data_ptr<scalar_t>();
    scalar_t* pdx = d_x.data_ptr<scalar_t>();
    scalar_t* pd0 = d_h0.data_ptr<scalar_t>();
    at::parallel_for(0, batch, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        std::vector<scalar_t> carry(hidden, scalar_t(0));  // keep_{t+1} g_{t+1}
        for (int64_t t = steps - 1; t >= 0; --t) {
          const scalar_t* g_row = pg + (t * batch + b) * hidden;
          const scalar_t* row = px + (t * batch + b) * gates * hidden;
          scalar_t* d_row = pdx + (t * batch + b) * gates * hidden;
          if (masked && !pm[t * batch + b]) {  // carried: keep = 1, no gate gradient
            std::fill(d_row, d_row + gates * hidden, scalar_t(0));
            for (int64_t j = 0; j < hidden; ++j) carry[j] += g_row[j];
            continue;
          }
          const scalar_t* previous = t > 0 ? ps + ((t - 1) * batch + b) * hidden : p0 + b * hidden;
          if (gates == 2) {
            backward_row<2>(row, g_row, previous, d_row, carry.data(), hidden);
          } else {
            backward_row<3>(row, g_row, previous, d_row, carry.data(), hidden);
          }
        }
        std::copy(carry.begin(), carry.end(), pd0 + b * hidden);
      }
    });
  });
  return {d_x, d_h0};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &minimal_forward, "MinGRU/MinLSTM direction forward (gates and scan in one pass)");
  m.def("backward", &minimal_backward, "MinGRU/MinLSTM direction backward (gates and scan in one pass)");
}
