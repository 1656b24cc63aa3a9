#include "brisque/svr.h"

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <opencv2/core.hpp>

#include "common/error.h"

namespace iqa::brisque {

namespace {

constexpr size_t kMaxModelBytes = size_t(1) << 30;

[[noreturn]] void model_error(const std::string& path, const std::string& what) {
  fail(ErrorCode::Model, "SVR model file '" + path + "': " + what);
}

std::string read_text(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::Model, std::string("cannot read the ") + what + " file '" + path + "'");
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0 || size_t(size) > kMaxModelBytes) fail(ErrorCode::Model, std::string("the ") + what + " file '" + path + "' is not a regular file or is too large");
  in.seekg(0);
  std::string text(size_t(size), '\0');
  in.read(text.data(), size);
  if (!in) fail(ErrorCode::Model, std::string("cannot read the ") + what + " file '" + path + "'");
  return text;
}

// OpenCV FileStorage (YAML or XML) rather than a libsvm/svm-scale text file.
bool looks_like_filestorage(const std::string& text) {
  size_t i = text.find_first_not_of(" \t\r\n");
  if (i == std::string::npos) return false;
  return text.compare(i, 5, "%YAML") == 0 || text[i] == '<' || text.compare(i, 3, "---") == 0;
}

// strtod with full checks: one finite number, then whitespace or end.
bool parse_number(const char*& p, double& out) {
  while (*p == ' ' || *p == '\t') ++p;
  if (!*p) return false;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(p, &end);
  if (end == p || errno == ERANGE || !std::isfinite(v)) return false;
  p = end;
  out = v;
  return true;
}

bool parse_int(const char*& p, long& out) {
  while (*p == ' ' || *p == '\t') ++p;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(p, &end, 10);
  if (end == p || errno == ERANGE) return false;
  p = end;
  out = v;
  return true;
}

bool at_line_end(const char* p) {
  while (*p == ' ' || *p == '\t' || *p == '\r') ++p;
  return *p == '\0';
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

int kernel_from_name(const std::string& name) {
  if (name == "linear" || name == "LINEAR") return LINEAR;
  if (name == "polynomial" || name == "POLY") return POLY;
  if (name == "rbf" || name == "RBF") return RBF;
  if (name == "sigmoid" || name == "SIGMOID") return SIGMOID;
  return -1;
}

}  // namespace

