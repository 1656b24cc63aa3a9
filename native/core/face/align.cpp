#include "face/align.h"

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "common/error.h"

namespace iqa::face {

cv::Size AlignSpec::output_size() const {
  if (!crop.empty()) return crop.size();
  if (resize_width > 0 && resize_height > 0) return {resize_width, resize_height};
  return {width, height};
}

AlignSpec arcface112() {
  AlignSpec s;
  s.points = {38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, 41.5493, 92.3655, 70.7299, 92.2041};
  s.width = s.height = 112;
  return s;
}

AlignSpec ofiq616() {
  AlignSpec s;
  s.points = {251, 272, 364, 272, 308, 336, 262, 402, 355, 402};
  s.width = s.height = 616;
  s.resize_width = s.resize_height = 192;
  s.crop = cv::Rect(40, 33, 112, 112);
  return s;
}

AlignSpec align_spec_by_name(const std::string& name) {
  if (name == "arcface112") return arcface112();
  if (name == "ofiq616") return ofiq616();
  if (name == "box") {
    AlignSpec s;
    s.box = true;
    return s;
  }
  fail(ErrorCode::Input, "unknown face template '" + name + "' (arcface112, ofiq616, box)");
}

cv::Mat similarity_transform(const Points5& src, const Points5& dst) {
  const int n = 5;
  double sm[2] = {0, 0}, dm[2] = {0, 0};
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < 2; ++k) sm[k] += src[2 * i + k] / n, dm[k] += dst[2 * i + k] / n;
  cv::Matx22d a = cv::Matx22d::zeros();
  double src_var = 0;
  for (int i = 0; i < n; ++i) {
    const double s0 = src[2 * i] - sm[0], s1 = src[2 * i + 1] - sm[1];
    const double d0 = dst[2 * i] - dm[0], d1 = dst[2 * i + 1] - dm[1];
    a(0, 0) += d0 * s0 / n, a(0, 1) += d0 * s1 / n, a(1, 0) += d1 * s0 / n, a(1, 1) += d1 * s1 / n;
    src_var += (s0 * s0 + s1 * s1) / n;
  }
  if (!(src_var > 1e-12) || !std::isfinite(src_var)) fail(ErrorCode::Input, "face landmarks are degenerate (no spread)");
  // Umeyama (1991), eq. 39-43: d flips the last axis when det(A) < 0 (a reflection).
  cv::Matx22d u, vt;
  cv::Matx21d w;
  cv::SVD::compute(a, w, u, vt);
  double d[2] = {1, 1};
  if (cv::determinant(a) < 0) d[1] = -1;
  const double tol = std::max(std::abs(w(0)), 1.0) * 1e-12;
  const int rank = (std::abs(w(0)) > tol) + (std::abs(w(1)) > tol);
  if (rank == 0) fail(ErrorCode::Input, "face landmarks are degenerate (rank 0)");
  cv::Matx22d r;
  if (rank == 1) {
    if (cv::determinant(u) * cv::determinant(vt) > 0) {
      r = u * vt;
    } else {
      r = u * cv::Matx22d(1, 0, 0, -1) * vt;
    }
  } else {
    r = u * cv::Matx22d(d[0], 0, 0, d[1]) * vt;
  }
  const double scale = (w(0) * d[0] + w(1) * d[1]) / src_var;
  cv::Mat m(2, 3, CV_64F);
  for (int i = 0; i < 2; ++i) {
    m.at<double>(i, 0) = scale * r(i, 0);
    m.at<double>(i, 1) = scale * r(i, 1);
    m.at<double>(i, 2) = dm[i] - scale * (r(i, 0) * sm[0] + r(i, 1) * sm[1]);
  }
  return m;
}

namespace {
cv::Mat crop_resized(cv::Mat canvas, const AlignSpec& spec) {
  if (spec.resize_width > 0 && spec.resize_height > 0) {
    cv::Mat r;
    cv::resize(canvas, r, cv::Size(spec.resize_width, spec.resize_height), 0, 0, cv::INTER_LINEAR);
    canvas = r;
  }
  if (!spec.crop.empty()) {
    if ((spec.crop & cv::Rect(0, 0, canvas.cols, canvas.rows)) != spec.crop) fail(ErrorCode::Input, "face crop lies outside the aligned canvas");
    return canvas(spec.crop).clone();
  }
  return canvas;
}
}  // namespace

cv::Mat box_crop(const cv::Mat& bgr, double x, double y, double w, double h, const AlignSpec& spec) {
  if (!spec.box || spec.resize_width < 1 || spec.resize_height < 1) fail(ErrorCode::Input, "a box crop needs the 'box' template with a resize");
  if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(w) || !std::isfinite(h)) return {};
  const double x0 = std::max(0.0, std::floor(x + 0.5)), y0 = std::max(0.0, std::floor(y + 0.5));
  const double x1 = std::min(double(bgr.cols), std::floor(x + w + 0.5)), y1 = std::min(double(bgr.rows), std::floor(y + h + 0.5));
  if (!(x1 > x0) || !(y1 > y0)) return {};
  return crop_resized(bgr(cv::Rect(int(x0), int(y0), int(x1 - x0), int(y1 - y0))), spec);
}

cv::Mat align_face(const cv::Mat& bgr, const Points5& landmarks, const AlignSpec& spec, cv::Mat* matrix) {
  if (spec.box) fail(ErrorCode::Input, "the 'box' template crops the detector's box: it has no landmark alignment");
  cv::Mat m = similarity_transform(landmarks, spec.points);
  if (matrix) *matrix = m;
  cv::Mat canvas;
  cv::warpAffine(bgr, canvas, m, cv::Size(spec.width, spec.height), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  return crop_resized(canvas, spec);
}

}  // namespace iqa::face
