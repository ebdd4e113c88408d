// circa: a plain row-major float matrix, the unit of feature and output exchange (one per utterance).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace circa {

struct Matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<float> data;  // rows * cols, row-major

  Matrix() = default;
  Matrix(std::size_t r, std::size_t c) : rows(r), cols(c), data(r * c, 0.0f) {}
  float& at(std::size_t r, std::size_t c) { return data[r * cols + c]; }
  float at(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
  const float* row(std::size_t r) const { return data.data() + r * cols; }
  float* row(std::size_t r) { return data.data() + r * cols; }
};

// One utterance: a Kaldi key and its matrix (frames x dims for features, frames x classes for outputs).
struct Utterance {
  std::string key;
  Matrix mat;
};

}  // namespace circa
