// The metric interfaces and registry. A metric is created once from its options (models are
// loaded then) and is then called concurrently from many threads: score() must be const and
// thread-safe.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "common/error.h"
#include "common/options.h"

namespace iqa {

// No-reference metric: one image in, one score out (optionally a feature vector).
class NrMetric {
 public:
  virtual ~NrMetric() = default;
  virtual double score(const cv::Mat& img) const = 0;
  virtual std::vector<double> features(const cv::Mat&) const {
    fail(ErrorCode::Input, "this metric has no feature vector");
  }
};

// Full-reference metric: a reference and a distorted image of the same size.
class FrMetric {
 public:
  virtual ~FrMetric() = default;
  virtual double score(const cv::Mat& ref, const cv::Mat& dist) const = 0;
};

struct MetricCard {
  std::string name;
  bool full_reference;
  bool higher_is_better;
  std::string description;
};

std::vector<MetricCard> list_metrics();
std::shared_ptr<NrMetric> create_nr_metric(const std::string& name, const Options& opts);
std::shared_ptr<FrMetric> create_fr_metric(const std::string& name, const Options& opts);

// Runs fn(i) for i in [0, n) on OpenCV's thread pool. Items not started once `cancel` is set
// are skipped (their results stay unset by the caller's convention).
void parallel_items(size_t n, const std::function<void(size_t)>& fn);

// Shared size check for full-reference metrics.
void require_same_shape(const cv::Mat& ref, const cv::Mat& dist);

}  // namespace iqa
