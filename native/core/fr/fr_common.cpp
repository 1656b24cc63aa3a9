#include "fr/fr_common.h"

#include <opencv2/core/utility.hpp>

#include "image/convert.h"

namespace iqa {

std::vector<std::pair<cv::Mat, cv::Mat>> fr_planes(const cv::Mat& ref_in, const cv::Mat& dist_in, bool gray) {
  if (ref_in.empty() || dist_in.empty()) fail(ErrorCode::Input, "empty image");
  require_same_shape(ref_in, dist_in);
  cv::Mat ref = drop_alpha(ref_in), dist = drop_alpha(dist_in);
  if (gray) {
    ref = rgb2gray_matlab(ref);
    dist = rgb2gray_matlab(dist);
  }
  cv::Mat a = to_float(ref, 255.0), b = to_float(dist, 255.0);
  std::vector<std::pair<cv::Mat, cv::Mat>> out;
  if (a.channels() == 1) {
    out.emplace_back(a, b);
    return out;
  }
  std::vector<cv::Mat> pa, pb;
  cv::split(a, pa);
  cv::split(b, pb);
  for (int c = int(pa.size()) - 1; c >= 0; --c) out.emplace_back(pa[c], pb[c]);  // BGR storage -> R,G,B
  return out;
}

bool fr_gray_option(const Options& opts, const char* metric) {
  std::string ch = opts.text("channels", "gray");
  if (ch != "gray" && ch != "rgb") fail(ErrorCode::Input, std::string(metric) + " option channels must be 'gray' or 'rgb'");
  return ch == "gray";
}

cv::Mat subsample(const cv::Mat& src, int step) {
  CV_Assert(src.type() == CV_64F && step >= 1);
  if (step == 1) return src;
  cv::Mat dst((src.rows + step - 1) / step, (src.cols + step - 1) / step, CV_64F);
  for (int y = 0; y < dst.rows; ++y) {
    const double* s = src.ptr<double>(y * step);
    double* d = dst.ptr<double>(y);
    for (int x = 0; x < dst.cols; ++x) d[x] = s[x * step];
  }
  return dst;
}

void parallel_rows(int n, int min_rows, const std::function<void(int, int)>& fn) {
  const int stripes = std::min(cv::getNumThreads(), n / std::max(1, min_rows));
  if (stripes <= 1) return fn(0, n);
  cv::parallel_for_(cv::Range(0, stripes), [&](const cv::Range& r) {
    for (int s = r.start; s < r.end; ++s) fn(int(int64_t(n) * s / stripes), int(int64_t(n) * (s + 1) / stripes));
  }, stripes);
}

FrDetail fr_combine(std::vector<double> channel_scores, std::vector<cv::Mat> maps) {
  FrDetail d;
  double sum = 0;
  for (double s : channel_scores) sum += s;
  d.score = sum / double(channel_scores.size());
  d.channel_scores = std::move(channel_scores);
  d.maps = std::move(maps);
  return d;
}

}  // namespace iqa
