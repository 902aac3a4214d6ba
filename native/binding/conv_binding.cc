// Entry points of the conv family (see exports.h).
#include "binding/exports.h"

namespace convkit::binding {

void register_conv(Napi::Env /*env*/, Napi::Object /*exports*/) {}

}  // namespace convkit::binding
