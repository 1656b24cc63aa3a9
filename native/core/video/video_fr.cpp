#include "video/video_fr.h"

#include <cmath>
#include <limits>
#include <vector>

namespace iqa {
namespace {

double plane_sse(const cv::Mat& a, const cv::Mat& b) {
  uint64_t sse = 0;
  for (int r = 0; r < a.rows; ++r) {
    const uint8_t* pa = a.ptr<uint8_t>(r);
    const uint8_t* pb = b.ptr<uint8_t>(r);
    uint32_t row = 0;  // 255² * 16384 fits in 32 bits
    for (int c = 0; c < a.cols; ++c) {
      const int d = int(pa[c]) - int(pb[c]);
      row += uint32_t(d * d);
    }
    sse += row;
  }
  return double(sse);
}

double area(const cv::Mat& m) { return double(m.rows) * m.cols; }

// Sums s1, s2, ss (a² + b²), s12 of the 4x4 blocks along one block row.
void block_sums(const uint8_t* a, size_t sa, const uint8_t* b, size_t sb, int blocks, int (*sums)[4]) {
  for (int z = 0; z < blocks; ++z) {
    int s1 = 0, s2 = 0, ss = 0, s12 = 0;
    for (int y = 0; y < 4; ++y) {
      const uint8_t* ra = a + y * sa + 4 * z;
      const uint8_t* rb = b + y * sb + 4 * z;
      for (int x = 0; x < 4; ++x) {
        const int va = ra[x], vb = rb[x];
        s1 += va, s2 += vb, ss += va * va + vb * vb, s12 += va * vb;
      }
    }
    sums[z][0] = s1, sums[z][1] = s2, sums[z][2] = ss, sums[z][3] = s12;
  }
}

float window_ssim(int s1, int s2, int ss, int s12) {
  const int c1 = int(.01 * .01 * 255 * 255 * 64 + .5);
  const int c2 = int(.03 * .03 * 255 * 255 * 64 * 63 + .5);
  const int vars = ss * 64 - s1 * s1 - s2 * s2;
  const int covar = s12 * 64 - s1 * s2;
  return float(2 * s1 * s2 + c1) * float(2 * covar + c2) / (float(s1 * s1 + s2 * s2 + c1) * float(vars + c2));
}

}  // namespace

double psnr_from_mse(double mse) {
  return mse > 0 ? 10.0 * std::log10(255.0 * 255.0 / mse) : std::numeric_limits<double>::infinity();
}

PlaneScores video_mse(const VideoFrame& ref, const VideoFrame& dist) {
  PlaneScores s;
  s.y = plane_sse(ref.y, dist.y) / area(ref.y);
  s.u = plane_sse(ref.u, dist.u) / area(ref.u);
  s.v = plane_sse(ref.v, dist.v) / area(ref.v);
  const double total = area(ref.y) + area(ref.u) + area(ref.v);
  s.all = (s.y * area(ref.y) + s.u * area(ref.u) + s.v * area(ref.v)) / total;
  return s;
}

double ffmpeg_ssim_plane(const cv::Mat& a, const cv::Mat& b) {
  const int bw = a.cols >> 2, bh = a.rows >> 2;
  if (bw < 2 || bh < 2) return std::numeric_limits<double>::quiet_NaN();  // no whole 8x8 window
  std::vector<int> buf(size_t(2) * (bw + 3) * 4, 0);
  int(*rows[2])[4] = {reinterpret_cast<int(*)[4]>(buf.data()), reinterpret_cast<int(*)[4]>(buf.data() + size_t(bw + 3) * 4)};
  double total = 0;
  block_sums(a.ptr<uint8_t>(0), a.step, b.ptr<uint8_t>(0), b.step, bw, rows[0]);
  for (int y = 1; y < bh; ++y) {
    int(*above)[4] = rows[(y - 1) & 1];
    int(*cur)[4] = rows[y & 1];
    block_sums(a.ptr<uint8_t>(4 * y), a.step, b.ptr<uint8_t>(4 * y), b.step, bw, cur);
    float line = 0;  // the filter accumulates one line of windows in float
    for (int i = 0; i < bw - 1; ++i) {
      int s[4];
      for (int k = 0; k < 4; ++k) s[k] = above[i][k] + above[i + 1][k] + cur[i][k] + cur[i + 1][k];
      line += window_ssim(s[0], s[1], s[2], s[3]);
    }
    total += line;
  }
  return total / (double(bh - 1) * (bw - 1));
}

PlaneScores video_ssim(const VideoFrame& ref, const VideoFrame& dist) {
  PlaneScores s;
  s.y = ffmpeg_ssim_plane(ref.y, dist.y);
  s.u = ffmpeg_ssim_plane(ref.u, dist.u);
  s.v = ffmpeg_ssim_plane(ref.v, dist.v);
  const double total = area(ref.y) + area(ref.u) + area(ref.v);
  s.all = (s.y * area(ref.y) + s.u * area(ref.u) + s.v * area(ref.v)) / total;
  return s;
}

}  // namespace iqa
