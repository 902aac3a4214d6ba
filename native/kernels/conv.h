// Convolution over 1, 2 or 3 spatial dimensions (text, images, video), NCHW / NCDHW, float32.
//
//   y[n][co][o] = bias[co] + sum_{ci in group(co), t} w[co][ci - g0][t] * x[n][ci][o * stride - pad_begin + t * dilation]
//
// for every output position o and kernel tap t (per spatial axis), reading zero outside the input.
// Lower-rank convolutions are the 3-D case with leading size-1 axes (a 2-D convolution has
// in[0] = out[0] = kernel[0] = 1), so one set of kernels serves conv1d, conv2d and conv3d.
// Weights are [co][ci / groups][kd][kh][kw] (PyTorch's layout). Padding may differ per side
// (PyTorch's 'same' with an even kernel).
//
// Implementations (conv_gemm.cc picks): convolution as a matrix multiplication, the GEMM's B panels
// packed straight from the input (implicit im2col: no column buffer); 1x1 stride-1 convolutions
// are a plain GEMM on the input, strided 1x1 ones a GEMM on the gathered input (conv_subsample.h);
// depthwise convolutions (groups == in channels) a direct kernel
// (conv_depthwise.cc); 3x3 stride-1 layers with >= 8 input channels Winograd F(2x2, 3x3)
// (conv_winograd.cc); stride-1 layers with few taps per output direct loops (conv_direct.cc); strided
// first layers (few input channels) direct loops with the output channels in the vector lanes
// (conv_stem.cc).
// Backward-data for stride 1 is a convolution of dy with the flipped,
// transposed weights; otherwise a GEMM into a bounded column tile and col2im. Backward-weight runs
// through Winograd's transforms or the direct loops where those apply, otherwise a GEMM of dy with
// the column tile. conv_ref.cc is the direct-loop reference.
#pragma once

#include <cstddef>

#include "kernels/gemm.h"

namespace convkit {

struct ConvParams {
  size_t batch = 0;
  size_t in_channels = 0;
  size_t out_channels = 0;
  size_t groups = 1;
  size_t in[3] = {1, 1, 1};         // input size per spatial axis (d, h, w)
  size_t out[3] = {1, 1, 1};        // output size per axis
  size_t kernel[3] = {1, 1, 1};
  size_t stride[3] = {1, 1, 1};
  size_t pad_begin[3] = {0, 0, 0};
  size_t pad_end[3] = {0, 0, 0};
  size_t dilation[3] = {1, 1, 1};

  size_t in_spatial() const { return in[0] * in[1] * in[2]; }
  size_t out_spatial() const { return out[0] * out[1] * out[2]; }
  size_t kernel_taps() const { return kernel[0] * kernel[1] * kernel[2]; }
  size_t in_per_group() const { return in_channels / groups; }
  size_t out_per_group() const { return out_channels / groups; }
  // Rows of the im2col matrix of one group: (ci, kd, kh, kw).
  size_t col_rows() const { return in_per_group() * kernel_taps(); }
  size_t x_size() const { return batch * in_channels * in_spatial(); }
  size_t y_size() const { return batch * out_channels * out_spatial(); }
  size_t w_size() const { return out_channels * col_rows(); }
};

// Throws Error(kArgument / kShape) unless the sizes are positive, channels divide by groups, and
// out[a] == floor((in[a] + pad_begin[a] + pad_end[a] - dilation[a] * (kernel[a] - 1) - 1) / stride[a]) + 1.
void validate_conv(const ConvParams& p);

// y = act(conv(x, w) + bias) (bias may be null; act: none, ReLU or ReLU6).
void conv_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y, Activation act);

// dx = gradient of the input (overwritten).
void conv_backward_data(const ConvParams& p, const float* dy, const float* w, float* dx);

// dw (overwritten) and, when dbias is not null, dbias (overwritten) = sum of dy over batch and space.
void conv_backward_weight(const ConvParams& p, const float* x, const float* dy, float* dw, float* dbias);

// dbias[co] = sum of dy over batch and space (overwritten).
void conv_bias_gradient(const ConvParams& p, const float* dy, float* dbias);

// Direct-loop references (double accumulation), for tests.
void conv_forward_ref(const ConvParams& p, const float* x, const float* w, const float* bias, float* y, Activation act);
void conv_backward_data_ref(const ConvParams& p, const float* dy, const float* w, float* dx);
void conv_backward_weight_ref(const ConvParams& p, const float* x, const float* dy, float* dw, float* dbias);

// Which forward algorithm may run, for tests and benchmarks (process-wide; default kAuto).
// kGemm never uses Winograd; kWinograd uses it for every shape it supports, whatever the channels.
enum class ConvAlgo { kAuto, kGemm, kWinograd };
void conv_set_algo(ConvAlgo algo);
ConvAlgo conv_algo();

// Winograd F(2x2, 3x3) (conv_winograd.cc): 3x3, stride 1, undilated 2-D, groups 1; under kAuto
// only with >= 8 input channels, outputs of at least 4x4 and 128 tiles per call.
bool conv_winograd_applicable(const ConvParams& p);
void conv_winograd_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y, Activation act);
// dw (overwritten) through the same transforms; the same shapes as the forward.
void conv_winograd_backward_weight(const ConvParams& p, const float* x, const float* dy, float* dw);

// Direct loops (conv_direct.cc) for 2-D stride-1 undilated layers with few taps per output
// (ci x kh x kw <= 400, kw <= 7: LeNet-5, a first 3-channel layer), where packing GEMM columns costs
// more than the multiply-adds; only under kAuto.
bool conv_direct_applicable(const ConvParams& p);
void conv_direct_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y, Activation act);
void conv_direct_backward_weight(const ConvParams& p, const float* x, const float* dy, float* dw);
// Whether the direct weight gradient beats the GEMM for an applicable shape (few (co, ci) pairs, or
// many taps on small planes).
bool conv_direct_weight_grad_preferred(const ConvParams& p);
// Test hook (not thread-safe): floats of padded images the weight gradient holds per chunk; 0 restores the default.
void conv_direct_set_padded_chunk_floats(size_t floats);

// Strided 2-D undilated layers with at most 4 input channels and a multiple of 16 output channels
// (up to 256; a network's first layer), forward only: direct loops with the output channels in the
// vector lanes (conv_stem.cc); only under kAuto.
bool conv_stem_applicable(const ConvParams& p);
void conv_stem_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y, Activation act);

// Depthwise convolution (groups == in_channels; any channel multiplier), direct loops.
bool conv_is_depthwise(const ConvParams& p);
void conv_depthwise_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y, Activation act);
void conv_depthwise_backward_data(const ConvParams& p, const float* dy, const float* w, float* dx);
void conv_depthwise_backward_weight(const ConvParams& p, const float* x, const float* dy, float* dw, float* dbias);

}  // namespace convkit
