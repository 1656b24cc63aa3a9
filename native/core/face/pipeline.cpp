#include "face/pipeline.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/splitmix64.h"

namespace iqa::face {

const char* face_status_name(FaceStatus s) {
  switch (s) {
    case FaceStatus::Ok: return "ok";
    case FaceStatus::TooSmall: return "FACE_TOO_SMALL";
    case FaceStatus::LandmarksOutside: return "LANDMARKS_OUTSIDE";
  }
  return "ok";
}

FaceModel::FaceModel(FaceModelSpec spec, const ort::SessionOptions& opts)
    : spec_(std::move(spec)), session_(std::make_unique<ort::Session>(spec_.model_path, opts)) {
  const auto& ins = session_->inputs();
  const cv::Size size = spec_.align.output_size();
  if (ins.size() != 1) fail(ErrorCode::Model, "face model '" + spec_.model_path + "' must have exactly one input");
  const auto& in = ins[0];
  if (in.elem_type != 1 /* float32 */) fail(ErrorCode::Model, "face model input '" + in.name + "' must be float32");
  const std::vector<int64_t> want = spec_.nhwc ? std::vector<int64_t>{-1, size.height, size.width, 3} : std::vector<int64_t>{-1, 3, size.height, size.width};
  bool match = in.shape.size() == 4;
  for (size_t k = 1; match && k < 4; ++k) match = in.shape[k] == want[k] || in.shape[k] < 0;
  if (!match) {
    std::string got;
    for (auto d : in.shape) got += (got.empty() ? "" : ",") + std::to_string(d);
    fail(ErrorCode::Model, "face model input '" + in.name + "' has shape [" + got + "], the descriptor needs [N," +
                               (spec_.nhwc ? std::to_string(size.height) + "," + std::to_string(size.width) + ",3]"
                                           : "3," + std::to_string(size.height) + "," + std::to_string(size.width) + "]"));
  }
  fixed_batch_one_ = in.shape[0] == 1;
  if (spec_.output.empty()) spec_.output = session_->outputs().at(0).name;
  bool found = false;
  for (const auto& o : session_->outputs()) found = found || o.name == spec_.output;
  if (!found) fail(ErrorCode::Model, "face model has no output '" + spec_.output + "'");
  if (spec_.readout == Readout::Stochastic) {
    const StochasticHead& h = spec_.head;
    if (h.passes < 2 || h.passes > 1000) fail(ErrorCode::Model, "stochastic readout: passes must be 2..1000");
    if (!(h.dropout >= 0 && h.dropout < 1)) fail(ErrorCode::Model, "stochastic readout: dropout must be in [0, 1)");
    head_ = std::make_unique<ort::Session>(h.path, opts);
    const auto& hi = head_->inputs();
    // Session::run feeds inputs in the graph's order: the descriptor's must be that order.
    if (hi.size() != 2 || hi[0].name != h.features_input || hi[1].name != h.mask_input)
      fail(ErrorCode::Model, "stochastic head '" + h.path + "' must take exactly the inputs ('" + h.features_input + "', '" + h.mask_input + "') in that order");
    for (const auto& t : hi)
      if (t.elem_type != 1) fail(ErrorCode::Model, "stochastic head input '" + t.name + "' must be float32");
    if (spec_.head.output.empty()) spec_.head.output = head_->outputs().at(0).name;
    bool has = false;
    for (const auto& o : head_->outputs()) has = has || o.name == spec_.head.output;
    if (!has) fail(ErrorCode::Model, "stochastic head has no output '" + spec_.head.output + "'");
  }
}


double FaceModel::stochastic_score(const float* features, const std::vector<int64_t>& shape, std::vector<float>* embedding) const {
  const StochasticHead& h = spec_.head;
  size_t size = 1;
  for (int64_t d : shape) size *= size_t(d);
  const size_t channels = size_t(shape.at(0)), mask_len = h.channel_mask ? channels : size;
  if (h.channel_mask && shape.size() < 2) fail(ErrorCode::Model, "a channel mask needs a C x H x W model output");
  const size_t rows = size_t(h.passes) + 1;  // row 0: no dropout (the embedding a recogniser uses)
  std::vector<float> x(rows * size), mask(rows * mask_len);
  for (size_t r = 0; r < rows; ++r) std::copy(features, features + size, x.begin() + r * size);
  std::fill(mask.begin(), mask.begin() + mask_len, 1.f);
  iqa::SplitMix64 g{h.seed};
  const float keep = float(1.0 / (1.0 - h.dropout));
  for (size_t i = mask_len; i < mask.size(); ++i) mask[i] = g.uniform() >= h.dropout ? keep : 0.f;
  std::vector<int64_t> xshape{int64_t(rows)}, mshape{int64_t(rows), int64_t(mask_len)};
  xshape.insert(xshape.end(), shape.begin(), shape.end());
  double q = 0;
  head_->run({ort::InputTensor{x.data(), 1, xshape}, ort::InputTensor{mask.data(), 1, mshape}}, {h.output}, [&](const std::vector<ort::OutputView>& outs) {
    const ort::OutputView& v = outs.at(0);
    if (v.shape.size() < 2 || v.shape[0] != int64_t(rows)) fail(ErrorCode::Model, "stochastic head output '" + h.output + "' has no batch axis of " + std::to_string(rows));
    size_t d = 1;
    for (size_t k = 1; k < v.shape.size(); ++k) d *= size_t(v.shape[k]);
    if (embedding) embedding->assign(v.data, v.data + d);
    // Unit embeddings of the T passes, then the mean Euclidean distance over the T(T-1)/2 pairs.
    std::vector<double> u(size_t(h.passes) * d);
    for (int t = 0; t < h.passes; ++t) {
      const float* e = v.data + (size_t(t) + 1) * d;
      double n = 0;
      for (size_t k = 0; k < d; ++k) n += double(e[k]) * e[k];
      n = std::sqrt(n);
      if (!(n > 0) || !std::isfinite(n)) fail(ErrorCode::Model, "stochastic head produced a zero or non-finite embedding");
      for (size_t k = 0; k < d; ++k) u[size_t(t) * d + k] = e[k] / n;
    }
    double sum = 0;
    for (int i = 0; i < h.passes; ++i)
      for (int j = i + 1; j < h.passes; ++j) {
        double s = 0;
        for (size_t k = 0; k < d; ++k) {
          const double diff = u[size_t(i) * d + k] - u[size_t(j) * d + k];
          s += diff * diff;
        }
        sum += std::sqrt(s);
      }
    const double mean = sum / (double(h.passes) * (h.passes - 1) / 2);
    q = 2.0 / (1.0 + std::exp(mean));
  });
  return q;
}

std::vector<double> FaceModel::run(const std::vector<cv::Mat>& crops, std::vector<std::vector<float>>* rows) const {
  std::vector<double> out;
  if (crops.empty()) return out;
  const cv::Size size = spec_.align.output_size();
  const size_t plane = size_t(size.width) * size.height, sample = 3 * plane;
  const size_t per_run = fixed_batch_one_ ? 1 : crops.size();
  for (size_t start = 0; start < crops.size(); start += per_run) {
    const size_t n = std::min(per_run, crops.size() - start);
    std::vector<float> input(n * sample);
    for (size_t b = 0; b < n; ++b) {
      const cv::Mat& c = crops[start + b];
      if (c.size() != size || c.type() != CV_8UC3) fail(ErrorCode::Internal, "face crop does not match the model input");
      float* dst = input.data() + b * sample;
      for (int y = 0; y < size.height; ++y) {
        const uint8_t* row = c.ptr<uint8_t>(y);
        for (int x = 0; x < size.width; ++x)
          for (int k = 0; k < 3; ++k) {
            const int src_channel = spec_.rgb ? 2 - k : k;  // crops are BGR
            const float v = (row[3 * x + src_channel] / 255.f - spec_.mean[k]) / spec_.stdev[k];
            if (spec_.nhwc) dst[(size_t(y) * size.width + x) * 3 + k] = v;
            else dst[k * plane + size_t(y) * size.width + x] = v;
          }
      }
    }
    const std::vector<int64_t> shape = spec_.nhwc ? std::vector<int64_t>{int64_t(n), size.height, size.width, 3}
                                                  : std::vector<int64_t>{int64_t(n), 3, size.height, size.width};
    session_->run(input.data(), 1, shape, {spec_.output}, [&](const std::vector<ort::OutputView>& outs) {
      const ort::OutputView& v = outs.at(0);
      if (v.shape.empty() || v.shape[0] != int64_t(n)) fail(ErrorCode::Model, "face model output '" + spec_.output + "' has no batch axis of " + std::to_string(n));
      size_t row = 1;
      for (size_t k = 1; k < v.shape.size(); ++k) row *= size_t(v.shape[k]);
      if ((spec_.readout == Readout::Scalar || spec_.readout == Readout::Softmax) && size_t(spec_.index) >= row)
        fail(ErrorCode::Model, "face model output '" + spec_.output + "' has " + std::to_string(row) + " values per face, index " + std::to_string(spec_.index) + " asked");
      for (size_t b = 0; b < n; ++b) {
        const float* r = v.data + b * row;
        double q = 0;
        if (spec_.readout == Readout::Stochastic) {
          std::vector<float> emb;
          q = stochastic_score(r, std::vector<int64_t>(v.shape.begin() + 1, v.shape.end()), rows ? &emb : nullptr);
          if (rows) rows->push_back(std::move(emb));
          if (!std::isfinite(q)) fail(ErrorCode::Model, "face model produced a non-finite score");
          out.push_back(q);
          continue;
        }
        if (rows) rows->emplace_back(r, r + row);
        if (spec_.readout == Readout::Norm) {
          for (size_t k = 0; k < row; ++k) q += double(r[k]) * r[k];
          q = std::sqrt(q);
        } else if (spec_.readout == Readout::Scalar) {
          q = r[spec_.index];
        } else {
          double mx = r[0], sum = 0;
          for (size_t k = 1; k < row; ++k) mx = std::max(mx, double(r[k]));
          for (size_t k = 0; k < row; ++k) sum += std::exp(double(r[k]) - mx);
          q = std::exp(double(r[spec_.index]) - mx) / sum;
        }
        if (!std::isfinite(q)) fail(ErrorCode::Model, "face model produced a non-finite score");
        out.push_back(q);
      }
    });
  }
  return out;
}

FacePipeline::FacePipeline(std::shared_ptr<FaceDetector> detector, std::shared_ptr<FaceModel> model, AlignSpec align)
    : detector_(std::move(detector)), model_(std::move(model)), align_(model_ ? model_->spec().align : align) {}

std::vector<FaceOutcome> FacePipeline::run(const cv::Mat& img_in, const FaceOptions& opts) const {
  cv::Mat img = to_bgr8(img_in);
  if (opts.aligned) {
    const cv::Size want = align_.output_size();
    if (img.size() != want)
      fail(ErrorCode::Input, "an aligned face must be " + std::to_string(want.width) + "x" + std::to_string(want.height) + ", got " +
                                 std::to_string(img.cols) + "x" + std::to_string(img.rows));
    FaceOutcome f;
    f.detection.w = float(img.cols), f.detection.h = float(img.rows), f.detection.score = 1.f;
    for (int k = 0; k < 10; ++k) f.detection.landmarks[k] = align_.crop.empty() && align_.resize_width == 0 ? float(align_.points[k]) : 0.f;
    if (opts.crops) f.crop = img;
    if (model_) {
      std::vector<std::vector<float>> rows;
      f.raw = model_->run({img}, opts.embeddings ? &rows : nullptr).at(0);
      if (opts.embeddings) f.embedding = rows.at(0);
    }
    return {f};
  }
  std::vector<Detection> dets;
  if (opts.landmarks.size() == 10 && align_.box) fail(ErrorCode::Input, "this method crops the detector's box: given landmarks cannot stand in for it");
  if (opts.landmarks.size() == 10) {
    Detection d;
    float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
    for (int k = 0; k < 5; ++k) {
      const float x = float(opts.landmarks[2 * k]), y = float(opts.landmarks[2 * k + 1]);
      d.landmarks[2 * k] = x, d.landmarks[2 * k + 1] = y;
      x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
    }
    d.x = x0, d.y = y0, d.w = x1 - x0, d.h = y1 - y0, d.score = 1.f;
    dets.push_back(d);
  } else {
    dets = detector_->detect(img, opts.detect);
  }
  if (opts.max_faces > 0 && dets.size() > size_t(opts.max_faces)) dets.resize(size_t(opts.max_faces));
  std::vector<FaceOutcome> out(dets.size());
  std::vector<cv::Mat> crops;
  std::vector<size_t> scored;
  for (size_t i = 0; i < dets.size(); ++i) {
    FaceOutcome& f = out[i];
    f.detection = dets[i];
    const Detection& d = dets[i];
    if (std::min(d.w, d.h) < opts.min_face_size) {
      f.status = FaceStatus::TooSmall;
      continue;
    }
    if (align_.box) {
      cv::Mat crop = box_crop(img, d.x, d.y, d.w, d.h, align_);
      if (crop.empty()) {
        f.status = FaceStatus::TooSmall;
        continue;
      }
      if (opts.crops) f.crop = crop;
      crops.push_back(crop);
      scored.push_back(i);
      continue;
    }
    bool inside = true;
    for (int k = 0; k < 5; ++k) {
      const float x = d.landmarks[2 * k], y = d.landmarks[2 * k + 1];
      inside = inside && x >= 0 && y >= 0 && x <= img.cols - 1 && y <= img.rows - 1;
    }
    if (!inside) {
      f.status = FaceStatus::LandmarksOutside;
      continue;
    }
    Points5 pts;
    for (int k = 0; k < 10; ++k) pts[k] = d.landmarks[k];
    cv::Mat crop = align_face(img, pts, align_);
    if (opts.crops) f.crop = crop;
    crops.push_back(crop);
    scored.push_back(i);
  }
  if (model_) {
    std::vector<std::vector<float>> rows;
    std::vector<double> raw = model_->run(crops, opts.embeddings ? &rows : nullptr);
    for (size_t k = 0; k < scored.size(); ++k) {
      out[scored[k]].raw = raw[k];
      if (opts.embeddings) out[scored[k]].embedding = std::move(rows[k]);
    }
  }
  return out;
}

}  // namespace iqa::face
