#include "video/frame_source.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <sys/stat.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include "common/error.h"

namespace iqa {
namespace {

using Clock = std::chrono::steady_clock;

std::string av_message(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

void quiet_libav() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_QUIET); });
}

void check_geometry(int w, int h, int64_t max_pixels, const std::string& what) {
  if (w <= 0 || h <= 0) fail(ErrorCode::Decode, what + ": the video has no valid frame size");
  if (w > kMaxVideoSide || h > kMaxVideoSide)
    fail(ErrorCode::TooLarge, what + ": frame size " + std::to_string(w) + "x" + std::to_string(h) + " exceeds " + std::to_string(kMaxVideoSide) + " per side");
  if (max_pixels > 0 && int64_t(w) * h > max_pixels)
    fail(ErrorCode::TooLarge, what + ": " + std::to_string(w) + "x" + std::to_string(h) + " frames exceed the pixel limit of " + std::to_string(max_pixels));
}

// Planes of a yuv420p picture (pointers + strides) into the frame, converted as the layout asks.
struct Planes {
  const uint8_t* data[3];
  int stride[3];
};

}  // namespace

struct FrameSource::Impl {
  VideoSpec spec;
  VideoReadOptions opt;
  FrameLayout layout;
  VideoInfo info;
  int64_t decoded = 0;    // frames decoded from the stream (after any seek)
  int64_t in_range = 0;   // frames at or after start_time seen so far
  int64_t emitted = 0;
  bool ended = false;
  bool seeked = false;
  // container
  AVFormatContext* fmt = nullptr;
  AVCodecContext* dec = nullptr;
  AVPacket* pkt = nullptr;
  AVFrame* frm = nullptr;
  SwsContext* sws = nullptr;
  int stream = -1;
  double time_base = 0;
  int64_t stream_start = 0;
  bool flushing = false;
  Clock::time_point deadline;
  // raw
  FILE* file = nullptr;
  int64_t raw_next = 0;  // next raw frame number
  std::vector<uint8_t> raw_buf;

  ~Impl() {
    if (sws) sws_freeContext(sws);
    if (frm) av_frame_free(&frm);
    if (pkt) av_packet_free(&pkt);
    if (dec) avcodec_free_context(&dec);
    if (fmt) avformat_close_input(&fmt);
    if (file) std::fclose(file);
  }

  static int interrupt(void* self) { return Clock::now() > static_cast<Impl*>(self)->deadline ? 1 : 0; }
  void arm() { deadline = Clock::now() + std::chrono::milliseconds(opt.read_timeout_ms > 0 ? opt.read_timeout_ms : 1 << 30); }