// libsvm's own svm_load_model trusts its input (a truncated or edited file can crash it), so
// the text format is parsed and checked here and the svm_model is assembled from the result.
std::unique_ptr<SvrModel> SvrModel::parse_libsvm(const std::string& text, const std::string& path) {
  std::unique_ptr<SvrModel> m(new SvrModel());
  svm_parameter& param = m->model_.param;
  param.svm_type = -1;
  param.kernel_type = -1;
  param.degree = 3;
  param.gamma = 0;
  param.coef0 = 0;
  long nr_class = 2, total_sv = -1;
  bool have_rho = false;
  std::vector<std::string> lines = split_lines(text);
  size_t li = 0;
  for (; li < lines.size(); ++li) {
    const std::string& line = lines[li];
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    const char* rest = line.c_str() + line.find(key) + key.size();
    if (key == "SV") break;
    if (key == "svm_type") {
      std::string v;
      ls >> v;
      if (v == "epsilon_svr") param.svm_type = EPSILON_SVR;
      else if (v == "nu_svr") param.svm_type = NU_SVR;
      else if (v == "c_svc" || v == "nu_svc" || v == "one_class") model_error(path, "svm_type " + v + " is not a regression SVM (needs epsilon_svr or nu_svr)");
      else model_error(path, "unknown svm_type '" + v + "'");
    } else if (key == "kernel_type") {
      std::string v;
      ls >> v;
      param.kernel_type = kernel_from_name(v);
      if (param.kernel_type < 0) model_error(path, "unsupported kernel_type '" + v + "'");
    } else if (key == "degree") {
      long d;
      if (!parse_int(rest, d) || d < 0 || d > 100 || !at_line_end(rest)) model_error(path, "bad degree");
      param.degree = int(d);
    } else if (key == "gamma" || key == "coef0") {
      double v;
      if (!parse_number(rest, v) || !at_line_end(rest)) model_error(path, "bad " + key);
      (key == "gamma" ? param.gamma : param.coef0) = v;
    } else if (key == "nr_class") {
      if (!parse_int(rest, nr_class) || !at_line_end(rest)) model_error(path, "bad nr_class");
    } else if (key == "total_sv") {
      if (!parse_int(rest, total_sv) || total_sv < 1 || total_sv > 50000000 || !at_line_end(rest)) model_error(path, "bad total_sv");
    } else if (key == "rho") {
      if (!parse_number(rest, m->rho_[0]) || !at_line_end(rest)) model_error(path, "bad rho (a regression model has one)");
      have_rho = true;
    } else if (key == "probA") {
      double v;
      if (!parse_number(rest, v) || !at_line_end(rest)) model_error(path, "bad probA");
      m->prob_a_.assign(1, v);
    } else if (key == "probB" || key == "label" || key == "nr_sv" || key == "prob_density_marks") {
      model_error(path, "'" + key + "' belongs to a classification model, not a regression SVR");
    } else {
      model_error(path, "unknown text '" + key + "' in the model header (not a libsvm model?)");
    }
  }
  if (li >= lines.size()) model_error(path, "no 'SV' section (not a libsvm model?)");
  if (param.svm_type < 0) model_error(path, "missing svm_type");
  if (param.kernel_type < 0) model_error(path, "missing kernel_type");
  if (nr_class != 2) model_error(path, "nr_class must be 2 for a regression model");
  if (total_sv < 1) model_error(path, "missing total_sv");
  if (!have_rho) model_error(path, "missing rho");
  if (param.kernel_type != LINEAR && !(param.gamma > 0) && param.kernel_type != POLY) model_error(path, "gamma must be positive");

  m->coef_.reserve(size_t(total_sv));
  m->sv_nodes_.reserve(size_t(total_sv));
  for (++li; li < lines.size(); ++li) {
    const char* p = lines[li].c_str();
    if (at_line_end(p)) continue;
    if (long(m->coef_.size()) >= total_sv) model_error(path, "more support vectors than total_sv = " + std::to_string(total_sv));
    double coef;
    if (!parse_number(p, coef)) model_error(path, "bad coefficient on support vector line " + std::to_string(m->coef_.size() + 1));
    std::vector<svm_node> nodes;
    long last = 0;
    while (!at_line_end(p)) {
      long index;
      double value;
      if (!parse_int(p, index) || *p != ':') model_error(path, "bad index:value pair on support vector line " + std::to_string(m->coef_.size() + 1));
      ++p;
      if (!parse_number(p, value)) model_error(path, "bad value on support vector line " + std::to_string(m->coef_.size() + 1));
      if (index <= last || index > 1000000) model_error(path, "feature indices must increase from 1 (support vector line " + std::to_string(m->coef_.size() + 1) + ")");
      last = index;
      nodes.push_back({int(index), value});
    }
    nodes.push_back({-1, 0.0});
    m->coef_.push_back(coef);
    m->sv_nodes_.push_back(std::move(nodes));
  }
  if (long(m->coef_.size()) != total_sv)
    model_error(path, "total_sv says " + std::to_string(total_sv) + " support vectors but the file holds " + std::to_string(m->coef_.size()) + " (truncated?)");
  return m;
}

