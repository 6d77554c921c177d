// One direction of a MinGRU or MinLSTM layer, forward and backward: the gates and the linear recurrence
// h_t = a_t * h_{t-1} + b_t in one pass per step, every unit of the batch in parallel (threads take blocks of
// sequences and walk time inside, so no thread waits for another between steps). The input projection stays torch's
// (one matrix product for all steps). See rnnlab/nn/fused_minimal.py for the equations and the Python twin.
#include <ATen/Parallel.h>
#include <torch/extension.h>

#include <cmath>
#include <vector>

namespace {

template <typename T>
inline T sigmoid(T a) {
  return T(1) / (T(1) + std::exp(-a));
}

// g(a) = a + 1/2 for a >= 0, sigmoid(a) below, and its derivative
template <typename T>
inline T positive(T a) {
  return a >= T(0) ? a + T(0.5) : sigmoid(a);
}

template <typename T>
inline T positive_grad(T a) {
  if (a >= T(0)) return T(1);
  const T s = sigmoid(a);
  return s * (T(1) - s);
}

// The coefficients of one unit: keep = a_t, candidate = n_t, so that h_t = keep * h_{t-1} + (1 - keep) * candidate.
// MinGRU (gates = 2): keep = 1 - sigmoid(a_z). MinLSTM (gates = 3): keep = s_f / (s_f + s_i).
template <typename T>
inline T keep_of(const T* row, int64_t j, int64_t hidden, int64_t gates) {
  if (gates == 2) return T(1) - sigmoid(row[j]);
  const T sf = sigmoid(row[j]), si = sigmoid(row[hidden + j]);
  return sf / (sf + si);
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
          if (masked && !pm[t * batch + b]) {
            for (int64_t j = 0; j < hidden; ++j) out[j] = h[j];
            continue;
          }
          const scalar_t* row = px + (t * batch + b) * gates * hidden;
          const scalar_t* candidate = row + (gates - 1) * hidden;
          for (int64_t j = 0; j < hidden; ++j) {
            const scalar_t keep = keep_of(row, j, hidden, gates);
            h[j] = keep * h[j] + (scalar_t(1) - keep) * positive(candidate[j]);
            out[j] = h[j];
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
            for (int64_t j = 0; j < gates * hidden; ++j) d_row[j] = 0;
            for (int64_t j = 0; j < hidden; ++j) carry[j] += g_row[j];
            continue;
          }
          const scalar_t* previous = t > 0 ? ps + ((t - 1) * batch + b) * hidden : p0 + b * hidden;
          const scalar_t* candidate = row + (gates - 1) * hidden;
          for (int64_t j = 0; j < hidden; ++j) {
            const scalar_t g = g_row[j] + carry[j];
            const scalar_t a_n = candidate[j];
            const scalar_t n = positive(a_n);
            scalar_t keep;
            const scalar_t d_keep = g * (previous[j] - n);
            if (gates == 2) {
              const scalar_t z = sigmoid(row[j]);
              keep = scalar_t(1) - z;
              d_row[j] = -d_keep * z * (scalar_t(1) - z);  // keep = 1 - z
            } else {
              const scalar_t sf = sigmoid(row[j]), si = sigmoid(row[hidden + j]);
              const scalar_t total = sf + si;
              keep = sf / total;
              const scalar_t scale = d_keep / (total * total);
              d_row[j] = scale * si * sf * (scalar_t(1) - sf);  // d keep / d sf = si / total^2
              d_row[hidden + j] = -scale * sf * si * (scalar_t(1) - si);  // d keep / d si = -sf / total^2
            }
            d_row[(gates - 1) * hidden + j] = g * (scalar_t(1) - keep) * positive_grad(a_n);
            carry[j] = keep * g;
          }
        }
        for (int64_t j = 0; j < hidden; ++j) pd0[b * hidden + j] = carry[j];
      }
    });
  });
  return {d_x, d_h0};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &minimal_forward, "MinGRU/MinLSTM direction forward (gates and scan in one pass)");
  m.def("backward", &minimal_backward, "MinGRU/MinLSTM direction backward (gates and scan in one pass)");
}
