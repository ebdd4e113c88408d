#include "core/host_simd.hpp"

#include <cstdlib>

namespace circa {

bool host_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = [] {
    if (const char* e = std::getenv("CIRCA_NO_AVX2"); e && *e && *e != '0') return false;
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
#else
  return false;
#endif
}

}  // namespace circa