std::unique_ptr<SvrModel> SvrModel::parse_opencv(const std::string& path) {
  std::unique_ptr<SvrModel> m(new SvrModel());
  try {
    cv::FileStorage fs(path, cv::FileStorage::READ);
    if (!fs.isOpened()) model_error(path, "OpenCV cannot open it as a FileStorage");
    cv::FileNode root = fs["opencv_ml_svm"];
    if (root.empty() || !root.isMap()) model_error(path, "no 'opencv_ml_svm' node (not an OpenCV ml SVM)");
    std::string type = (std::string)root["svmType"];
    svm_parameter& param = m->model_.param;
    if (type == "EPS_SVR") param.svm_type = EPSILON_SVR;
    else if (type == "NU_SVR") param.svm_type = NU_SVR;
    else model_error(path, "svmType '" + type + "' is not a regression SVM (BRISQUE needs EPS_SVR or NU_SVR)");
    cv::FileNode kn = root["kernel"];
    if (kn.empty() || !kn.isMap()) model_error(path, "missing kernel");
    std::string ktype = (std::string)kn["type"];
    param.kernel_type = kernel_from_name(ktype);
    if (param.kernel_type < 0) model_error(path, "kernel type '" + ktype + "' has no libsvm equivalent");
    param.gamma = kn["gamma"].empty() ? 1.0 : (double)kn["gamma"];
    param.coef0 = kn["coef0"].empty() ? 0.0 : (double)kn["coef0"];
    param.degree = kn["degree"].empty() ? 3 : int((double)kn["degree"]);
    if (!root["var_idx"].empty()) model_error(path, "models trained on a feature subset (var_idx) are not supported");
    int var_count = (int)root["var_count"];
    int sv_total = (int)root["sv_total"];
    if (var_count <= 0 || sv_total <= 0) model_error(path, "bad var_count or sv_total");
    cv::FileNode svs = root["support_vectors"];
    if (!svs.isSeq() || int(svs.size()) != sv_total) model_error(path, "support_vectors does not hold sv_total = " + std::to_string(sv_total) + " rows");
    std::vector<std::vector<float>> rows;
    rows.reserve(size_t(sv_total));
    for (cv::FileNodeIterator it = svs.begin(); it != svs.end(); ++it) {
      std::vector<float> row;
      (*it) >> row;
      if (int(row.size()) != var_count) model_error(path, "a support vector has " + std::to_string(row.size()) + " values, var_count is " + std::to_string(var_count));
      rows.push_back(std::move(row));
    }
    cv::FileNode dfs = root["decision_functions"];
    if (!dfs.isSeq() || dfs.size() != 1) model_error(path, "a regression SVM has exactly one decision function");
    cv::FileNode df = dfs[0];
    std::vector<double> alpha;
    df["alpha"] >> alpha;
    int sv_count = (int)df["sv_count"];
    std::vector<int> index;
    if (!df["index"].empty()) df["index"] >> index;
    else for (int i = 0; i < sv_count; ++i) index.push_back(i);
    if (int(alpha.size()) != sv_count || int(index.size()) != sv_count || sv_count <= 0) model_error(path, "decision function sizes disagree");
    m->rho_[0] = (double)df["rho"];
    for (int k = 0; k < sv_count; ++k) {
      if (index[k] < 0 || index[k] >= sv_total) model_error(path, "decision function index out of range");
      if (!std::isfinite(alpha[k])) model_error(path, "non-finite alpha");
      const std::vector<float>& row = rows[size_t(index[k])];
      std::vector<svm_node> nodes;
      for (int j = 0; j < var_count; ++j) {
        if (!std::isfinite(row[j])) model_error(path, "non-finite support vector value");
        if (row[j] != 0) nodes.push_back({j + 1, double(row[j])});
      }
      nodes.push_back({-1, 0.0});
      m->coef_.push_back(alpha[k]);
      m->sv_nodes_.push_back(std::move(nodes));
    }
    m->dims_ = var_count;
  } catch (const cv::Exception& e) {
    model_error(path, "OpenCV could not parse it: " + e.err);
  }
  return m;
}

