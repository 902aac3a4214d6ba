// Measured core clock: a chain of dependent integer adds retires one add per cycle on every
// x86-64 core, so adds per second is the clock the core actually ran at (turbo included).
#pragma once

namespace convkit {

// GHz on the calling thread, or 0 where the measurement is not available (non-x86 builds).
double measure_clock_ghz();

}  // namespace convkit
