// Times OpenCV's cv::quality::QualityBRISQUE and iqa-node's BRISQUE (variant opencv) on the
// same decoded images in one process on one thread, and reports the largest score difference.
//
//   brisque_bench MODEL RANGE [REPEATS [BATCH [THREADS]]] < list-of-image-paths
// prints one JSON object: {"images", "opencv_ms", "iqa_ms", "speedup", "max_abs_diff", ...}.
// With BATCH > 0 it also times iqa-node scoring BATCH images (the list, cycled) through
// iqa::parallel_items (the pool the Node batch API uses) on 1 thread and on THREADS threads
// (default: all cores): "batch_1_s", "batch_n_s", "batch_scaling".
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#ifndef IQA_BENCH_RAW_ONLY
#include <opencv2/imgcodecs.hpp>
#endif
#include <opencv2/quality.hpp>

#include "metric/metric.h"

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL RANGE [REPEATS] < paths\n", argv[0]);
    return 2;
  }
  const int repeats = argc > 3 ? std::max(1, std::atoi(argv[3])) : 1;
  const int batch = argc > 4 ? std::max(0, std::atoi(argv[4])) : 0;
  const int all_threads = cv::getNumberOfCPUs();
  const int threads = argc > 5 ? std::max(1, std::atoi(argv[5])) : all_threads;
  cv::setNumThreads(1);  // one core for both: OpenCV's filters would otherwise fan out
  std::vector<cv::Mat> images;
  std::vector<std::string> names;
  std::string path;
  while (std::getline(std::cin, path)) {
    if (path.empty()) continue;
    cv::Mat img;
    if (path.size() > 4 && path.compare(path.size() - 4, 4, ".raw") == 0) {
      // Pre-decoded pixels (int32 width, height, then BGR bytes): lets the benchmark run where
      // OpenCV's codecs are not installed (built with -DIQA_BENCH_RAW_ONLY).
      FILE* f = std::fopen(path.c_str(), "rb");
      int wh[2] = {0, 0};
      if (f && std::fread(wh, sizeof(int), 2, f) == 2 && wh[0] > 0 && wh[1] > 0 && wh[0] < 65536 && wh[1] < 65536) {
        img.create(wh[1], wh[0], CV_8UC3);
        if (std::fread(img.data, 1, img.total() * 3, f) != img.total() * 3) img.release();
      }
      if (f) std::fclose(f);
    } else {
#ifndef IQA_BENCH_RAW_ONLY
      img = cv::imread(path, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
#endif
    }
    if (img.empty()) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    images.push_back(img);
    names.push_back(path);
  }
  if (images.empty()) return 1;
  auto ref = cv::quality::QualityBRISQUE::create(argv[1], argv[2]);
  iqa::Options opts;
  opts.set("variant", std::string("opencv"));
  opts.set("model", std::string(argv[1]));
  opts.set("range", std::string(argv[2]));
  auto ours = iqa::create_nr_metric("brisque", opts);

  std::vector<double> a, b;
  // Images OpenCV scores but iqa-node rejects (ERR_INPUT where OpenCV returns NaN or a
  // number from NaN features) are listed and left out of the timing.
  std::vector<cv::Mat> kept;
  for (size_t i = 0; i < images.size(); ++i) {
    try {
      ours->score(images[i]);
      kept.push_back(images[i]);
    } catch (const iqa::Error& e) {
      std::fprintf(stderr, "iqa rejects %s (OpenCV: %g): %s\n", names[i].c_str(), ref->compute(images[i])[0], e.what());
    }
  }
  images.swap(kept);
  if (images.empty()) return 1;
  a.resize(images.size());
  b.resize(images.size());
  double t_ref = 1e300, t_ours = 1e300;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = Clock::now();
    for (size_t i = 0; i < images.size(); ++i) a[i] = ref->compute(images[i])[0];
    auto t1 = Clock::now();
    for (size_t i = 0; i < images.size(); ++i) b[i] = ours->score(images[i]);
    auto t2 = Clock::now();
    t_ref = std::min(t_ref, std::chrono::duration<double, std::milli>(t1 - t0).count());
    t_ours = std::min(t_ours, std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  double max_diff = 0;
  size_t worst = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    double d = std::abs(a[i] - b[i]);
    if (d > max_diff) {
      max_diff = d;
      worst = i;
    }
  }
  const double n = double(images.size());
  double batch_1 = 0, batch_n = 0;
  if (batch > 0) {
    std::vector<double> out(static_cast<size_t>(batch));
    auto run = [&](int t) {
      cv::setNumThreads(t);
      auto t0 = Clock::now();
      iqa::parallel_items(size_t(batch), [&](size_t i) { out[i] = ours->score(images[i % images.size()]); });
      return std::chrono::duration<double>(Clock::now() - t0).count();
    };
    run(threads);  // warm the pool and every thread's workspace
    batch_1 = run(1);
    batch_n = run(threads);
    cv::setNumThreads(1);
  }
  std::printf("{\"images\": %zu, \"width\": %d, \"height\": %d, \"repeats\": %d, \"opencv_ms\": %.4f, \"iqa_ms\": %.4f, \"speedup\": %.3f, "
              "\"max_abs_diff\": %.3g, \"worst_index\": %zu",
              images.size(), images[0].cols, images[0].rows, repeats, t_ref / n, t_ours / n, t_ref / t_ours, max_diff, worst);
  if (batch > 0)
    std::printf(", \"batch\": %d, \"threads\": %d, \"batch_1_s\": %.3f, \"batch_n_s\": %.3f, \"batch_scaling\": %.3f", batch, threads, batch_1, batch_n,
                batch_1 / batch_n);
  std::printf("}\n");
  return 0;
}
