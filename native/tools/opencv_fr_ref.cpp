// Reference values and timings from OpenCV's quality module (opencv_contrib, Debian
// libopencv-contrib-dev): QualitySSIM, QualityGMSD, QualityPSNR. Independent of iqa-node's own
// metrics (only OpenCV is used here); scripts/golden/fr_opencv.mjs runs it to write
// test/golden/fr_opencv.json, bench/ssim.mjs runs it for the OpenCV timing.
//
//   opencv_fr_ref REF DIST [REF DIST ...]      one JSON line per pair: per-channel values (BGR
//                                              order) for 8-bit input (OpenCV computes in float32)
//                                              and for the same pixels as CV_64F (double)
//   opencv_fr_ref --bench WIDTHxHEIGHT REPS    median ms of QualitySSIM::compute on a random 8-bit
//                                              BGR pair (single thread and default threads)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/quality.hpp>

namespace {

std::string scalar_json(const cv::Scalar& s, int channels) {
  std::string out = "[";
  char buf[64];
  for (int c = 0; c < channels; ++c) {
    std::snprintf(buf, sizeof buf, "%s%.17g", c ? "," : "", s[c]);
    out += buf;
  }
  return out + "]";
}

std::string map_stats(const cv::Mat& map) {
  // Mean, population standard deviation and size of the first channel of a quality map.
  std::vector<cv::Mat> planes;
  cv::split(map, planes);
  cv::Mat m;
  planes[0].convertTo(m, CV_64F);
  cv::Scalar mean, sd;
  cv::meanStdDev(m, mean, sd);
  char buf[160];
  std::snprintf(buf, sizeof buf, "{\"width\":%d,\"height\":%d,\"mean\":%.17g,\"std\":%.17g}", m.cols, m.rows, mean[0], sd[0]);
  return buf;
}

int compare_pairs(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    cv::Mat ref = cv::imread(argv[i], cv::IMREAD_COLOR), dist = cv::imread(argv[i + 1], cv::IMREAD_COLOR);
    if (ref.empty() || dist.empty()) {
      std::fprintf(stderr, "cannot read %s or %s\n", argv[i], argv[i + 1]);
      return 1;
    }
    cv::Mat ref64, dist64;
    ref.convertTo(ref64, CV_64F);
    dist.convertTo(dist64, CV_64F);
    const int ch = ref.channels();
    cv::Mat ssim_map8, ssim_map64, gmsd_map64;
    cv::Scalar ssim8 = cv::quality::QualitySSIM::compute(ref, dist, ssim_map8);
    cv::Scalar ssim64 = cv::quality::QualitySSIM::compute(ref64, dist64, ssim_map64);
    cv::Scalar gmsd8 = cv::quality::QualityGMSD::compute(ref, dist, cv::noArray());
    cv::Scalar gmsd64 = cv::quality::QualityGMSD::compute(ref64, dist64, gmsd_map64);
    cv::Scalar psnr8 = cv::quality::QualityPSNR::compute(ref, dist, cv::noArray());
    std::printf(
        "{\"ref\":\"%s\",\"dist\":\"%s\",\"order\":\"bgr\",\"ssim_u8\":%s,\"ssim_f64\":%s,\"ssim_f64_map\":%s,\"gmsd_u8\":%s,\"gmsd_f64\":%s,"
        "\"gmsd_f64_map\":%s,\"psnr_u8\":%s}\n",
        argv[i], argv[i + 1], scalar_json(ssim8, ch).c_str(), scalar_json(ssim64, ch).c_str(), map_stats(ssim_map64).c_str(),
        scalar_json(gmsd8, ch).c_str(), scalar_json(gmsd64, ch).c_str(), map_stats(gmsd_map64).c_str(), scalar_json(psnr8, ch).c_str());
  }
  return 0;
}

double median_ms(const cv::Mat& a, const cv::Mat& b, int reps) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    cv::Scalar s = cv::quality::QualitySSIM::compute(a, b, cv::noArray());
    auto t1 = std::chrono::steady_clock::now();
    if (s[0] > 2) std::abort();  // keep the call
    t.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int bench(const char* size, int reps) {
  int w = 0, h = 0;
  if (std::sscanf(size, "%dx%d", &w, &h) != 2 || w <= 0 || h <= 0) return 2;
  cv::Mat a(h, w, CV_8UC3), b;
  cv::RNG rng(1);
  rng.fill(a, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(a, a, cv::Size(5, 5), 1.0);
  cv::Mat noise(h, w, CV_8UC3);
  rng.fill(noise, cv::RNG::UNIFORM, 0, 16);
  cv::add(a, noise, b);
  cv::Mat ga, gb;
  cv::cvtColor(a, ga, cv::COLOR_BGR2GRAY);
  cv::cvtColor(b, gb, cv::COLOR_BGR2GRAY);
  const int threads = cv::getNumThreads();
  median_ms(a, b, 2);
  double bgr_mt = median_ms(a, b, reps), gray_mt = median_ms(ga, gb, reps);
  cv::setNumThreads(1);
  double bgr_1 = median_ms(a, b, reps), gray_1 = median_ms(ga, gb, reps);
  std::printf("{\"width\":%d,\"height\":%d,\"reps\":%d,\"threads\":%d,\"ssim_bgr_ms\":%.4f,\"ssim_gray_ms\":%.4f,\"ssim_bgr_1thread_ms\":%.4f,"
              "\"ssim_gray_1thread_ms\":%.4f}\n",
              w, h, reps, threads, bgr_mt, gray_mt, bgr_1, gray_1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--bench") return bench(argv[2], std::atoi(argv[3]));
  if (argc < 3 || argc % 2 == 0) {
    std::fprintf(stderr, "usage: opencv_fr_ref REF DIST [REF DIST ...] | --bench WxH REPS\n");
    return 2;
  }
  return compare_pairs(argc, argv);
}
