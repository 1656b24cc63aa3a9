// Multi-scale patch tokens (MUSIQ-style transformers): the image at its own size and/or resized
// so that its longer side is each of `scales` (aspect kept), each cut into non-overlapping
// patch x patch tiles with TF 'SAME' zero padding (the pad split evenly, the extra pixel after),
// every tile a token with a hashed 2-D position, a scale index and a mask. A resized scale of
// longer side L is padded to ceil(L / patch)^2 tokens; the native one keeps all its tokens (or is
// cut/padded to `native_max`). The whole sequence is then padded to the smallest of `buckets`
// holding it, so ONNX Runtime sees a few static shapes; padding tokens are zero with mask 0.
#pragma once
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "image/convert.h"

namespace iqa::ort {

struct TokenSpec {
  std::vector<int> scales;   // longer sides of the resized scales (sorted ascending: scale ids 0..)
  bool native = true;        // add the image at its own size (scale id = scales.size())
  int64_t native_max = -1;   // native tokens cut/padded to this many; -1: all of them
  int patch = 32;
  int grid = 10;             // hash grid G: positions in [0, G*G)
  Interp interp = Interp::PilBicubic;
  std::vector<int64_t> buckets;  // static sequence lengths, ascending; the last is the token limit
};

// (rows, cols) of the image resized so that its longer side is `longer` (round half to even of
// side * longer / max side, in float32 as tf.round does; at least 1 pixel).
cv::Size scaled_size(cv::Size image, int longer);

// Hashed position of patch column j of `count` along one side: floor(j * (G / count)) in float32,
// at most G - 1 (nearest-neighbour resize of arange(G) to `count`, no half-pixel centres).
int hashed_index(int j, int count, int grid);

// Tokens before bucketing for an image of `image` size.
int64_t token_count(cv::Size image, const TokenSpec& spec);
// The bucket (padded sequence length) of `tokens` tokens; 0 when over the last bucket.
int64_t token_bucket(int64_t tokens, const TokenSpec& spec);

struct Tokens {
  int64_t length = 0;            // padded sequence length (a bucket)
  int64_t valid = 0;             // real tokens
  std::vector<float> patches;    // [length, channels, patch, patch], normalised
  std::vector<int64_t> position; // [length]
  std::vector<int64_t> scale;    // [length]
  std::vector<float> mask;       // [length], 1 real, 0 padding
};

// Builds the token sequence of a canonical image (3 channels; pixel values normalised as
// pack_nchw does, zero padding in normalised units). ERR_TOO_LARGE when over the last bucket.
Tokens make_tokens(const cv::Mat& img, const TokenSpec& spec, bool rgb, const float mean[3], const float stdev[3]);

}  // namespace iqa::ort
