// circa: NumPy .npy files (format versions 1.0, 2.0 and 3.0), 1-D or 2-D, little-endian <f4 / <f8 read,
// <f4 written. Fortran order is accepted on read and transposed. Any defect throws InputError naming the file and
// the byte offset.
#pragma once

#include <string>

#include "core/matrix.hpp"

namespace circa {

Matrix read_npy(const std::string& path);
Matrix parse_npy(const std::string& bytes, const std::string& name);
// A 1-D array reads as 1 x n.
void write_npy(const std::string& path, const Matrix& m);  // atomic
std::string serialize_npy(const Matrix& m);

}  // namespace circa
