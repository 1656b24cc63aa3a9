#pragma once
#include <string>

namespace iqa {
struct LibraryVersions {
  std::string opencv;   // runtime OpenCV version
  std::string libsvm;   // e.g. "3.24"
  int threads = 0;      // OpenCV worker threads used for batches
  int cpus = 0;
};
LibraryVersions library_versions();
}  // namespace iqa