void SvrModel::finish(int feature_count) {
  int max_index = 0;
  for (const auto& nodes : sv_nodes_)
    for (const auto& n : nodes)
      if (n.index > max_index) max_index = n.index;
  if (dims_ == 0) dims_ = max_index;
  if (max_index > feature_count || dims_ > feature_count)
    fail(ErrorCode::Model, "SVR model has " + std::to_string(std::max(max_index, dims_)) + " features, its input has " + std::to_string(feature_count));
  if (!std::isfinite(rho_[0])) fail(ErrorCode::Model, "SVR model has a non-finite rho");
  dims_ = feature_count;
  sv_ptrs_.clear();
  for (auto& nodes : sv_nodes_) sv_ptrs_.push_back(nodes.data());
  coef_row_ = coef_.data();
  model_.nr_class = 2;
  model_.l = int(sv_nodes_.size());
  model_.SV = sv_ptrs_.data();
  model_.sv_coef = &coef_row_;
  model_.rho = rho_.data();
  model_.probA = prob_a_.empty() ? nullptr : prob_a_.data();
  model_.probB = nullptr;
  model_.sv_indices = nullptr;
  model_.label = nullptr;
  model_.nSV = nullptr;
  model_.free_sv = 0;
  dense_sv_.assign(size_t(model_.l) * dims_, 0.f);
  for (int i = 0; i < model_.l; ++i)
    for (const svm_node* n = sv_ptrs_[i]; n->index != -1; ++n) dense_sv_[size_t(i) * dims_ + (n->index - 1)] = float(n->value);
}

std::shared_ptr<const SvrModel> SvrModel::load(const std::string& path, int feature_count) {
  std::string text = read_text(path, "SVR model");
  std::unique_ptr<SvrModel> m = looks_like_filestorage(text) ? parse_opencv(path) : parse_libsvm(text, path);
  m->finish(feature_count);
  return std::shared_ptr<const SvrModel>(m.release());
}

double SvrModel::predict(const double* x) const {
  svm_node nodes[256];
  std::vector<svm_node> heap;
  svm_node* dst = nodes;
  if (dims_ + 1 > 256) {
    heap.resize(size_t(dims_) + 1);
    dst = heap.data();
  }
  int k = 0;
  for (int i = 0; i < dims_; ++i)
    if (x[i] != 0) dst[k++] = {i + 1, x[i]};
  dst[k] = {-1, 0.0};
  return svm_predict(&model_, dst);
}

float SvrModel::predict_opencv(const float* x) const {
  const svm_parameter& param = model_.param;
  const int l = model_.l, n = dims_;
  std::vector<float> buf(static_cast<size_t>(l));
  if (param.kernel_type == RBF) {
    const double neg_gamma = -param.gamma;
    for (int j = 0; j < l; ++j) {
      const float* sv = &dense_sv_[size_t(j) * n];
      double s = 0;
      int k = 0;
      // Same grouping as OpenCV's calc_rbf: float differences, pairs summed before adding.
      for (; k <= n - 4; k += 4) {
        double t0 = sv[k] - x[k], t1 = sv[k + 1] - x[k + 1];
        s += t0 * t0 + t1 * t1;
        t0 = sv[k + 2] - x[k + 2];
        t1 = sv[k + 3] - x[k + 3];
        s += t0 * t0 + t1 * t1;
      }
      for (; k < n; ++k) {
        double t0 = sv[k] - x[k];
        s += t0 * t0;
      }
      buf[j] = float(s * neg_gamma);
    }
    cv::Mat r(1, l, CV_32F, buf.data());
    cv::exp(r, r);
  } else {
    // Other kernels: libsvm's kernel value, rounded to float as OpenCV stores it.
    std::vector<svm_node> xn;
    for (int i = 0; i < n; ++i)
      if (x[i] != 0) xn.push_back({i + 1, double(x[i])});
    xn.push_back({-1, 0.0});
    std::vector<double> dv(1);
    double sum = svm_predict_values(&model_, xn.data(), dv.data());
    return float(sum);
  }
  const float max_val = float(FLT_MAX * 1e-3);
  double sum = -model_.rho[0];
  for (int j = 0; j < l; ++j) sum += double(std::min(buf[j], max_val)) * coef_[j];
  return float(sum);
}

