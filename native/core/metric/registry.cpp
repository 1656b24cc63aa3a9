// Every metric the library knows, by name. Adding a metric: one folder in native/core, one
// entry here.
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>

#include "brisque/brisque.h"
#include "common/thread_priority.h"
#include "fr/gmsd.h"
#include "fr/msssim.h"
#include "fr/psnr.h"
#include "fr/ssim.h"
#include "metric/metric.h"
#include "niqe/niqe.h"
#include "sharpness/laplacian_variance.h"

namespace iqa {

namespace {
struct Entry {
  MetricCard card;
  std::function<std::shared_ptr<NrMetric>(const Options&)> nr;
  std::function<std::shared_ptr<FrMetric>(const Options&)> fr;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> all = {
      {{"sharpness", false, true, "variance of the Laplacian of the grey image (focus measure)"},
       [](const Options& o) { return std::make_shared<LaplacianVariance>(o); }, nullptr},
      {{"brisque", false, false, "BRISQUE blind quality (Mittal et al. 2012), 0 best; variants opencv (default, OpenCV LIVE model) and original"},
       [](const Options& o) { return std::make_shared<Brisque>(o); }, nullptr},
      {{"psnr", true, true, "peak signal-to-noise ratio in dB"}, nullptr,
       [](const Options& o) { return std::make_shared<Psnr>(o); }},
      {{"niqe", false, false, "NIQE (Mittal et al. 2013): distance of the image's patch statistics to a pristine model"},
       [](const Options& o) { return std::make_shared<Niqe>(o); }, nullptr},
      {{"ssim", true, true, "structural similarity (Wang et al. 2004), 11x11 Gaussian window"}, nullptr,
       [](const Options& o) { return std::make_shared<Ssim>(o); }},
      {{"ms-ssim", true, true, "multi-scale structural similarity (Wang et al. 2003), 5 scales"}, nullptr,
       [](const Options& o) { return std::make_shared<MsSsim>(o); }},
      {{"gmsd", true, false, "gradient magnitude similarity deviation (Xue et al. 2014); 0 = identical"}, nullptr,
       [](const Options& o) { return std::make_shared<Gmsd>(o); }},
  };
  return all;
}

const Entry& find(const std::string& name) {
  for (const auto& e : entries())
    if (e.card.name == name) return e;
  std::string known;
  for (const auto& e : entries()) known += (known.empty() ? "" : ", ") + e.card.name;
  fail(ErrorCode::Input, "unknown metric '" + name + "' (known: " + known + ")");
}
}  // namespace

std::vector<MetricCard> list_metrics() {
  std::vector<MetricCard> out;
  for (const auto& e : entries()) out.push_back(e.card);
  return out;
}

std::shared_ptr<NrMetric> create_nr_metric(const std::string& name, const Options& opts) {
  const Entry& e = find(name);
  if (!e.nr) fail(ErrorCode::Input, "metric '" + name + "' needs a reference image");
  return e.nr(opts);
}

std::shared_ptr<FrMetric> create_fr_metric(const std::string& name, const Options& opts) {
  const Entry& e = find(name);
  if (!e.fr) fail(ErrorCode::Input, "metric '" + name + "' is a no-reference metric");
  return e.fr(opts);
}

void parallel_items(size_t n, const std::function<void(size_t)>& fn) {
  lower_current_thread_priority();
  if (n == 0) return;
  if (n == 1) return fn(0);
  cv::parallel_for_(cv::Range(0, int(n)), [&](const cv::Range& r) {
    lower_current_thread_priority();
    for (int i = r.start; i < r.end; ++i) fn(size_t(i));
  }, double(n));
}

void require_same_shape(const cv::Mat& ref, const cv::Mat& dist) {
  if (ref.size() != dist.size())
    fail(ErrorCode::Input, "reference is " + std::to_string(ref.cols) + "x" + std::to_string(ref.rows) + " but distorted is " +
                               std::to_string(dist.cols) + "x" + std::to_string(dist.rows));
  if (ref.channels() != dist.channels())
    fail(ErrorCode::Input, "reference has " + std::to_string(ref.channels()) + " channels but distorted has " + std::to_string(dist.channels()));
}

}  // namespace iqa
