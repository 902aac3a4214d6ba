#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "tests/harness.h"

namespace convkit::test {
namespace {

struct Entry {
  const char* name;
  TestFn fn;
};

std::vector<Entry>& registry() {
  static std::vector<Entry> tests;
  return tests;
}

constexpr int kMaxMessagesPerTest = 10;

}  // namespace

void Context::fail(const std::string& message) {
  ++failures_;
  if (static_cast<int>(messages_.size()) < kMaxMessagesPerTest) messages_.push_back(message);
}

Registrar::Registrar(const char* name, TestFn fn) { registry().push_back({name, fn}); }

}  // namespace convkit::test

int main(int argc, char** argv) {
  using convkit::test::Context;
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& t : convkit::test::registry()) {
    bool selected = argc <= 1;
    for (int i = 1; i < argc; ++i) selected = selected || std::strstr(t.name, argv[i]) != nullptr;
    if (!selected) continue;
    Context ctx;
    const auto start = std::chrono::steady_clock::now();
    try {
      t.fn(ctx);
    } catch (const std::exception& e) {
      ctx.fail(std::string("uncaught exception: ") + e.what());
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!ctx.skipped().empty() && !ctx.failed()) {
      ++skipped;
      std::printf("skip %s (%s)\n", t.name, ctx.skipped().c_str());
    } else if (ctx.failed()) {
      ++failed;
      std::printf("FAIL %s (%d failures, %.0f ms)\n", t.name, ctx.failures(), ms);
      for (const auto& m : ctx.messages()) std::printf("    %s\n", m.c_str());
    } else {
      ++passed;
      std::printf("ok   %s (%.0f ms)\n", t.name, ms);
    }
    std::fflush(stdout);
  }
  std::printf("native: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}
