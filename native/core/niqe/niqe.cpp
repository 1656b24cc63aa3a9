#include "niqe/niqe.h"

#include <cmath>
#include <limits>

#include "niqe/niqe_features.h"

namespace iqa {

using niqe::kFeatures;

namespace {

// MATLAB pinv: singular values at or below max(size(A)) * eps(norm(A)) count as zero.
cv::Mat pinv_matlab(const cv::Mat& a) {
  cv::Mat w, u, vt;
  cv::SVD::compute(a, w, u, vt, cv::SVD::FULL_UV);
  const double s0 = w.at<double>(0);
  const double tol = std::max(a.rows, a.cols) * (std::nextafter(s0, std::numeric_limits<double>::infinity()) - s0);
  cv::Mat winv = cv::Mat::zeros(a.cols, a.rows, CV_64F);
  for (int i = 0; i < w.rows; ++i)
    if (w.at<double>(i) > tol) winv.at<double>(i, i) = 1.0 / w.at<double>(i);
  return vt.t() * winv * u.t();
}

}  // namespace

Niqe::Niqe(const Options& opts) {
  const std::string path = opts.text("model", "");
  if (!path.empty()) {
    model_ = niqe::load_pristine_model(path);
    has_model_ = true;
  }
  const double max_side = opts.number("maxSide", 0);
  if (!(max_side == 0 || (max_side >= niqe::kBlockSize && max_side <= 1e6 && max_side == std::floor(max_side))))
    fail(ErrorCode::Input, "niqe option maxSide must be 0 (off) or an integer of at least 96");
  max_side_ = int(max_side);
}

double niqe_distance(const std::vector<double>& f, int patches, const niqe::PristineModel& model) {
  // nanmean: each feature's mean over the patches where it is not NaN.
  cv::Mat mu(1, kFeatures, CV_64F);
  for (int j = 0; j < kFeatures; ++j) {
    double sum = 0;
    int n = 0;
    for (int p = 0; p < patches; ++p) {
      double v = f[size_t(p) * kFeatures + j];
      if (!std::isnan(v)) sum += v, ++n;
    }
    mu.at<double>(j) = n ? sum / n : std::numeric_limits<double>::quiet_NaN();
  }
  // nancov: the covariance of the patches without any NaN (normalised by n - 1, by 1 for a
  // single patch as MATLAB's cov does).
  cv::Mat complete(0, kFeatures, CV_64F);
  for (int p = 0; p < patches; ++p) {
    cv::Mat row(1, kFeatures, CV_64F, const_cast<double*>(&f[size_t(p) * kFeatures]));
    if (cv::checkRange(row)) complete.push_back(row);
  }
  if (complete.rows == 0)
    fail(ErrorCode::Input, "NIQE found no textured 96x96 block (every block is flat or one-signed), so the image has no NIQE score");
  cv::Mat cov, mean;
  cv::calcCovarMatrix(complete, cov, mean, cv::COVAR_NORMAL | cv::COVAR_ROWS, CV_64F);
  cov /= complete.rows > 1 ? complete.rows - 1 : 1;

  cv::Mat d = model.mu - mu;
  cv::Mat q = d * pinv_matlab((model.cov + cov) / 2) * d.t();
  return std::sqrt(std::max(0.0, q.at<double>(0)));
}

double Niqe::score(const cv::Mat& img) const {
  if (!has_model_) fail(ErrorCode::Model, "niqe needs a pristine model file (option 'model')");
  niqe::PatchFeatures pf = niqe::compute_patch_features(img, max_side_);
  return niqe_distance(pf.features, pf.patches, model_);
}

std::vector<double> Niqe::features(const cv::Mat& img) const {
  niqe::PatchFeatures pf = niqe::compute_patch_features(img, max_side_);
  std::vector<double> out;
  out.reserve(size_t(pf.patches) * (kFeatures + 1));
  for (int p = 0; p < pf.patches; ++p) {
    out.push_back(pf.sharpness[p]);
    out.insert(out.end(), pf.features.begin() + size_t(p) * kFeatures, pf.features.begin() + size_t(p + 1) * kFeatures);
  }
  return out;
}

}  // namespace iqa
