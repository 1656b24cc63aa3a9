// videoModelOpen / videoScorerOpen / videoScorerNext / videoScorerClose: a video model (two ONNX
// graphs, native/core/video/video_model.h) scoring one video at a time in chunks of frames,
// carrying the recurrent state from chunk to chunk.
#include <mutex>

#include "handles.h"
#include "object_fields.h"
#include "video.h"
#include "video/video_model.h"
#include "workers.h"

namespace iqa_node {
namespace {

iqa::VideoModelSpec model_spec_of(const Napi::Value& v) {
  Napi::Object o = obj(v, "video model spec");
  iqa::VideoModelSpec s;
  s.features_path = text(o, "featuresPath", "");
  s.features_input = text(o, "featuresInput", "");
  s.features_output = text(o, "featuresOutput", "");
  s.temporal_path = text(o, "temporalPath", "");
  s.temporal_inputs = strings(o, "temporalInputs");
  s.temporal_outputs = strings(o, "temporalOutputs");
  s.feature_size = int64_t(num(o, "featureSize", 0));
  s.state_size = int64_t(num(o, "stateSize", 0));
  s.rgb = flag(o, "rgb", true);
  s.scale = float(num(o, "scale", 1.0 / 255));
  const std::vector<double> mean = numbers(o, "mean"), stdev = numbers(o, "std");
  for (int c = 0; c < 3; ++c) {
    if (!mean.empty()) s.mean[c] = float(mean[mean.size() == 3 ? c : 0]);
    if (!stdev.empty()) s.stdev[c] = float(stdev[stdev.size() == 3 ? c : 0]);
  }
  s.batch = int(num(o, "batch", 32));
  Napi::Value session = o.Get("session");
  if (session.IsObject()) s.session = session_options_of(session.As<Napi::Object>());
  return s;
}

// One video being scored: its frames and the temporal model's state after the frames so far.
struct VideoScorer {
  VideoScorer(std::shared_ptr<iqa::VideoModel> m, const iqa::VideoSpec& spec, const iqa::VideoReadOptions& read)
      : model(std::move(m)), source(spec, read, iqa::FrameLayout::Bgr), state(size_t(model->spec().state_size), 0.f) {}
  std::shared_ptr<iqa::VideoModel> model;
  iqa::FrameSource source;
  std::vector<float> state;
  std::mutex mutex;
};

struct ScoredChunk {
  std::vector<int64_t> index;
  std::vector<double> time;
  std::vector<float> quality;
  bool done = false;
};

Napi::Value ModelOpen(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    iqa::VideoModelSpec spec = model_spec_of(info[0]);
    auto out = std::make_shared<std::shared_ptr<iqa::VideoModel>>();
    auto* w = new TaskWorker(
        info.Env(), [=]() { *out = std::make_shared<iqa::VideoModel>(spec); },
        [out](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("handle", wrap_handle(env, *out));
          o.Set("device", (*out)->device());
          return o;
        },
        {});
    w->Queue();
    return w->promise();
  });
}

Napi::Value ScorerOpen(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto model = unwrap_handle<iqa::VideoModel>(info[0], "video model");
    iqa::VideoSpec spec = video_spec_of(info[1]);
    iqa::VideoReadOptions read = video_read_of(info[2]);
    auto out = std::make_shared<std::shared_ptr<VideoScorer>>();
    auto* w = new TaskWorker(
        info.Env(), [=]() { *out = std::make_shared<VideoScorer>(model, spec, read); },
        [out](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("info", video_info_js(env, (*out)->source.info()));
          o.Set("handle", wrap_handle(env, *out));
          return o;
        },
        keep_alive({info[0]}));
    w->Queue();
    return w->promise();
  });
}

Napi::Value ScorerNext(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto scorer = unwrap_handle<VideoScorer>(info[0], "video scorer");
    const size_t n = video_chunk_arg(info[1]);
    AbortFlag abort = abort_flag_of(info[2]);
    auto out = std::make_shared<ScoredChunk>();
    auto* w = new TaskWorker(
        info.Env(),
        [=]() {
          std::lock_guard<std::mutex> lock(scorer->mutex);
          std::vector<cv::Mat> frames;
          iqa::VideoFrame f;
          while (frames.size() < n) {
            if (abort && abort->load()) iqa::fail(iqa::ErrorCode::Aborted, "aborted");
            if (!scorer->source.next(f)) {
              out->done = true;
              break;
            }
            out->index.push_back(f.index);
            out->time.push_back(f.time);
            frames.push_back(f.bgr);
            f.bgr.release();  // the next frame decodes into a new buffer, not into this one
          }
          if (frames.empty()) return;
          if (abort && abort->load()) iqa::fail(iqa::ErrorCode::Aborted, "aborted");
          const std::vector<float> rows = scorer->model->features(frames);
          out->quality = scorer->model->temporal(rows, int64_t(frames.size()), scorer->state);
        },
        [out](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("index", f64(env, out->index));
          o.Set("time", f64(env, out->time));
          o.Set("quality", f64(env, out->quality));
          o.Set("done", out->done);
          return o;
        },
        keep_alive({info[0]}));
    w->Queue();
    return w->promise();
  });
}

Napi::Value ScorerClose(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    close_handle<VideoScorer>(info[0], "video scorer");
    return info.Env().Undefined();
  });
}

Napi::Value ModelClose(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    close_handle<iqa::VideoModel>(info[0], "video model");
    return info.Env().Undefined();
  });
}

}  // namespace

void init_video_model(Napi::Env env, Napi::Object exports) {
  exports.Set("videoModelOpen", Napi::Function::New(env, ModelOpen));
  exports.Set("videoModelClose", Napi::Function::New(env, ModelClose));
  exports.Set("videoScorerOpen", Napi::Function::New(env, ScorerOpen));
  exports.Set("videoScorerNext", Napi::Function::New(env, ScorerNext));
  exports.Set("videoScorerClose", Napi::Function::New(env, ScorerClose));
}

}  // namespace iqa_node
