// Focus/sharpness: variance of the 3x3 Laplacian (cv::Laplacian, ksize 1) of the grey image on
// a 0-255 scale (Pech-Pacheco et al. 2000). Higher is sharper.
#pragma once
#include "metric/metric.h"

namespace iqa {

class LaplacianVariance : public NrMetric {
 public:
  explicit LaplacianVariance(const Options& opts);
  double score(const cv::Mat& img) const override;
};

}  // namespace iqa
