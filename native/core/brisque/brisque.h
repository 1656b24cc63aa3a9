// BRISQUE as a metric: features (brisque/features.h) -> feature range scaling -> SVR.
// Options:
//   variant: 'opencv' (default) | 'original'  — see features.h
//   model:   SVR file (libsvm text or OpenCV ml YAML). Default for 'opencv': OpenCV's LIVE model
//            /usr/share/opencv4/quality/brisque_model_live.yml (Debian opencv-data).
//            'original' has no default (the authors' `allmodel` cannot be shipped).
//   range:   feature range file (svm-scale text like `allrange`, or OpenCV's range YAML).
//            Default: MODEL.range when --model is given and that file exists, else OpenCV's
//            brisque_range_live.yml for the default model.
// Scores: 'opencv' is clamped to [0, 100] like QualityBRISQUE; 'original' is the raw SVR output
// (the release's svm-predict), with the release's text round trips (features written with %f,
// scaled values with %g). Lower is better for the LIVE models.
// Flat images (NaN features: no positive or negative MSCN values) reject with ERR_INPUT in both
// variants; QualityBRISQUE returns 100 there (its SVM sum overflows on the NaNs and is clamped).
#pragma once
#include <memory>
#include <string>

#include "brisque/features.h"
#include "brisque/svr.h"
#include "metric/metric.h"

namespace iqa {

constexpr const char* kOpencvBrisqueModel = "/usr/share/opencv4/quality/brisque_model_live.yml";
constexpr const char* kOpencvBrisqueRange = "/usr/share/opencv4/quality/brisque_range_live.yml";

class Brisque : public NrMetric {
 public:
  explicit Brisque(const Options& opts);
  double score(const cv::Mat& img) const override;
  std::vector<double> features(const cv::Mat& img) const override;

  brisque::Variant variant() const { return variant_; }
  // Score from raw (unscaled) features of this metric's variant.
  double score_features(const double* raw) const;
  // The 36 features, NaN where the image's statistics are degenerate (features() rejects those).
  std::vector<double> raw_features(const cv::Mat& img) const;

 private:
  brisque::Variant variant_;
  std::shared_ptr<const brisque::SvrModel> model_;
  brisque::FeatureRange range_;
};

}  // namespace iqa
