#include "niqe/niqe_model.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <regex>

#ifndef IQA_NO_MATIO
#include <matio.h>
#endif
#include <zip.h>

#include "common/error.h"
#include "niqe/niqe_features.h"

namespace iqa::niqe {

namespace {

[[noreturn]] void model_error(const std::string& path, const std::string& why) {
  fail(ErrorCode::Model, "NIQE model " + path + ": " + why);
}

std::string read_prefix(const std::string& path, size_t n) {
  std::ifstream f(path, std::ios::binary);
  if (!f) model_error(path, "cannot open the file");
  std::string s(n, '\0');
  f.read(&s[0], std::streamsize(n));
  s.resize(size_t(f.gcount()));
  return s;
}

// ---- .npy inside .npz -------------------------------------------------------------------
// A .npy member: magic, version, a Python-literal header dict, raw little-endian data.
// Only float64 (and float32) arrays are accepted: the model has no other dtype.
cv::Mat parse_npy(const std::string& bytes, const std::string& path, const std::string& member) {
  auto bad = [&](const std::string& why) { model_error(path, member + ": " + why); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) bad("not a .npy array");
  const unsigned major = uint8_t(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad("truncated header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= size_t(uint8_t(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    bad("unsupported .npy version " + std::to_string(major));
  }
  if (bytes.size() < offset + header_len) bad("truncated header");
  const std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([<>|=]?)([fiu])(\\d+)'"))) bad("no dtype in header");
  const std::string endian = m[1], kind = m[2];
  const int item = std::stoi(m[3]);
  if (kind != "f" || (item != 8 && item != 4) || endian == ">") bad("dtype must be little-endian float64 or float32");
  const bool fortran = std::regex_search(header, std::regex("'fortran_order'\\s*:\\s*True"));
  if (!std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)"))) bad("no shape in header");
  std::vector<int> shape;
  const std::string dims = m[1];
  static const std::regex number("\\d+");
  std::sregex_iterator it(dims.begin(), dims.end(), number), end;
  for (; it != end; ++it) shape.push_back(std::stoi(it->str()));
  if (shape.empty() || shape.size() > 2) bad("expected a 1-D or 2-D array");
  const int rows = shape.size() == 2 ? shape[0] : 1, cols = shape.back();
  const size_t count = size_t(rows) * size_t(cols);
  const size_t data = offset + header_len;
  if (bytes.size() < data + count * size_t(item)) bad("truncated data");
  cv::Mat out(rows, cols, CV_64F);
  for (size_t k = 0; k < count; ++k) {
    double v;
    if (item == 8) {
      std::memcpy(&v, bytes.data() + data + 8 * k, 8);
    } else {
      float f;
      std::memcpy(&f, bytes.data() + data + 4 * k, 4);
      v = f;
    }
    // Fortran order stores columns first.
    const size_t r = fortran ? k % size_t(rows) : k / size_t(cols), c = fortran ? k / size_t(rows) : k % size_t(cols);
    out.at<double>(int(r), int(c)) = v;
  }
  return out;
}

std::string read_zip_member(zip_t* z, const std::string& name, const std::string& path) {
  zip_int64_t index = zip_name_locate(z, name.c_str(), 0);
  if (index < 0) model_error(path, "no member " + name);
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z, zip_uint64_t(index), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) model_error(path, "cannot stat " + name);
  if (st.size > (64u << 20)) model_error(path, name + " is implausibly large");
  zip_file_t* f = zip_fopen_index(z, zip_uint64_t(index), 0);
  if (!f) model_error(path, std::string("cannot read ") + name + ": " + zip_strerror(z));
  std::string buf(size_t(st.size), '\0');
  zip_int64_t got = st.size ? zip_fread(f, &buf[0], st.size) : 0;
  zip_fclose(f);
  if (got < 0 || zip_uint64_t(got) != st.size) model_error(path, "cannot read " + name + " (corrupt archive)");
  return buf;
}

PristineModel load_npz(const std::string& path) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!z) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string why = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    model_error(path, "not a readable .npz (zip) archive: " + why);
  }
  PristineModel m;
  try {
    m.mu = parse_npy(read_zip_member(z, "mu_pris_param.npy", path), path, "mu_pris_param");
    m.cov = parse_npy(read_zip_member(z, "cov_pris_param.npy", path), path, "cov_pris_param");
  } catch (...) {
    zip_discard(z);
    throw;
  }
  zip_discard(z);
  return m;
}

// ---- MATLAB .mat ------------------------------------------------------------------------
#ifdef IQA_NO_MATIO
// The self-contained prebuild has no matio: Debian's pool mirror serves no matio source and
// Debian's own libmatio.a is not position-independent (scripts/prebuild-static/static-deps.cmake).
PristineModel load_mat(const std::string& path) {
  model_error(path, "this build reads no MATLAB .mat files (the self-contained prebuild has no matio): save mu_prisparam and cov_prisparam as .npz, "
                    "JSON or YAML, or install iqa-node with --build-from-source");
}
#else
void silent_matio_log(int, char*) {}