FeatureRange FeatureRange::load(const std::string& path, int feature_count) {
  FeatureRange r;
  std::string text = read_text(path, "BRISQUE range");
  auto range_error = [&](const std::string& what) { fail(ErrorCode::Model, "BRISQUE range file '" + path + "': " + what); };
  if (looks_like_filestorage(text)) {
    cv::Mat m;
    try {
      cv::FileStorage fs(path, cv::FileStorage::READ);
      if (!fs.isOpened()) range_error("OpenCV cannot open it as a FileStorage");
      fs["range"] >> m;
    } catch (const cv::Exception& e) {
      range_error("OpenCV could not parse it: " + e.err);
    }
    if (m.empty()) range_error("no 'range' matrix");
    if (m.rows != 2 || m.cols != feature_count || m.channels() != 1)
      range_error("'range' is " + std::to_string(m.rows) + "x" + std::to_string(m.cols) + ", expected 2x" + std::to_string(feature_count));
    m.convertTo(m, CV_64F);
    r.min.assign(m.ptr<double>(0), m.ptr<double>(0) + feature_count);
    r.max.assign(m.ptr<double>(1), m.ptr<double>(1) + feature_count);
  } else {
    std::vector<std::string> lines = split_lines(text);
    size_t li = 0;
    auto next = [&]() -> const char* {
      while (li < lines.size() && at_line_end(lines[li].c_str())) ++li;
      return li < lines.size() ? lines[li++].c_str() : nullptr;
    };
    const char* p = next();
    if (p && p[0] == 'y' && at_line_end(p + 1)) {
      // Target scaling section (svm-scale -y): irrelevant for features, skipped.
      if (!next() || !next()) range_error("truncated 'y' section");
      p = next();
    }
    if (!p || p[0] != 'x' || !at_line_end(p + 1)) range_error("expected an svm-scale range file starting with 'x'");
    p = next();
    if (!p || !parse_number(p, r.lower) || !parse_number(p, r.upper) || !at_line_end(p) || !(r.lower < r.upper)) range_error("bad 'lower upper' line");
    r.min.assign(size_t(feature_count), NAN);
    r.max.assign(size_t(feature_count), NAN);
    while ((p = next())) {
      long idx;
      double lo, hi;
      if (!parse_int(p, idx) || !parse_number(p, lo) || !parse_number(p, hi) || !at_line_end(p)) range_error("bad 'index min max' line " + std::to_string(li));
      if (idx < 1 || idx > feature_count) range_error("feature index " + std::to_string(idx) + " is outside 1.." + std::to_string(feature_count));
      if (!std::isnan(r.min[size_t(idx - 1)])) range_error("feature index " + std::to_string(idx) + " appears twice");
      r.min[size_t(idx - 1)] = lo;
      r.max[size_t(idx - 1)] = hi;
    }
    for (int i = 0; i < feature_count; ++i)
      if (std::isnan(r.min[size_t(i)])) range_error("feature " + std::to_string(i + 1) + " has no range (expected all " + std::to_string(feature_count) + ")");
  }
  for (int i = 0; i < feature_count; ++i)
    if (!std::isfinite(r.min[size_t(i)]) || !std::isfinite(r.max[size_t(i)]) || r.min[size_t(i)] > r.max[size_t(i)])
      range_error("feature " + std::to_string(i + 1) + " has an invalid range");
  return r;
}

void FeatureRange::scale(double* x) const {
  for (size_t i = 0; i < min.size(); ++i) {
    if (max[i] == min[i]) x[i] = 0;
    else if (x[i] == min[i]) x[i] = lower;
    else if (x[i] == max[i]) x[i] = upper;
    else x[i] = lower + (upper - lower) * (x[i] - min[i]) / (max[i] - min[i]);
  }
}

void FeatureRange::scale_opencv(float* x) const {
  const float lo = float(lower), hi = float(upper);
  for (size_t i = 0; i < min.size(); ++i) {
    const float mn = float(min[i]), mx = float(max[i]);
    x[i] = lo + (hi - lo) * (x[i] - mn) / (mx - mn);
  }
}

void FeatureRange::save(const std::string& path) const {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) fail(ErrorCode::Input, "cannot write the range file '" + path + "'");
  std::fprintf(f, "x\n%.17g %.17g\n", lower, upper);
  for (size_t i = 0; i < min.size(); ++i) std::fprintf(f, "%zu %.17g %.17g\n", i + 1, min[i], max[i]);
  if (std::fclose(f) != 0) fail(ErrorCode::Input, "cannot write the range file '" + path + "'");
}

}  // namespace iqa::brisque
