// NIQE (Mittal, Soundararajan & Bovik, "Making a completely blind image quality analyzer",
// IEEE SPL 2013) as the authors' MATLAB release computes it (computequality.m): the patch
// features of niqe_features.h, a multivariate Gaussian fitted to them (nanmean; nancov over
// the NaN-free patches) and the distance to a pristine model
//   sqrt((mu_p - mu)' pinv((cov_p + cov) / 2) (mu_p - mu)).
// Lower is better. Options: `model`, a pristine model file as niqe_model.h reads it (needed
// to score; lib/niqe.ts passes the shipped default); `maxSide` (default 0: off), shrink images
// whose longer side exceeds it (MATLAB imresize, bicubic, antialiased) before the features,
// as the trainer can do for large photographs.
// features(img) returns the per-patch rows the trainer needs: for each 96x96 patch
// (MATLAB's order) 37 values, [sharpness, feature_1 .. feature_36].
#pragma once
#include "metric/metric.h"
#include "niqe/niqe_model.h"

namespace iqa {

class Niqe : public NrMetric {
 public:
  explicit Niqe(const Options& opts);
  double score(const cv::Mat& img) const override;
  std::vector<double> features(const cv::Mat& img) const override;

 private:
  bool has_model_ = false;
  niqe::PristineModel model_;
  int max_side_ = 0;
};

// The NIQE distance of a set of patch features (patches x 36, row-major, NaN allowed) to a
// pristine model. Throws ERR_INPUT when no patch is free of NaN (e.g. a flat image).
double niqe_distance(const std::vector<double>& features, int patches, const niqe::PristineModel& model);

}  // namespace iqa
