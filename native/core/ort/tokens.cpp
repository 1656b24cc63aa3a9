#include "ort/tokens.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "common/error.h"

namespace iqa::ort {

namespace {

int64_t cells(int length, int patch) { return (int64_t(length) + patch - 1) / patch; }

// Tokens of one scale, before its own pad/cut: every tile of the SAME-padded grid.
int64_t grid_tokens(cv::Size s, int patch) { return cells(s.height, patch) * cells(s.width, patch); }

}  // namespace

cv::Size scaled_size(cv::Size image, int longer) {
  const float ratio = float(longer) / float(std::max(image.width, image.height));
  auto side = [ratio](int v) { return std::max(1, int(std::nearbyint(float(v) * ratio))); };
  return {side(image.width), side(image.height)};
}

int hashed_index(int j, int count, int grid) {
  const float step = float(grid) / float(count);
  return std::min(int(std::floor(float(j) * step)), grid - 1);
}

int64_t token_count(cv::Size image, const TokenSpec& spec) {
  int64_t n = 0;
  for (int L : spec.scales) n += cells(L, spec.patch) * cells(L, spec.patch);
  if (spec.native) n += spec.native_max >= 0 ? spec.native_max : grid_tokens(image, spec.patch);
  return n;
}

int64_t token_bucket(int64_t tokens, const TokenSpec& spec) {
  for (int64_t b : spec.buckets)
    if (b >= tokens) return b;
  return 0;
}

Tokens make_tokens(const cv::Mat& img, const TokenSpec& spec, bool rgb, const float mean[3], const float stdev[3]) {
  if (img.empty()) fail(ErrorCode::Input, "empty image");
  if (spec.patch <= 0 || spec.grid <= 0 || spec.buckets.empty()) fail(ErrorCode::Model, "token spec needs a positive patch and grid and at least one bucket");
  // Counted from the size alone, before any resize or allocation: a huge image fails here.
  const int64_t total = token_count(img.size(), spec);
  Tokens t;
  t.length = token_bucket(total, spec);
  if (t.length == 0)
    fail(ErrorCode::TooLarge, "image of " + std::to_string(img.cols) + "x" + std::to_string(img.rows) + " makes " + std::to_string(total) + " tokens, over the model's limit of " +
                                  std::to_string(spec.buckets.back()) + " (about " + std::to_string(spec.buckets.back() - (total - grid_tokens(img.size(), spec.patch))) + " patches of " +
                                  std::to_string(spec.patch) + "x" + std::to_string(spec.patch) + " at full size): resize it first");
  const int P = spec.patch, C = 3;
  const size_t tile = size_t(C) * P * P;
  t.patches.assign(size_t(t.length) * tile, 0.0f);
  t.position.assign(size_t(t.length), 0);
  t.scale.assign(size_t(t.length), 0);
  t.mask.assign(size_t(t.length), 0.0f);

  int64_t next = 0;  // first token of the current scale
  // One scale: its tiles row by row into tokens [next, next + limit); limit < 0: all of them.
  auto add_scale = [&](const cv::Mat& m, int scale_id, int64_t limit) {
    const int H = m.rows, W = m.cols;
    const int ch = int(cells(H, P)), cw = int(cells(W, P));
    const int top = (ch * P - H) / 2, left = (cw * P - W) / 2;  // TF SAME: the odd pixel goes after
    std::vector<float> plane(size_t(C) * H * W);
    pack_nchw(m, plane.data(), C, rgb, mean, stdev);
    const int64_t n = limit < 0 ? int64_t(ch) * cw : std::min<int64_t>(limit, int64_t(ch) * cw);
    for (int64_t k = 0; k < n; ++k) {
      const int i = int(k / cw), j = int(k % cw);
      const size_t tok = size_t(next + k);
      float* dst = t.patches.data() + tok * tile;
      // Tile pixels (y0 + r, x0 + c) of the unpadded image, clipped to it; the rest stays 0.
      const int y0 = i * P - top, x0 = j * P - left;
      const int r0 = std::max(0, -y0), r1 = std::min(P, H - y0), c0 = std::max(0, -x0), c1 = std::min(P, W - x0);
      for (int c = 0; c < C; ++c)
        for (int r = r0; r < r1; ++r)
          std::memcpy(dst + (size_t(c) * P + r) * P + c0, plane.data() + (size_t(c) * H + (y0 + r)) * W + (x0 + c0), sizeof(float) * size_t(c1 - c0));
      t.position[tok] = int64_t(hashed_index(i, ch, spec.grid)) * spec.grid + hashed_index(j, cw, spec.grid);
      t.scale[tok] = scale_id;
      t.mask[tok] = 1.0f;
    }
    t.valid += n;
    next += limit < 0 ? n : limit;
  };

  std::vector<int> scales = spec.scales;
  std::sort(scales.begin(), scales.end());
  for (size_t s = 0; s < scales.size(); ++s) {
    const cv::Size size = scaled_size(img.size(), scales[s]);
    // Resized even at its own size: TF's Gaussian is not the identity there (Pillow's and
    // OpenCV's resizes are, and return the pixels unchanged).
    const cv::Mat m = resize_image(img, size, spec.interp);
    add_scale(m, int(s), cells(scales[s], P) * cells(scales[s], P));
  }
  if (spec.native) add_scale(img, int(scales.size()), spec.native_max);
  return t;
}

}  // namespace iqa::ort