  void open_container() {
    quiet_libav();
    fmt = avformat_alloc_context();
    if (!fmt) fail(ErrorCode::TooLarge, "out of memory");
    fmt->interrupt_callback.callback = &Impl::interrupt;
    fmt->interrupt_callback.opaque = this;
    arm();
    int rc = avformat_open_input(&fmt, spec.path.c_str(), nullptr, nullptr);
    if (rc < 0) {
      fmt = nullptr;  // freed by avformat_open_input on failure
      fail(ErrorCode::Decode, spec.path + ": not a readable video (" + av_message(rc) + ")");
    }
    arm();
    if ((rc = avformat_find_stream_info(fmt, nullptr)) < 0) fail(ErrorCode::Decode, spec.path + ": cannot read stream info (" + av_message(rc) + ")");
    const AVCodec* codec = nullptr;
    stream = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (stream < 0 || !codec) fail(ErrorCode::Decode, spec.path + ": no decodable video stream");
    AVStream* st = fmt->streams[stream];
    check_geometry(st->codecpar->width, st->codecpar->height, opt.max_pixels, spec.path);
    dec = avcodec_alloc_context3(codec);
    if (!dec) fail(ErrorCode::TooLarge, "out of memory");
    if ((rc = avcodec_parameters_to_context(dec, st->codecpar)) < 0) fail(ErrorCode::Decode, spec.path + ": bad codec parameters (" + av_message(rc) + ")");
    dec->thread_count = opt.decode_threads;
    if ((rc = avcodec_open2(dec, codec, nullptr)) < 0) fail(ErrorCode::Decode, spec.path + ": cannot open the " + codec->name + " decoder (" + av_message(rc) + ")");
    pkt = av_packet_alloc();
    frm = av_frame_alloc();
    if (!pkt || !frm) fail(ErrorCode::TooLarge, "out of memory");
    time_base = av_q2d(st->time_base);
    stream_start = st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time;
    AVRational fr = av_guess_frame_rate(fmt, st, nullptr);
    info.width = st->codecpar->width;
    info.height = st->codecpar->height;
    info.fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
    info.frame_count = st->nb_frames > 0 ? st->nb_frames : -1;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0) info.duration = st->duration * time_base;
    else if (fmt->duration > 0) info.duration = double(fmt->duration) / AV_TIME_BASE;
    info.codec = codec->name;
    const char* pf = av_get_pix_fmt_name(AVPixelFormat(st->codecpar->format));
    info.pixel_format = pf ? pf : "unknown";
    if (opt.start_time > 0) {
      int64_t ts = stream_start + int64_t(opt.start_time / time_base);
      // Seek to the key frame before the start, then decode and drop up to it.
      if (av_seek_frame(fmt, stream, ts, AVSEEK_FLAG_BACKWARD) >= 0) {
        avcodec_flush_buffers(dec);
        seeked = true;
      }
    }
  }

  void open_raw() {
    if (spec.raw_width <= 0 || spec.raw_height <= 0) fail(ErrorCode::Input, "raw YUV input needs a positive width and height");
    if (!(spec.raw_fps > 0)) fail(ErrorCode::Input, "raw YUV input needs a positive fps");
    check_geometry(spec.raw_width, spec.raw_height, opt.max_pixels, spec.path);
    file = std::fopen(spec.path.c_str(), "rb");
    if (!file) fail(ErrorCode::Input, spec.path + ": cannot open");
    struct stat sb {};
    fstat(fileno(file), &sb);
    const int cw = (spec.raw_width + 1) / 2, ch = (spec.raw_height + 1) / 2;
    const int64_t frame_bytes = int64_t(spec.raw_width) * spec.raw_height + 2 * int64_t(cw) * ch;
    if (sb.st_size == 0) fail(ErrorCode::Decode, spec.path + ": the file holds no frames");
    if (sb.st_size % frame_bytes != 0)
      fail(ErrorCode::Decode, spec.path + ": size " + std::to_string(sb.st_size) + " is not a whole number of " + std::to_string(spec.raw_width) + "x" +
                                  std::to_string(spec.raw_height) + " yuv420p frames (truncated, or wrong geometry)");
    info.width = spec.raw_width;
    info.height = spec.raw_height;
    info.fps = spec.raw_fps;
    info.frame_count = sb.st_size / frame_bytes;
    info.duration = info.frame_count / info.fps;
    info.codec = "rawvideo";
    info.pixel_format = "yuv420p";
    raw_buf.resize(size_t(frame_bytes));
    if (opt.start_time > 0) {
      raw_next = int64_t(std::ceil(opt.start_time * info.fps - 1e-9));
      if (raw_next > info.frame_count) raw_next = info.frame_count;
      std::fseek(file, long(raw_next * frame_bytes), SEEK_SET);
    }
  }

  // `owner` keeps the planes alive (a reference to the decoder's picture): no copy. Without
  // one (the raw reader's reused buffer) the planes are copied.
  void to_frame(const Planes& p, int w, int h, AVPixelFormat src_fmt, VideoFrame& out, std::shared_ptr<void> owner = nullptr) {
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    if (layout == FrameLayout::Yuv420 && src_fmt == AV_PIX_FMT_YUV420P) {
      out.y = cv::Mat(h, w, CV_8U, const_cast<uint8_t*>(p.data[0]), size_t(p.stride[0]));
      out.u = cv::Mat(ch, cw, CV_8U, const_cast<uint8_t*>(p.data[1]), size_t(p.stride[1]));
      out.v = cv::Mat(ch, cw, CV_8U, const_cast<uint8_t*>(p.data[2]), size_t(p.stride[2]));
      if (owner) {
        out.owner = std::move(owner);
      } else {
        out.y = out.y.clone(), out.u = out.u.clone(), out.v = out.v.clone();
        out.owner.reset();
      }
      out.bgr.release();
      return;
    }
    out.owner.reset();
    const AVPixelFormat dst_fmt = layout == FrameLayout::Bgr ? AV_PIX_FMT_BGR24 : AV_PIX_FMT_YUV420P;
    sws = sws_getCachedContext(sws, w, h, src_fmt, w, h, dst_fmt, SWS_BICUBIC, nullptr, nullptr, nullptr);
    if (!sws) fail(ErrorCode::Decode, spec.path + ": cannot convert pixel format " + info.pixel_format);
    uint8_t* dst[4] = {nullptr, nullptr, nullptr, nullptr};
    int dst_stride[4] = {0, 0, 0, 0};
    if (layout == FrameLayout::Bgr) {
      out.bgr.create(h, w, CV_8UC3);
      dst[0] = out.bgr.data;
      dst_stride[0] = int(out.bgr.step);
      out.y.release(), out.u.release(), out.v.release();
    } else {
      out.y.create(h, w, CV_8U), out.u.create(ch, cw, CV_8U), out.v.create(ch, cw, CV_8U);
      dst[0] = out.y.data, dst[1] = out.u.data, dst[2] = out.v.data;
      dst_stride[0] = int(out.y.step), dst_stride[1] = int(out.u.step), dst_stride[2] = int(out.v.step);
    }
    sws_scale(sws, p.data, p.stride, 0, h, dst, dst_stride);
  }

  // Decodes the next frame of the stream into frm; false at the end of the stream.
  bool decode_one() {
    for (;;) {
      int rc = avcodec_receive_frame(dec, frm);
      if (rc == 0) return true;
      if (rc == AVERROR_EOF) return false;
      if (rc != AVERROR(EAGAIN)) fail(ErrorCode::Decode, spec.path + ": decoding failed (" + av_message(rc) + ")");
      if (flushing) return false;
      arm();
      rc = av_read_frame(fmt, pkt);
      if (rc == AVERROR_EOF) {
        flushing = true;
        avcodec_send_packet(dec, nullptr);
        continue;
      }
      if (rc == AVERROR_EXIT) fail(ErrorCode::Decode, spec.path + ": reading a frame took longer than " + std::to_string(opt.read_timeout_ms) + " ms");
      if (rc < 0) fail(ErrorCode::Decode, spec.path + ": read error (" + av_message(rc) + ")");
      if (pkt->stream_index == stream) {
        rc = avcodec_send_packet(dec, pkt);
        av_packet_unref(pkt);
        if (rc < 0 && rc != AVERROR(EAGAIN)) fail(ErrorCode::Decode, spec.path + ": corrupt video data (" + av_message(rc) + ")");
      } else {
        av_packet_unref(pkt);
      }
    }
  }

  // The next decoded frame in the range, before step/max_frames; false at the end.
  bool next_in_range(VideoFrame& out) {
    if (file) {
      if (raw_next >= info.frame_count) return false;
      const double t = raw_next / info.fps;
      if (opt.end_time >= 0 && t >= opt.end_time) return false;
      if (std::fread(raw_buf.data(), 1, raw_buf.size(), file) != raw_buf.size()) fail(ErrorCode::Decode, spec.path + ": short read");
      const int w = info.width, h = info.height, cw = (w + 1) / 2, ch = (h + 1) / 2;
      Planes p{{raw_buf.data(), raw_buf.data() + size_t(w) * h, raw_buf.data() + size_t(w) * h + size_t(cw) * ch}, {w, cw, cw}};
      to_frame(p, w, h, AV_PIX_FMT_YUV420P, out);
      out.index = raw_next++;
      out.time = t;
      ++decoded;
      return true;
    }
    for (;;) {
      if (!decode_one()) {
        if (decoded == 0 && !seeked) fail(ErrorCode::Decode, spec.path + ": the video has no decodable frames");
        // The header's frame count against what the data held: a cut-off file ends early.
        // One frame of slack for containers whose count includes a frame an edit list drops.
        if (!seeked && info.frame_count > 0 && decoded + 1 < info.frame_count)
          fail(ErrorCode::Decode, spec.path + ": truncated: the header declares " + std::to_string(info.frame_count) + " frames, the data holds " +
                                      std::to_string(decoded));
        return false;
      }
      const int64_t pts = frm->best_effort_timestamp != AV_NOPTS_VALUE ? frm->best_effort_timestamp : frm->pts;
      const double t = pts == AV_NOPTS_VALUE ? (info.fps > 0 ? decoded / info.fps : 0) : (pts - stream_start) * time_base;
      const int64_t counter = decoded++;
      if (frm->width != info.width || frm->height != info.height) {
        check_geometry(frm->width, frm->height, opt.max_pixels, spec.path);
        fail(ErrorCode::Decode, spec.path + ": frame size changes mid-stream (" + std::to_string(frm->width) + "x" + std::to_string(frm->height) + ")");
      }
      // Half a frame of slack: timestamps are rounded to the time base.
      const double half = info.fps > 0 ? 0.5 / info.fps : 1e-6;
      if (opt.start_time > 0 && t < opt.start_time - half) {
        av_frame_unref(frm);
        continue;
      }
      if (opt.end_time >= 0 && t >= opt.end_time - half) {
        av_frame_unref(frm);
        return false;
      }
      AVPixelFormat f = AVPixelFormat(frm->format);
      if (f == AV_PIX_FMT_YUVJ420P) f = AV_PIX_FMT_YUV420P;  // same planes, full range flag only
      Planes p{{frm->data[0], frm->data[1], frm->data[2]}, {frm->linesize[0], frm->linesize[1], frm->linesize[2]}};
      std::shared_ptr<void> owner;
      if (layout == FrameLayout::Yuv420 && f == AV_PIX_FMT_YUV420P) {
        AVFrame* ref = av_frame_clone(frm);  // a new reference to the same buffers
        if (!ref) fail(ErrorCode::TooLarge, "out of memory");
        owner = std::shared_ptr<AVFrame>(ref, [](AVFrame* x) { av_frame_free(&x); });
      }
      to_frame(p, frm->width, frm->height, f, out, std::move(owner));
      out.index = seeked && info.fps > 0 ? int64_t(std::llround(t * info.fps)) : counter;
      out.time = t;
      av_frame_unref(frm);
      return true;
    }
  }
};

