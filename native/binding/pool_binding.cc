// Entry points of the pool family (see exports.h).
#include "binding/exports.h"

namespace convkit::binding {

void register_pool(Napi::Env /*env*/, Napi::Object /*exports*/) {}

}  // namespace convkit::binding
