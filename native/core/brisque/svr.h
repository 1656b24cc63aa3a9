// Support-vector regression for BRISQUE: a libsvm svm_model loaded from either a libsvm text
// model (svm-train output, the authors' `allmodel`) or an OpenCV ml YAML/XML SVM
// (cv::ml::SVM::save output, OpenCV's brisque_model_live.yml), plus the feature range table
// (svm-scale `-s` output such as `allrange`, or OpenCV's brisque_range_live.yml).
// Loaded once, then const: predict() is safe to call from many threads.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <svm.h>

namespace iqa::brisque {

class SvrModel {
 public:
  // Reads a libsvm text model or an OpenCV ml SVM (.yml/.yaml/.xml, detected by content).
  // Anything malformed, a non-regression SVM, or support vectors with more than
  // `feature_count` dimensions: ERR_MODEL.
  static std::shared_ptr<const SvrModel> load(const std::string& path, int feature_count);

  SvrModel(const SvrModel&) = delete;
  SvrModel& operator=(const SvrModel&) = delete;

  // libsvm's svm_predict on a dense feature vector (x[0] is libsvm index 1; zeros are
  // dropped like svm-scale does).
  double predict(const double* x) const;

  // What cv::ml::SVM::predict computes for this model: RBF kernel values rounded to float
  // (float differences, double sum, cv::exp in float), decision sum in double, result as float.
  // Hand-written (libsvm computes the kernel in double) because OpenCV parity needs its rounding.
  float predict_opencv(const float* x) const;

  int feature_count() const { return dims_; }
  int support_vectors() const { return model_.l; }
  const svm_model* raw() const { return &model_; }

 private:
  SvrModel() = default;
  void finish(int feature_count);
  static std::unique_ptr<SvrModel> parse_libsvm(const std::string& text, const std::string& path);
  static std::unique_ptr<SvrModel> parse_opencv(const std::string& path);

  svm_model model_{};
  int dims_ = 0;
  // Storage behind model_'s pointers.
  std::vector<std::vector<svm_node>> sv_nodes_;
  std::vector<svm_node*> sv_ptrs_;
  std::vector<double> coef_;
  double* coef_row_ = nullptr;
  std::vector<double> rho_{0.0};
  std::vector<double> prob_a_;
  // Dense float copy of the support vectors (sv-major) for predict_opencv.
  std::vector<float> dense_sv_;
};

// Per-feature [min, max] and the target interval, svm-scale semantics.
struct FeatureRange {
  double lower = -1, upper = 1;
  std::vector<double> min, max;  // index 0 is feature 1

  // Reads an svm-scale range file (`x` / `lower upper` / `index min max` lines) or an OpenCV
  // FileStorage with a 2 x N `range` matrix (row 0 min, row 1 max). Must describe exactly
  // `feature_count` features: else ERR_MODEL.
  static FeatureRange load(const std::string& path, int feature_count);

  // svm-scale arithmetic in double; a feature whose min == max scales to 0 (svm-scale omits it).
  void scale(double* x) const;
  // OpenCV quality_utils::scale arithmetic in float (lower + (upper-lower)*(x-min)/(max-min)).
  void scale_opencv(float* x) const;
  // Writes the svm-scale text format (what load() reads back).
  void save(const std::string& path) const;
};

}  // namespace iqa::brisque