FrameSource::FrameSource(const VideoSpec& spec, const VideoReadOptions& options, FrameLayout layout) : impl_(std::make_unique<Impl>()) {
  if (options.step < 1) fail(ErrorCode::Input, "step must be at least 1");
  if (options.end_time >= 0 && options.end_time <= options.start_time) fail(ErrorCode::Input, "end time must be after the start time");
  if (options.start_time < 0) fail(ErrorCode::Input, "start time must not be negative");
  impl_->spec = spec;
  impl_->opt = options;
  impl_->layout = layout;
  struct stat sb {};
  if (stat(spec.path.c_str(), &sb) != 0) fail(ErrorCode::Input, spec.path + ": no such file");
  if (!S_ISREG(sb.st_mode)) fail(ErrorCode::Input, spec.path + ": not a regular file");
  if (spec.raw) impl_->open_raw();
  else impl_->open_container();
}

FrameSource::~FrameSource() = default;

const VideoInfo& FrameSource::info() const { return impl_->info; }
int64_t FrameSource::frames_read() const { return impl_->emitted; }

bool FrameSource::next(VideoFrame& frame) {
  Impl& s = *impl_;
  if (s.ended) return false;
  if (s.opt.max_frames >= 0 && s.emitted >= s.opt.max_frames) return s.ended = true, false;
  for (;;) {
    if (!s.next_in_range(frame)) return s.ended = true, false;
    const int64_t pos = s.in_range++;
    if (pos % s.opt.step != 0) continue;
    ++s.emitted;
    return true;
  }
}

}  // namespace iqa
