// A reference/distorted video pair scored frame by frame, in chunks: each call decodes at most
// `n` frames of each video (the two on their own threads) and scores them in parallel, so memory
// is bounded by the chunk whatever the length of the videos.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metric/metric.h"
#include "video/frame_source.h"

namespace iqa {

struct VideoMetricSet {
  bool psnr = false, ssim = false, msssim = false, gmsd = false;
};

struct CompareChunk {
  std::vector<int64_t> index;
  std::vector<double> time;
  std::vector<std::vector<double>> columns;  // one per column name, each one value per frame
  bool done = false;
};

class VideoComparison {
 public:
  // ERR_INPUT when the two videos' frame sizes differ.
  VideoComparison(const VideoSpec& ref, const VideoSpec& dist, const VideoReadOptions& read, const VideoMetricSet& metrics);
  const VideoInfo& ref_info() const { return ref_.info(); }
  const VideoInfo& dist_info() const { return dist_.info(); }
  const std::vector<std::string>& columns() const { return columns_; }
  // Frames one video had beyond the other's end (0 when they are the same length, so far).
  int64_t ref_extra() const { return ref_extra_; }
  int64_t dist_extra() const { return dist_extra_; }
  // The next chunk of at most n frame pairs; ERR_ABORTED once `abort` is set.
  CompareChunk next(size_t n, const std::atomic<bool>* abort);

 private:
  FrameSource ref_, dist_;
  VideoMetricSet metrics_;
  std::vector<std::string> columns_;
  std::shared_ptr<FrMetric> msssim_, gmsd_;
  std::mutex mutex_;  // one chunk at a time
  bool done_ = false;
  int64_t ref_extra_ = 0, dist_extra_ = 0;
};

}  // namespace iqa
