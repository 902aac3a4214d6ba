// A minimal test harness for the native kernel tests: CK_TEST registers a test, CK_CHECK records a
// failure with a message and keeps going (up to a limit per test), the runner prints one line per
// test and ends with "native: N passed, M failed". Arguments filter tests by substring.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace convkit::test {

class Context {
 public:
  void fail(const std::string& message);
  void skip(const std::string& reason) { skipped_ = reason; }
  bool failed() const { return failures_ > 0; }
  int failures() const { return failures_; }
  const std::string& skipped() const { return skipped_; }
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  int failures_ = 0;
  std::string skipped_;
  std::vector<std::string> messages_;
};

using TestFn = void (*)(Context&);

struct Registrar {
  Registrar(const char* name, TestFn fn);
};

// Deterministic generator (xorshift64*) so every run tests the same inputs.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  // Uniform in [-1, 1).
  float uniform() { return static_cast<float>(static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0); }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

}  // namespace convkit::test

#define CK_CONCAT_INNER(a, b) a##b
#define CK_CONCAT(a, b) CK_CONCAT_INNER(a, b)

#define CK_TEST(name)                                                          \
  static void name(::convkit::test::Context& ck_ctx);                          \
  static ::convkit::test::Registrar CK_CONCAT(ck_registrar_, name)(#name, name); \
  static void name(::convkit::test::Context& ck_ctx)

// Records a failure with a streamed message when cond is false.
#define CK_CHECK(cond, msg)                                                             \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::ostringstream ck_os;                                                         \
      ck_os << __FILE__ << ":" << __LINE__ << ": " << #cond << ": " << msg;             \
      ck_ctx.fail(ck_os.str());                                                         \
    }                                                                                   \
  } while (0)
