#include "binding/gemm_binding.h"

#include "binding/args.h"
#include "binding/exports.h"
#include "kernels/gemm.h"
#include "runtime/memory.h"
#include "runtime/isa.h"
#include "runtime/threads.h"

namespace convkit::binding {

Napi::Value gemm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 19, "_gemm");
    GemmShape s;
    s.trans_a = arg_bool(info, 0, "transA") ? Trans::kYes : Trans::kNo;
    s.trans_b = arg_bool(info, 1, "transB") ? Trans::kYes : Trans::kNo;
    s.m = arg_size(info, 2, "m");
    s.n = arg_size(info, 3, "n");
    s.k = arg_size(info, 4, "k");
    const float alpha = static_cast<float>(arg_number(info, 5, "alpha"));
    Napi::Float32Array a = arg_f32(info, 6, "a");
    const size_t a_off = arg_size(info, 7, "aOffset");
    s.lda = arg_size(info, 8, "lda");
    Napi::Float32Array b = arg_f32(info, 9, "b");
    const size_t b_off = arg_size(info, 10, "bOffset");
    s.ldb = arg_size(info, 11, "ldb");
    const float beta = static_cast<float>(arg_number(info, 12, "beta"));
    Napi::Float32Array c = arg_f32(info, 13, "c");
    const size_t c_off = arg_size(info, 14, "cOffset");
    s.ldc = arg_size(info, 15, "ldc");
    const int bias_mode = arg_int(info, 16, "biasMode", 0, 2);
    GemmEpilogue ep;
    ep.bias_mode = static_cast<BiasMode>(bias_mode);
    if (bias_mode != 0) {
      Napi::Float32Array bias = arg_f32(info, 17, "bias");
      const size_t need = bias_mode == 1 ? s.m : s.n;
      require_extent(env, bias, 0, 1, need, need, "bias");
      ep.bias = bias.Data();
    }
    ep.activation = arg_bool(info, 18, "relu") ? Activation::kRelu : Activation::kNone;
    const Isa isa = arg_is_nullish(info, 19) ? active_isa() : parse_isa(arg_string(info, 19, "isa"));
    const int threads = arg_is_nullish(info, 20) ? num_threads() : arg_int(info, 20, "threads", 1, 1024);

    validate_gemm(s, ep);
    const bool reads_ab = s.k > 0 && alpha != 0.0f;
    if (reads_ab) {
      require_extent(env, a, a_off, s.trans_a == Trans::kNo ? s.m : s.k, s.trans_a == Trans::kNo ? s.k : s.m,
                     s.lda, "a");
      require_extent(env, b, b_off, s.trans_b == Trans::kNo ? s.k : s.n, s.trans_b == Trans::kNo ? s.n : s.k,
                     s.ldb, "b");
    }
    require_extent(env, c, c_off, s.m, s.n, s.ldc, "c");
    if (beta == 0.0f && s.ldc == s.n) advise_huge_pages(c.Data() + c_off, s.m * s.n * sizeof(float));
    compute_gemm_with(isa, threads, s, alpha, reads_ab ? a.Data() + a_off : nullptr,
                      reads_ab ? b.Data() + b_off : nullptr, beta, c.Data() + c_off, ep);
    return env.Undefined();
  });
}

void register_gemm(Napi::Env env, Napi::Object exports) {
  exports.Set("_gemm", Napi::Function::New(env, gemm, "_gemm"));
}

}  // namespace convkit::binding
