#include "common/versions.h"

#include <thread>

#include <opencv2/core/utility.hpp>
#include <svm.h>

namespace iqa {
LibraryVersions library_versions() {
  LibraryVersions v;
  v.opencv = cv::getVersionString();
  v.libsvm = std::to_string(libsvm_version / 100) + "." + std::to_string(libsvm_version % 100);
  v.threads = cv::getNumThreads();
  v.cpus = int(std::thread::hardware_concurrency());
  return v;
}
}  // namespace iqa
