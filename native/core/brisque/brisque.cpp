#include "brisque/brisque.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace iqa {

using brisque::kFeatureCount;

namespace {

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

brisque::Variant parse_variant(const std::string& v) {
  if (v == "opencv") return brisque::Variant::OpenCV;
  if (v == "original") return brisque::Variant::Original;
  fail(ErrorCode::Input, "unknown BRISQUE variant '" + v + "' (opencv, original)");
}

// The release hands features to libsvm through text files: printf("%f") into svm-scale, whose
// output is printf("%g"). Reproducing the round trips keeps the last digits of its scores.
double through_text(double v, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return std::strtod(buf, nullptr);
}

[[noreturn]] void undefined_score() {
  fail(ErrorCode::Input, "BRISQUE is undefined for this image: its local statistics are degenerate (a flat or nearly flat image)");
}

}  // namespace

Brisque::Brisque(const Options& opts) : variant_(parse_variant(opts.text("variant", "opencv"))) {
  std::string model = opts.text("model", "");
  std::string range = opts.text("range", "");
  if (model.empty()) {
    if (variant_ == brisque::Variant::Original)
      fail(ErrorCode::Model, "BRISQUE variant 'original' needs the release's model and range files (options model and range, e.g. allmodel and allrange)");
    model = kOpencvBrisqueModel;
    if (range.empty()) range = kOpencvBrisqueRange;
    if (!file_exists(model))
      fail(ErrorCode::Model, std::string("OpenCV's BRISQUE LIVE model is missing: ") + kOpencvBrisqueModel + " (install Debian/Ubuntu package opencv-data, or pass model and range)");
  }
  if (range.empty()) {
    if (file_exists(model + ".range")) range = model + ".range";
    else fail(ErrorCode::Model, "BRISQUE model '" + model + "' needs a range file (option range; MODEL.range is tried by default)");
  }
  model_ = brisque::SvrModel::load(model, kFeatureCount);
  range_ = brisque::FeatureRange::load(range, kFeatureCount);
}

std::vector<double> Brisque::raw_features(const cv::Mat& img) const {
  brisque::check_size(img);
  if (variant_ == brisque::Variant::Original) {
    auto f = brisque::features_original(brisque::gray_original(img));
    return std::vector<double>(f.begin(), f.end());
  }
  auto f = brisque::features_opencv(brisque::gray_opencv(img));
  return std::vector<double>(f.begin(), f.end());
}

std::vector<double> Brisque::features(const cv::Mat& img) const {
  std::vector<double> f = raw_features(img);
  for (double v : f)
    if (!std::isfinite(v)) undefined_score();
  return f;
}

double Brisque::score_features(const double* raw) const {
  if (variant_ == brisque::Variant::Original) {
    for (int i = 0; i < kFeatureCount; ++i)
      if (!std::isfinite(raw[i])) undefined_score();
    double x[kFeatureCount];
    for (int i = 0; i < kFeatureCount; ++i) x[i] = through_text(raw[i], "%f");
    range_.scale(x);
    for (int i = 0; i < kFeatureCount; ++i) x[i] = through_text(x[i], "%g");
    double s = model_->predict(x);
    if (!std::isfinite(s)) undefined_score();
    return s;
  }
  // NaN features (a flat image): QualityBRISQUE feeds them to its SVM, whose sum overflows, and
  // the clamp turns that into 100; the score is undefined there, so we reject the image.
  for (int i = 0; i < kFeatureCount; ++i)
    if (!std::isfinite(raw[i])) undefined_score();
  float x[kFeatureCount];
  for (int i = 0; i < kFeatureCount; ++i) x[i] = float(raw[i]);
  range_.scale_opencv(x);
  float s = model_->predict_opencv(x);
  s = std::min(std::max(s, 0.f), 100.f);
  if (!std::isfinite(s)) undefined_score();
  return double(s);
}

double Brisque::score(const cv::Mat& img) const {
  std::vector<double> f = raw_features(img);
  return score_features(f.data());
}

}  // namespace iqa
