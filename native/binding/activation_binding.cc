// Entry points of the activation family (see exports.h).
#include "binding/exports.h"

namespace convkit::binding {

void register_activation(Napi::Env /*env*/, Napi::Object /*exports*/) {}

}  // namespace convkit::binding
