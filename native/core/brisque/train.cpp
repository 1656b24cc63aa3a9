#include "brisque/train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <numeric>
#include <random>

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <svm.h>

#include "brisque/svr.h"
#include "common/error.h"
#include "metric/metric.h"

namespace iqa::brisque {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void quiet(const char*) {}

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    double avg = (double(i) + double(j)) / 2 + 1;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

struct LibsvmFree {
  void operator()(svm_model* m) const { svm_free_and_destroy_model(&m); }
};

}  // namespace

double plcc(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t n = a.size();
  if (n < 2 || b.size() != n) return NAN;
  double ma = std::accumulate(a.begin(), a.end(), 0.0) / double(n), mb = std::accumulate(b.begin(), b.end(), 0.0) / double(n);
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < n; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : NAN;
}

double srocc(const std::vector<double>& a, const std::vector<double>& b) { return plcc(ranks(a), ranks(b)); }

TrainResult train(const std::vector<ImageSource>& images, const std::vector<std::string>& names, const std::vector<double>& mos,
                  const DecodeOptions& decode, const TrainOptions& opts, const std::string& model_path, const std::string& range_path) {
  const auto t_start = Clock::now();
  if (images.size() != mos.size() || names.size() != images.size()) fail(ErrorCode::Input, "images, names and labels differ in count");
  if (opts.folds < 2) fail(ErrorCode::Input, "folds must be at least 2");
  if (opts.c.empty() || opts.gamma.empty() || opts.epsilon.empty()) fail(ErrorCode::Input, "empty parameter grid");
  for (double y : mos)
    if (!std::isfinite(y)) fail(ErrorCode::Input, "labels must be finite numbers");

  // 1. Features, in parallel; failures are reported, not fatal.
  TrainResult res;
  const size_t n_all = images.size();
  std::vector<std::array<double, kFeatureCount>> feats(n_all);
  std::vector<std::string> errors(n_all);
  parallel_items(n_all, [&](size_t i) {
    try {
      cv::Mat img = load_image(images[i], decode);
      check_size(img);
      if (opts.variant == Variant::Original) {
        feats[i] = features_original(gray_original(img));
      } else {
        auto f = features_opencv(gray_opencv(img));
        std::copy(f.begin(), f.end(), feats[i].begin());
      }
      for (double v : feats[i])
        if (!std::isfinite(v)) throw Error(ErrorCode::Input, "BRISQUE is undefined for this image (flat)");
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  });
  std::vector<std::array<double, kFeatureCount>> x;
  std::vector<double> y;
  for (size_t i = 0; i < n_all; ++i) {
    if (!errors[i].empty()) {
      res.failed.emplace_back(names[i], errors[i]);
      continue;
    }
    x.push_back(feats[i]);
    y.push_back(mos[i]);
  }
  res.feature_seconds = seconds_since(t_start);
  const int n = int(x.size());
  res.images = n;
  if (n < opts.folds * 2) fail(ErrorCode::Input, "only " + std::to_string(n) + " usable images: too few for " + std::to_string(opts.folds) + "-fold cross-validation");

  // 2. svm-scale to [-1, 1] with the training set's ranges.
  FeatureRange range;
  range.min.assign(kFeatureCount, INFINITY);
  range.max.assign(kFeatureCount, -INFINITY);
  for (const auto& f : x)
    for (int k = 0; k < kFeatureCount; ++k) {
      range.min[k] = std::min(range.min[k], f[k]);
      range.max[k] = std::max(range.max[k], f[k]);
    }
  std::vector<std::vector<svm_node>> nodes(static_cast<size_t>(n));
  std::vector<svm_node*> rows(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    double s[kFeatureCount];
    std::copy(x[i].begin(), x[i].end(), s);
    range.scale(s);
    for (int k = 0; k < kFeatureCount; ++k)
      if (s[k] != 0) nodes[i].push_back({k + 1, s[k]});
    nodes[i].push_back({-1, 0.0});
    rows[i] = nodes[i].data();
  }

  // 3. Folds: a seeded shuffle, fold = position mod K.
  std::vector<int> perm(static_cast<size_t>(n)), fold_of(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937 rng(opts.seed);
  std::shuffle(perm.begin(), perm.end(), rng);
  for (int i = 0; i < n; ++i) fold_of[size_t(perm[size_t(i)])] = i % opts.folds;

  double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / n, var_y = 0;
  for (double v : y) var_y += (v - mean_y) * (v - mean_y);
  const double sd_y = std::sqrt(var_y / n) > 0 ? std::sqrt(var_y / n) : 1.0;

  struct Point {
    double c, gamma, eps;
  };
  std::vector<Point> grid;
  for (double c : opts.c)
    for (double g : opts.gamma)
      for (double e : opts.epsilon) grid.push_back({c, g, e * sd_y});
  res.grid_points = int(grid.size());
  res.folds = opts.folds;

  auto params_for = [](const Point& p) {
    svm_parameter param{};
    param.svm_type = EPSILON_SVR;
    param.kernel_type = RBF;
    param.gamma = p.gamma;
    param.C = p.c;
    param.p = p.eps;
    param.eps = 1e-3;
    param.cache_size = 40;
    param.shrinking = 1;
    param.probability = 0;
    return param;
  };
  svm_set_print_string_function(&quiet);

  // 4. Every (grid point, fold) fit is one task on OpenCV's pool.
  const auto t_search = Clock::now();
  const int tasks = int(grid.size()) * opts.folds;
  std::vector<double> fold_srocc(static_cast<size_t>(tasks), NAN), fold_plcc(static_cast<size_t>(tasks), NAN);
  std::vector<std::string> task_error(static_cast<size_t>(tasks));
  cv::parallel_for_(cv::Range(0, tasks), [&](const cv::Range& r) {
    for (int t = r.start; t < r.end; ++t) {
      const Point& p = grid[size_t(t / opts.folds)];
      const int fold = t % opts.folds;
      std::vector<svm_node*> tx;
      std::vector<double> ty;
      std::vector<int> test;
      for (int i = 0; i < n; ++i) {
        if (fold_of[size_t(i)] == fold) test.push_back(i);
        else {
          tx.push_back(rows[size_t(i)]);
          ty.push_back(y[size_t(i)]);
        }
      }
      svm_problem prob{int(tx.size()), ty.data(), tx.data()};
      svm_parameter param = params_for(p);
      if (const char* err = svm_check_parameter(&prob, &param)) {
        task_error[size_t(t)] = err;
        continue;
      }
      std::unique_ptr<svm_model, LibsvmFree> model(svm_train(&prob, &param));
      std::vector<double> pred, truth;
      for (int i : test) {
        pred.push_back(svm_predict(model.get(), rows[size_t(i)]));
        truth.push_back(y[size_t(i)]);
      }
      fold_srocc[size_t(t)] = srocc(pred, truth);
      fold_plcc[size_t(t)] = plcc(pred, truth);
    }
  }, double(tasks));
  for (const auto& e : task_error)
    if (!e.empty()) fail(ErrorCode::Input, "libsvm rejected the parameters: " + e);

  int best = -1;
  double best_srocc = -INFINITY;
  for (int g = 0; g < int(grid.size()); ++g) {
    double s = 0;
    for (int f = 0; f < opts.folds; ++f) s += std::isfinite(fold_srocc[size_t(g * opts.folds + f)]) ? fold_srocc[size_t(g * opts.folds + f)] : -1;
    s /= opts.folds;
    if (s > best_srocc) {
      best_srocc = s;
      best = g;
    }
  }
  auto mean_sd = [&](const std::vector<double>& v, int g, double& mean, double& sd) {
    mean = 0;
    for (int f = 0; f < opts.folds; ++f) mean += v[size_t(g * opts.folds + f)];
    mean /= opts.folds;
    double ss = 0;
    for (int f = 0; f < opts.folds; ++f) ss += (v[size_t(g * opts.folds + f)] - mean) * (v[size_t(g * opts.folds + f)] - mean);
    sd = std::sqrt(ss / std::max(1, opts.folds - 1));
  };
  mean_sd(fold_srocc, best, res.cv_srocc, res.cv_srocc_sd);
  mean_sd(fold_plcc, best, res.cv_plcc, res.cv_plcc_sd);
  res.c = grid[size_t(best)].c;
  res.gamma = grid[size_t(best)].gamma;
  res.epsilon = grid[size_t(best)].eps;
  res.search_seconds = seconds_since(t_search);

  // 5. The final model on all images, written with libsvm's own writer.
  svm_problem prob{n, y.data(), rows.data()};
  svm_parameter param = params_for(grid[size_t(best)]);
  std::unique_ptr<svm_model, LibsvmFree> model(svm_train(&prob, &param));
  res.support_vectors = model->l;
  if (svm_save_model(model_path.c_str(), model.get()) != 0) fail(ErrorCode::Input, "cannot write the model file '" + model_path + "'");
  range.save(range_path);
  res.total_seconds = seconds_since(t_start);
  return res;
}

}  // namespace iqa::brisque