cv::Mat read_mat_var(mat_t* mat, const char* name, const std::string& path) {
  matvar_t* v = Mat_VarRead(mat, name);
  if (!v) model_error(path, std::string("no variable ") + name);
  const bool ok = v->class_type == MAT_C_DOUBLE && v->data_type == MAT_T_DOUBLE && !v->isComplex && v->rank == 2 && v->data != nullptr;
  if (!ok) {
    Mat_VarFree(v);
    model_error(path, std::string(name) + " must be a real double matrix");
  }
  const int rows = int(v->dims[0]), cols = int(v->dims[1]);
  cv::Mat out(rows, cols, CV_64F);
  const double* d = static_cast<const double*>(v->data);
  for (int c = 0; c < cols; ++c)
    for (int r = 0; r < rows; ++r) out.at<double>(r, c) = d[size_t(c) * rows + r];  // column-major
  Mat_VarFree(v);
  return out;
}

PristineModel load_mat(const std::string& path) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { Mat_LogInitFunc("iqa-node", silent_matio_log); });
  mat_t* mat = Mat_Open(path.c_str(), MAT_ACC_RDONLY);
  if (!mat) model_error(path, "not a readable MATLAB .mat file");
  PristineModel m;
  try {
    m.mu = read_mat_var(mat, "mu_prisparam", path);
    m.cov = read_mat_var(mat, "cov_prisparam", path);
  } catch (...) {
    Mat_Close(mat);
    throw;
  }
  Mat_Close(mat);
  return m;
}
#endif

// ---- project format (cv::FileStorage: JSON, YAML or XML) --------------------------------
PristineModel load_filestorage(const std::string& path) {
  PristineModel m;
  try {
    cv::FileStorage fs(path, cv::FileStorage::READ);
    if (!fs.isOpened()) model_error(path, "not a readable JSON/YAML model");
    std::string format;
    fs["format"] >> format;
    if (format != "iqa-niqe-model") model_error(path, "\"format\" is not \"iqa-niqe-model\"");
    if (int(fs["version"]) != 1) model_error(path, "unsupported \"version\" (this build reads version 1)");
    cv::FileNode mu = fs["mu"], cov = fs["cov"];
    if (!mu.isSeq() || !cov.isSeq()) model_error(path, "\"mu\" and \"cov\" must be arrays");
    std::vector<double> vm, vc;
    mu >> vm;
    cov >> vc;
    if (vm.size() != size_t(kFeatures) || vc.size() != size_t(kFeatures * kFeatures))
      model_error(path, "\"mu\" must hold 36 numbers and \"cov\" 1296 (36x36, row-major)");
    m.mu = cv::Mat(vm, true).reshape(1, 1);
    m.cov = cv::Mat(vc, true).reshape(1, kFeatures);
  } catch (const cv::Exception& e) {
    model_error(path, std::string("cannot parse: ") + e.what());
  }
  return m;
}

}  // namespace

void validate_pristine_model(const PristineModel& m, const std::string& source) {
  if (m.mu.total() != size_t(kFeatures) || (m.mu.rows != 1 && m.mu.cols != 1))
    model_error(source, "mean must be a 1x36 vector, got " + std::to_string(m.mu.rows) + "x" + std::to_string(m.mu.cols));
  if (m.cov.rows != kFeatures || m.cov.cols != kFeatures)
    model_error(source, "covariance must be 36x36, got " + std::to_string(m.cov.rows) + "x" + std::to_string(m.cov.cols));
  if (!cv::checkRange(m.mu) || !cv::checkRange(m.cov)) model_error(source, "holds NaN or infinite values");
  const double scale = cv::norm(m.cov, cv::NORM_INF);
  if (cv::norm(m.cov, m.cov.t(), cv::NORM_INF) > 1e-9 * std::max(scale, 1e-300)) model_error(source, "covariance is not symmetric");
  for (int i = 0; i < kFeatures; ++i)
    if (m.cov.at<double>(i, i) < 0) model_error(source, "covariance has a negative variance");
}

PristineModel load_pristine_model(const std::string& path) {
  const std::string head = read_prefix(path, 128);
  PristineModel m;
  if (head.compare(0, 4, "PK\x03\x04") == 0 || head.compare(0, 4, "PK\x05\x06") == 0) {
    m = load_npz(path);
  } else if (head.compare(0, 6, "MATLAB") == 0 || head.compare(0, 4, "\x89HDF") == 0 ||
             (path.size() > 4 && path.compare(path.size() - 4, 4, ".mat") == 0)) {
    m = load_mat(path);
  } else {
    m = load_filestorage(path);
  }
  m.mu = m.mu.reshape(1, 1);
  validate_pristine_model(m, path);
  return m;
}

}  // namespace iqa::niqe
