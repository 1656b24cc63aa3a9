// Video frames as planar YUV 4:2:0 (the planes ffmpeg's psnr/ssim filters compare) or BGR (for
// the image metrics), decoded with libavformat/libavcodec. OpenCV's videoio (4.6, FFmpeg
// backend) hands out BGR only, and BGR→Y does not round-trip to the stream's own Y plane, so
// the full-reference video metrics need the decoder's planes.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include <opencv2/core.hpp>

namespace iqa {

// Where frames come from: a container file, or a raw YUV 4:2:0 file of known geometry.
struct VideoSpec {
  std::string path;
  bool raw = false;        // raw planar yuv420p frames back to back
  int raw_width = 0, raw_height = 0;
  double raw_fps = 25.0;
};

struct VideoReadOptions {
  double start_time = 0;      // seconds; frames with an earlier timestamp are skipped (frame-accurate)
  double end_time = -1;       // seconds, exclusive; < 0: to the end
  int64_t step = 1;           // keep every step-th frame of the range
  int64_t max_frames = -1;    // < 0: no limit
  int read_timeout_ms = 10000;  // one frame's demux+decode may take at most this long
  int64_t max_pixels = 0;     // width*height limit; 0: none
  int decode_threads = 1;     // libavcodec's own threads (0: one per core)
};

struct VideoInfo {
  int width = 0, height = 0;
  double fps = 0;
  int64_t frame_count = -1;  // from the container header (or file size for raw); -1: unknown
  double duration = -1;      // seconds; -1: unknown
  std::string codec, pixel_format;
};

struct VideoFrame {
  int64_t index = 0;  // frame number from the start of the stream
  double time = 0;    // presentation time in seconds from the stream's start
  cv::Mat y, u, v;    // CV_8U planes (chroma at ceil(w/2) x ceil(h/2)); empty in BGR mode
  cv::Mat bgr;        // CV_8UC3; only in BGR mode
  std::shared_ptr<void> owner;  // the decoder's picture the planes point into (no copy)
};

enum class FrameLayout { Yuv420, Bgr };

class FrameSource {
 public:
  // Opens and probes; ERR_INPUT (missing file, bad geometry), ERR_DECODE (not a video, no video
  // stream, unsupported codec), ERR_TOO_LARGE (over max_pixels or absurd dimensions).
  FrameSource(const VideoSpec& spec, const VideoReadOptions& options, FrameLayout layout);
  ~FrameSource();
  FrameSource(const FrameSource&) = delete;
  FrameSource& operator=(const FrameSource&) = delete;

  const VideoInfo& info() const;
  // The next frame of the selected range; false at the end. ERR_DECODE on corrupt data or a
  // read that exceeds the timeout.
  bool next(VideoFrame& frame);
  int64_t frames_read() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Largest frame side accepted whatever the pixel limit: no codec produces more, and larger
// header values are hostile.
constexpr int kMaxVideoSide = 16384;

}  // namespace iqa
