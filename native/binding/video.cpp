#include "video.h"

#include <atomic>
#include <cstring>
#include <memory>

#include "video/frame_source.h"
#include "video/video_compare.h"
#include "handles.h"
#include "workers.h"

namespace iqa_node {
namespace {

using iqa::ErrorCode;

double num(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) iqa::fail(ErrorCode::Input, std::string(key) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) iqa::fail(ErrorCode::Input, std::string(key) + " must be finite");
  return d;
}

}  // namespace

// {path, raw?: {width, height, fps}}
iqa::VideoSpec video_spec_of(const Napi::Value& v) {
  if (!v.IsObject()) iqa::fail(ErrorCode::Input, "video source must be an object");
  Napi::Object o = v.As<Napi::Object>();
  if (!o.Get("path").IsString()) iqa::fail(ErrorCode::Input, "video path must be a string");
  iqa::VideoSpec s;
  s.path = o.Get("path").As<Napi::String>().Utf8Value();
  if (o.Get("raw").IsObject()) {
    Napi::Object r = o.Get("raw").As<Napi::Object>();
    s.raw = true;
    s.raw_width = int(num(r, "width", 0));
    s.raw_height = int(num(r, "height", 0));
    s.raw_fps = num(r, "fps", 25);
  }
  return s;
}

// {start, end, step, maxFrames, timeoutMs, maxPixels, threads}
iqa::VideoReadOptions video_read_of(const Napi::Value& v) {
  iqa::VideoReadOptions r;
  if (!v.IsObject()) return r;
  Napi::Object o = v.As<Napi::Object>();
  r.start_time = num(o, "start", 0);
  r.end_time = num(o, "end", -1);
  r.step = int64_t(num(o, "step", 1));
  r.max_frames = int64_t(num(o, "maxFrames", -1));
  r.read_timeout_ms = int(num(o, "timeoutMs", r.read_timeout_ms));
  r.max_pixels = int64_t(num(o, "maxPixels", 0));
  r.decode_threads = int(num(o, "threads", 1));
  return r;
}

Napi::Object video_info_js(Napi::Env env, const iqa::VideoInfo& i) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("width", i.width);
  o.Set("height", i.height);
  o.Set("fps", i.fps);
  o.Set("frameCount", double(i.frame_count));
  o.Set("duration", i.duration);
  o.Set("codec", i.codec);
  o.Set("pixelFormat", i.pixel_format);
  return o;
}

size_t video_chunk_arg(const Napi::Value& v) {
  if (!v.IsNumber()) iqa::fail(ErrorCode::Input, "chunk size must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= 4096)) iqa::fail(ErrorCode::Input, "chunk size must be between 1 and 4096 frames");
  return size_t(d);
}

namespace {

// videoProbe(spec, read) -> Promise<info>
Napi::Value Probe(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    iqa::VideoSpec spec = video_spec_of(info[0]);
    iqa::VideoReadOptions read = video_read_of(info[1]);
    auto out = std::make_shared<iqa::VideoInfo>();
    auto* w = new TaskWorker(
        info.Env(), [=]() { *out = iqa::FrameSource(spec, read, iqa::FrameLayout::Yuv420).info(); },
        [out](Napi::Env env) -> Napi::Value { return video_info_js(env, *out); }, {});
    w->Queue();
    return w->promise();
  });
}

// videoCompareOpen(refSpec, distSpec, read, {psnr, ssim, msssim, gmsd}) -> Promise<{handle, ref, dist, columns}>
Napi::Value CompareOpen(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    iqa::VideoSpec ref = video_spec_of(info[0]), dist = video_spec_of(info[1]);
    iqa::VideoReadOptions read = video_read_of(info[2]);
    iqa::VideoMetricSet set;
    if (!info[3].IsObject()) iqa::fail(ErrorCode::Input, "metrics must be an object");
    Napi::Object m = info[3].As<Napi::Object>();
    set.psnr = m.Get("psnr").ToBoolean().Value();
    set.ssim = m.Get("ssim").ToBoolean().Value();
    set.msssim = m.Get("msssim").ToBoolean().Value();
    set.gmsd = m.Get("gmsd").ToBoolean().Value();
    auto out = std::make_shared<std::shared_ptr<iqa::VideoComparison>>();
    auto* w = new TaskWorker(
        info.Env(), [=]() { *out = std::make_shared<iqa::VideoComparison>(ref, dist, read, set); },
        [out](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("ref", video_info_js(env, (*out)->ref_info()));
          o.Set("dist", video_info_js(env, (*out)->dist_info()));
          Napi::Array cols = Napi::Array::New(env, (*out)->columns().size());
          for (size_t i = 0; i < (*out)->columns().size(); ++i) cols.Set(uint32_t(i), (*out)->columns()[i]);
          o.Set("columns", cols);
          o.Set("handle", wrap_handle(env, *out));
          return o;
        },
        {});
    w->Queue();
    return w->promise();
  });
}

