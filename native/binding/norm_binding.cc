// Entry points of the norm family (see exports.h).
#include "binding/exports.h"

namespace convkit::binding {

void register_norm(Napi::Env /*env*/, Napi::Object /*exports*/) {}

}  // namespace convkit::binding
