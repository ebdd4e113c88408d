// circa: which vector instructions the host lends the golden model's kernels. The scalar kernels are the reference;
// a vector kernel computes the same integers (tests/core/test_circulant.cpp, tests/core/test_vector_kernels.cpp).
#pragma once

namespace circa {

// True when the host runs AVX2 and CIRCA_NO_AVX2 is unset or "0" (set it to time or debug the scalar kernels).
// Read once per process.
bool host_has_avx2();

}  // namespace circa
