// Each family of entry points registers its own exports; addon.cc only calls these. A new family
// adds its declaration here, its definition in <family>_binding.cc, and one line in addon.cc.
#pragma once

#include <napi.h>

namespace convkit::binding {

void register_runtime(Napi::Env env, Napi::Object exports);     // runtime_binding.cc
void register_gemm(Napi::Env env, Napi::Object exports);        // gemm_binding.cc
void register_conv(Napi::Env env, Napi::Object exports);        // conv_binding.cc
void register_pool(Napi::Env env, Napi::Object exports);        // pool_binding.cc
void register_norm(Napi::Env env, Napi::Object exports);        // norm_binding.cc (batch norm, LRN)
void register_activation(Napi::Env env, Napi::Object exports);  // activation_binding.cc (activations, elementwise arithmetic, softmax, losses)
void register_optim(Napi::Env env, Napi::Object exports);       // optim_binding.cc (parameter updates)

}  // namespace convkit::binding