// videoCompareNext(handle, n, abort) -> Promise<{index, time, values: {column: Float64Array}, done, refExtra, distExtra}>
Napi::Value CompareNext(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto cmp = unwrap_handle<iqa::VideoComparison>(info[0], "video comparison");
    const size_t n = video_chunk_arg(info[1]);
    AbortFlag abort = abort_flag_of(info[2]);
    auto out = std::make_shared<iqa::CompareChunk>();
    auto* w = new TaskWorker(
        info.Env(), [=]() { *out = cmp->next(n, abort.get()); },
        [cmp, out](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("index", f64(env, out->index));
          o.Set("time", f64(env, out->time));
          Napi::Object values = Napi::Object::New(env);
          for (size_t c = 0; c < out->columns.size(); ++c) values.Set(cmp->columns()[c], f64(env, out->columns[c]));
          o.Set("values", values);
          o.Set("done", out->done);
          o.Set("refExtra", double(cmp->ref_extra()));
          o.Set("distExtra", double(cmp->dist_extra()));
          return o;
        },
        keep_alive({info[0]}));
    w->Queue();
    return w->promise();
  });
}

// A frame reader for the image metrics: BGR frames, one chunk at a time.
struct FrameReader {
  explicit FrameReader(const iqa::VideoSpec& s, const iqa::VideoReadOptions& r) : source(s, r, iqa::FrameLayout::Bgr) {}
  iqa::FrameSource source;
  std::mutex mutex;
};

// videoReaderOpen(spec, read) -> Promise<{handle, info}>
Napi::Value ReaderOpen(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    iqa::VideoSpec spec = video_spec_of(info[0]);
    iqa::VideoReadOptions read = video_read_of(info[1]);
    auto out = std::make_shared<std::shared_ptr<FrameReader>>();
    auto* w = new TaskWorker(
        info.Env(), [=]() { *out = std::make_shared<FrameReader>(spec, read); },
        [out](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("info", video_info_js(env, (*out)->source.info()));
          o.Set("handle", wrap_handle(env, *out));
          return o;
        },
        {});
    w->Queue();
    return w->promise();
  });
}

// videoReaderNext(handle, n, abort) -> Promise<{index, time, frames: Buffer[] (BGR), width, height, done}>
Napi::Value ReaderNext(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto reader = unwrap_handle<FrameReader>(info[0], "video reader");
    const size_t n = video_chunk_arg(info[1]);
    AbortFlag abort = abort_flag_of(info[2]);
    auto frames = std::make_shared<std::vector<iqa::VideoFrame>>();
    auto done = std::make_shared<bool>(false);
    auto* w = new TaskWorker(
        info.Env(),
        [=]() {
          std::lock_guard<std::mutex> lock(reader->mutex);
          iqa::VideoFrame f;
          while (frames->size() < n) {
            if (abort && abort->load()) iqa::fail(ErrorCode::Aborted, "aborted");
            if (!reader->source.next(f)) {
              *done = true;
              break;
            }
            frames->push_back(std::move(f));
          }
        },
        [reader, frames, done](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          std::vector<int64_t> idx;
          std::vector<double> t;
          Napi::Array list = Napi::Array::New(env, frames->size());
          for (size_t i = 0; i < frames->size(); ++i) {
            const cv::Mat& m = (*frames)[i].bgr;
            idx.push_back((*frames)[i].index);
            t.push_back((*frames)[i].time);
            Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::Copy(env, m.data, m.total() * m.elemSize());
            list.Set(uint32_t(i), b);
          }
          o.Set("index", f64(env, idx));
          o.Set("time", f64(env, t));
          o.Set("frames", list);
          o.Set("width", reader->source.info().width);
          o.Set("height", reader->source.info().height);
          o.Set("done", *done);
          return o;
        },
        keep_alive({info[0]}));
    w->Queue();
    return w->promise();
  });
}

// videoReaderClose(handle), videoCompareClose(handle): release the decoder(s) and file(s) now.
Napi::Value ReaderClose(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    close_handle<FrameReader>(info[0], "video reader");
    return info.Env().Undefined();
  });
}

Napi::Value CompareClose(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    close_handle<iqa::VideoComparison>(info[0], "video comparison");
    return info.Env().Undefined();
  });
}

}  // namespace

void init_video(Napi::Env env, Napi::Object exports) {
  exports.Set("videoProbe", Napi::Function::New(env, Probe));
  exports.Set("videoCompareOpen", Napi::Function::New(env, CompareOpen));
  exports.Set("videoCompareNext", Napi::Function::New(env, CompareNext));
  exports.Set("videoReaderOpen", Napi::Function::New(env, ReaderOpen));
  exports.Set("videoReaderNext", Napi::Function::New(env, ReaderNext));
  exports.Set("videoReaderClose", Napi::Function::New(env, ReaderClose));
  exports.Set("videoCompareClose", Napi::Function::New(env, CompareClose));
}

}  // namespace iqa_node
