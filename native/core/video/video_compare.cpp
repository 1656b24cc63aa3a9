#include "video/video_compare.h"

#include <thread>

#include "video/video_fr.h"

namespace iqa {
namespace {

// Reads up to n frames; an exception is kept for the caller's thread.
void read_frames(FrameSource& src, size_t n, std::vector<VideoFrame>& out, std::exception_ptr& error) {
  try {
    out.clear();
    VideoFrame f;
    while (out.size() < n && src.next(f)) out.push_back(std::move(f));
  } catch (...) {
    error = std::current_exception();
  }
}

}  // namespace

VideoComparison::VideoComparison(const VideoSpec& ref, const VideoSpec& dist, const VideoReadOptions& read, const VideoMetricSet& metrics)
    : ref_(ref, read, FrameLayout::Yuv420), dist_(dist, read, FrameLayout::Yuv420), metrics_(metrics) {
  const VideoInfo &a = ref_.info(), &b = dist_.info();
  if (a.width != b.width || a.height != b.height)
    fail(ErrorCode::Input, "reference video is " + std::to_string(a.width) + "x" + std::to_string(a.height) + " but distorted video is " +
                               std::to_string(b.width) + "x" + std::to_string(b.height));
  if (metrics.psnr) columns_.insert(columns_.end(), {"mse_y", "mse_u", "mse_v", "mse_avg", "psnr_y", "psnr_u", "psnr_v", "psnr_avg"});
  if (metrics.ssim) columns_.insert(columns_.end(), {"ssim_y", "ssim_u", "ssim_v", "ssim_all"});
  if (metrics.msssim) {
    msssim_ = create_fr_metric("ms-ssim", Options());
    columns_.push_back("ms_ssim");
  }
  if (metrics.gmsd) {
    gmsd_ = create_fr_metric("gmsd", Options());
    columns_.push_back("gmsd");
  }
  if (columns_.empty()) fail(ErrorCode::Input, "no video metric selected");
}

CompareChunk VideoComparison::next(size_t n, const std::atomic<bool>* abort) {
  std::lock_guard<std::mutex> lock(mutex_);
  CompareChunk chunk;
  chunk.columns.resize(columns_.size());
  if (done_ || n == 0) {
    chunk.done = done_;
    return chunk;
  }
  if (abort && abort->load()) fail(ErrorCode::Aborted, "aborted");
  std::vector<VideoFrame> refs, dists;
  std::exception_ptr ref_error, dist_error;
  std::thread other([&] { read_frames(dist_, n, dists, dist_error); });
  read_frames(ref_, n, refs, ref_error);
  other.join();
  if (ref_error) std::rethrow_exception(ref_error);
  if (dist_error) std::rethrow_exception(dist_error);
  const size_t m = std::min(refs.size(), dists.size());
  if (refs.size() < n || dists.size() < n) {
    done_ = true;
    // Count what the longer video still has, so the caller can report the mismatch.
    ref_extra_ = int64_t(refs.size() - m);
    dist_extra_ = int64_t(dists.size() - m);
    VideoFrame f;
    while (ref_extra_ < 1000000 && ref_.next(f)) ++ref_extra_;
    while (dist_extra_ < 1000000 && dist_.next(f)) ++dist_extra_;
  }
  chunk.done = done_;
  chunk.index.resize(m);
  chunk.time.resize(m);
  for (auto& c : chunk.columns) c.resize(m);
  std::mutex error_mutex;
  std::exception_ptr frame_error;
  parallel_items(m, [&](size_t i) {
    if (abort && abort->load()) return;
    try {
    const VideoFrame &r = refs[i], &d = dists[i];
    chunk.index[i] = r.index;
    chunk.time[i] = r.time;
    size_t col = 0;
    if (metrics_.psnr) {
      PlaneScores mse = video_mse(r, d);
      for (double v : {mse.y, mse.u, mse.v, mse.all}) chunk.columns[col++][i] = v;
      for (double v : {mse.y, mse.u, mse.v, mse.all}) chunk.columns[col++][i] = psnr_from_mse(v);
    }
    if (metrics_.ssim) {
      PlaneScores s = video_ssim(r, d);
      for (double v : {s.y, s.u, s.v, s.all}) chunk.columns[col++][i] = v;
    }
    if (msssim_) chunk.columns[col++][i] = msssim_->score(r.y, d.y);
    if (gmsd_) chunk.columns[col++][i] = gmsd_->score(r.y, d.y);
    } catch (...) {
      std::lock_guard<std::mutex> g(error_mutex);
      if (!frame_error) frame_error = std::current_exception();
    }
  });
  if (frame_error) std::rethrow_exception(frame_error);
  if (abort && abort->load()) fail(ErrorCode::Aborted, "aborted");
  return chunk;
}

}  // namespace iqa
