// Fits a BRISQUE model: features of labelled images, svm-scale to [-1, 1], epsilon-SVR (RBF)
// with libsvm, C / gamma / epsilon chosen on a grid by K-fold cross-validated SROCC (mean over
// folds), all (grid point, fold) fits in parallel on OpenCV's pool. Writes a libsvm model and an
// svm-scale range file that Brisque's `model` / `range` options read.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "brisque/features.h"
#include "image/image.h"

namespace iqa::brisque {

struct TrainOptions {
  int folds = 5;
  Variant variant = Variant::OpenCV;
  unsigned seed = 1;
  // Grid; epsilon values are multiples of the labels' standard deviation.
  // Modest on purpose (30 points): 5-fold on 3,000 images takes minutes on 2 cores.
  std::vector<double> c = {1, 4, 16, 64, 256};
  std::vector<double> gamma = {1.0 / 144, 1.0 / 36, 1.0 / 9};
  std::vector<double> epsilon = {0.1, 0.3};
};

struct TrainResult {
  int images = 0;  // images with features (the rest are in `failed`)
  std::vector<std::pair<std::string, std::string>> failed;  // (name, reason)
  double c = 0, gamma = 0, epsilon = 0;  // chosen; epsilon in label units
  double cv_srocc = 0, cv_plcc = 0;      // mean over folds at the chosen point (PLCC without a logistic fit)
  double cv_srocc_sd = 0, cv_plcc_sd = 0;
  int grid_points = 0, folds = 0, support_vectors = 0;
  double feature_seconds = 0, search_seconds = 0, total_seconds = 0;
};

// `names[i]` labels images[i] in error reports.
TrainResult train(const std::vector<ImageSource>& images, const std::vector<std::string>& names, const std::vector<double>& mos,
                  const DecodeOptions& decode, const TrainOptions& opts, const std::string& model_path, const std::string& range_path);

// Rank correlation with average ranks for ties; Pearson correlation.
double srocc(const std::vector<double>& a, const std::vector<double>& b);
double plcc(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace iqa::brisque
