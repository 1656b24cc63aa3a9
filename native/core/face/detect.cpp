#include "face/detect.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "image/convert.h"

namespace iqa::face {

namespace {

const int kStrides[3] = {8, 16, 32};
const char* kOutputs[12] = {"cls_8", "cls_16", "cls_32", "obj_8", "obj_16", "obj_32",
                            "bbox_8", "bbox_16", "bbox_32", "kps_8", "kps_16", "kps_32"};

double overlap(const cv::Rect& a, const cv::Rect& b) {
  const double inter = double((a & b).area());
  const double uni = double(a.area()) + double(b.area()) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

}  // namespace

std::vector<int> nms_boxes(const std::vector<cv::Rect>& boxes, const std::vector<float>& scores, float score_threshold,
                           float nms_threshold, int top_k) {
  std::vector<int> order;
  for (size_t i = 0; i < scores.size(); ++i)
    if (scores[i] >= score_threshold) order.push_back(int(i));
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  if (top_k > 0 && order.size() > size_t(top_k)) order.resize(size_t(top_k));
  std::vector<int> keep;
  for (int i : order) {
    bool ok = true;
    for (int k : keep)
      if (overlap(boxes[i], boxes[k]) > nms_threshold) {
        ok = false;
        break;
      }
    if (ok) keep.push_back(i);
  }
  return keep;
}

cv::Mat to_bgr8(const cv::Mat& img) {
  cv::Mat bgr = drop_alpha(img);
  if (bgr.channels() == 1) cv::cvtColor(bgr, bgr, cv::COLOR_GRAY2BGR);
  if (bgr.depth() != CV_8U) {
    cv::Mat out;
    bgr.convertTo(out, CV_8U, 255.0 / full_scale(bgr));
    return out;
  }
  return bgr;
}

double shrink_to_max_side(cv::Mat& img, int max_side) {
  const int longer = std::max(img.cols, img.rows);
  if (max_side <= 0 || longer <= max_side) return 1.0;
  const double scale = double(max_side) / longer;
  cv::Size size(std::max(1, int(std::lround(img.cols * scale))), std::max(1, int(std::lround(img.rows * scale))));
  cv::Mat small;
  cv::resize(img, small, size, 0, 0, cv::INTER_LINEAR);
  img = small;
  return scale;
}

FaceDetector::FaceDetector(const std::string& model_path, const ort::SessionOptions& opts)
    : session_(std::make_unique<ort::Session>(model_path, ort::without_spinning(opts))) {
  const auto& ins = session_->inputs();
  if (ins.size() != 1 || ins[0].shape.size() != 4 || (ins[0].shape[1] != 3 && ins[0].shape[1] != -1))
    fail(ErrorCode::Model, "face detector '" + model_path + "' must have one [N,3,H,W] input (a YuNet ONNX)");
  for (const char* name : kOutputs) {
    bool found = false;
    for (const auto& o : session_->outputs()) found = found || o.name == name;
    if (!found) fail(ErrorCode::Model, std::string("face detector '") + model_path + "' has no output '" + name + "' (a YuNet ONNX has cls/obj/bbox/kps at strides 8/16/32)");
  }
  // A model with a fixed input size (yunet_*_640_640) only takes that size: pad/resize to it.
}

std::vector<Detection> FaceDetector::detect(const cv::Mat& img_in, const DetectOptions& opts) const {
  cv::Mat img = to_bgr8(img_in);
  if (img.empty()) return {};
  // Resize so the longer side is at most max_side; coordinates are scaled back at the end.
  const double scale = shrink_to_max_side(img, opts.max_side);
  const auto& shape = session_->inputs()[0].shape;
  int pad_w = ((img.cols - 1) / 32 + 1) * 32, pad_h = ((img.rows - 1) / 32 + 1) * 32;
  if (shape[2] > 0 && shape[3] > 0) {
    if (img.rows > shape[2] || img.cols > shape[3])
      fail(ErrorCode::Input, "image of " + std::to_string(img.cols) + "x" + std::to_string(img.rows) + " exceeds the detector's fixed input " +
                                 std::to_string(shape[3]) + "x" + std::to_string(shape[2]) + " (set maxSide to fit)");
    pad_h = int(shape[2]);
    pad_w = int(shape[3]);
  }
  // Zero padding right/bottom (FaceDetectorYN's padWithDivisor), BGR, raw 0-255 floats, NCHW.
  std::vector<float> input(size_t(3) * pad_h * pad_w, 0.f);
  const size_t plane = size_t(pad_h) * pad_w;
  for (int y = 0; y < img.rows; ++y) {
    const uint8_t* row = img.ptr<uint8_t>(y);
    for (int x = 0; x < img.cols; ++x)
      for (int c = 0; c < 3; ++c) input[c * plane + size_t(y) * pad_w + x] = float(row[3 * x + c]);
  }
  std::vector<std::string> names(std::begin(kOutputs), std::end(kOutputs));
  std::vector<Detection> all;
  session_->run(input.data(), 1 /* float */, {1, 3, pad_h, pad_w}, names, [&](const std::vector<ort::OutputView>& outs) {
    for (int s = 0; s < 3; ++s) {
      const int stride = kStrides[s];
      const int cols = pad_w / stride, rows = pad_h / stride;
      const size_t cells = size_t(cols) * rows;
      const ort::OutputView &cls = outs[s], &obj = outs[3 + s], &bbox = outs[6 + s], &kps = outs[9 + s];
      auto count = [](const ort::OutputView& v) {
        size_t n = 1;
        for (auto d : v.shape) n *= size_t(d);
        return n;
      };
      if (count(cls) < cells || count(obj) < cells || count(bbox) < cells * 4 || count(kps) < cells * 10)
        fail(ErrorCode::Model, "face detector outputs at stride " + std::to_string(stride) + " do not match the input grid");
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
          const size_t i = size_t(r) * cols + c;
          const float cs = std::clamp(cls.data[i], 0.f, 1.f), os = std::clamp(obj.data[i], 0.f, 1.f);
          const float score = std::sqrt(cs * os);
          if (score < opts.score_threshold) continue;
          Detection d;
          const float cx = (c + bbox.data[i * 4 + 0]) * stride, cy = (r + bbox.data[i * 4 + 1]) * stride;
          d.w = std::exp(bbox.data[i * 4 + 2]) * stride;
          d.h = std::exp(bbox.data[i * 4 + 3]) * stride;
          d.x = cx - d.w / 2.f;
          d.y = cy - d.h / 2.f;
          for (int n = 0; n < 5; ++n) {
            d.landmarks[2 * n] = (kps.data[i * 10 + 2 * n] + c) * stride;
            d.landmarks[2 * n + 1] = (kps.data[i * 10 + 2 * n + 1] + r) * stride;
          }
          d.score = score;
          all.push_back(d);
        }
    }
  });
  // FaceDetectorYN runs NMS on integer boxes (truncated), so do we.
  std::vector<cv::Rect> boxes;
  std::vector<float> scores;
  for (const auto& d : all) {
    boxes.emplace_back(int(d.x), int(d.y), int(d.w), int(d.h));
    scores.push_back(d.score);
  }
  std::vector<Detection> out;
  for (int k : nms_boxes(boxes, scores, opts.score_threshold, opts.nms_threshold, opts.top_k)) {
    Detection d = all[size_t(k)];
    if (scale != 1.0) {
      const float inv = float(1.0 / scale);
      d.x *= inv, d.y *= inv, d.w *= inv, d.h *= inv;
      for (float& v : d.landmarks) v *= inv;
    }
    out.push_back(d);
  }
  return out;
}

}  // namespace iqa::face
