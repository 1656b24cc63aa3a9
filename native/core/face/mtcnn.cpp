#include "face/mtcnn.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <opencv2/imgproc.hpp>

#include "common/error.h"

namespace iqa::face {

namespace {

constexpr double kMinSize = 20, kFactor = 0.709;
constexpr float kThresholds[3] = {0.6f, 0.7f, 0.7f};

struct Box {
  float x1, y1, x2, y2, score;
  float reg[4];
  float pts[10];
};

// RGB float planes (3 x H x W), values (x - 127.5) / 128, as facenet-pytorch feeds its nets.
struct Planes {
  int w = 0, h = 0;
  std::vector<float> v;
  const float* at(int c) const { return v.data() + size_t(c) * w * h; }
};

Planes rgb_planes(const cv::Mat& bgr) {
  Planes p{bgr.cols, bgr.rows, std::vector<float>(size_t(3) * bgr.cols * bgr.rows)};
  for (int y = 0; y < bgr.rows; ++y) {
    const uint8_t* row = bgr.ptr<uint8_t>(y);
    for (int x = 0; x < bgr.cols; ++x)
      for (int c = 0; c < 3; ++c) p.v[size_t(c) * p.w * p.h + size_t(y) * p.w + x] = float(row[3 * x + 2 - c]);
  }
  return p;
}

// torch.nn.functional.interpolate(mode="area") = adaptive_avg_pool2d: output cell i averages
// input [floor(i * in / out), ceil((i + 1) * in / out)). Of the region (x0, y0, cw, ch) of `src`,
// normalised, appended to `out` as 3 x oh x ow.
void area_resample(const Planes& src, int x0, int y0, int cw, int ch, int ow, int oh, std::vector<float>& out) {
  std::vector<int> xs(ow + 1), xe(ow), ys(oh), ye(oh);
  for (int i = 0; i < ow; ++i) xs[i] = int((int64_t(i) * cw) / ow), xe[i] = int((int64_t(i + 1) * cw + ow - 1) / ow);
  for (int i = 0; i < oh; ++i) ys[i] = int((int64_t(i) * ch) / oh), ye[i] = int((int64_t(i + 1) * ch + oh - 1) / oh);
  for (int c = 0; c < 3; ++c) {
    const float* plane = src.at(c);
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        float sum = 0;
        for (int y = ys[oy]; y < ye[oy]; ++y) {
          const float* row = plane + size_t(y0 + y) * src.w + x0;
          for (int x = xs[ox]; x < xe[ox]; ++x) sum += row[x];
        }
        const float mean = sum / float((ye[oy] - ys[oy]) * (xe[ox] - xs[ox]));
        out.push_back((mean - 127.5f) * 0.0078125f);
      }
  }
}

// torchvision.ops.nms: highest score first, drop boxes whose IoU (areas without +1) with a kept
// one exceeds `thr`. Returns kept indices, highest score first.
std::vector<size_t> nms_iou(const std::vector<Box>& b, const std::vector<size_t>& idx, float thr) {
  std::vector<size_t> order = idx, keep;
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return b[i].score > b[j].score; });
  std::vector<char> dead(order.size(), 0);
  for (size_t a = 0; a < order.size(); ++a) {
    if (dead[a]) continue;
    const Box& p = b[order[a]];
    keep.push_back(order[a]);
    const float pa = (p.x2 - p.x1) * (p.y2 - p.y1);
    for (size_t c = a + 1; c < order.size(); ++c) {
      if (dead[c]) continue;
      const Box& q = b[order[c]];
      const float iw = std::max(0.f, std::min(p.x2, q.x2) - std::max(p.x1, q.x1)), ih = std::max(0.f, std::min(p.y2, q.y2) - std::max(p.y1, q.y1));
      const float inter = iw * ih, qa = (q.x2 - q.x1) * (q.y2 - q.y1);
      if (inter / (pa + qa - inter) > thr) dead[c] = 1;
    }
  }
  return keep;
}

// facenet-pytorch's nms_numpy 'Min': +1 areas, overlap = intersection / smaller area, keep <= thr.
std::vector<size_t> nms_min(const std::vector<Box>& b, float thr) {
  std::vector<size_t> order(b.size()), keep;
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return b[i].score > b[j].score; });
  while (!order.empty()) {
    const size_t i = order.front();
    keep.push_back(i);
    std::vector<size_t> rest;
    const float ai = (b[i].x2 - b[i].x1 + 1) * (b[i].y2 - b[i].y1 + 1);
    for (size_t k = 1; k < order.size(); ++k) {
      const Box& q = b[order[k]];
      const float w = std::max(0.f, std::min(b[i].x2, q.x2) - std::max(b[i].x1, q.x1) + 1), h = std::max(0.f, std::min(b[i].y2, q.y2) - std::max(b[i].y1, q.y1) + 1);
      const float aq = (q.x2 - q.x1 + 1) * (q.y2 - q.y1 + 1);
      if (w * h / std::min(ai, aq) <= thr) rest.push_back(order[k]);
    }
    order.swap(rest);
  }
  return keep;
}

void square(Box& b) {  // rerec
  const float h = b.y2 - b.y1, w = b.x2 - b.x1, l = std::max(w, h);
  b.x1 = b.x1 + w * 0.5f - l * 0.5f;
  b.y1 = b.y1 + h * 0.5f - l * 0.5f;
  b.x2 = b.x1 + l;
  b.y2 = b.y1 + l;
}

void regress(Box& b, const float* r) {  // bbreg: +1 sizes
  const float w = b.x2 - b.x1 + 1, h = b.y2 - b.y1 + 1;
  const float x1 = b.x1 + r[0] * w, y1 = b.y1 + r[1] * h, x2 = b.x2 + r[2] * w, y2 = b.y2 + r[3] * h;
  b.x1 = x1, b.y1 = y1, b.x2 = x2, b.y2 = y2;
}

// pad() + crop + resample: the boxes' truncated corners clipped to [1, W] x [1, H], 1-based;
// boxes whose clipped crop is empty are dropped (facenet-pytorch would misalign them).
std::vector<float> crops(const Planes& img, std::vector<Box>& boxes, int size) {
  std::vector<float> data;
  std::vector<Box> kept;
  for (const Box& b : boxes) {
    if (!std::isfinite(b.x1) || !std::isfinite(b.y1) || !std::isfinite(b.x2) || !std::isfinite(b.y2)) continue;
    // clipped in double before the casts: a wild regression cannot overflow an int
    const double x = std::max(1.0, std::trunc(double(b.x1))), y = std::max(1.0, std::trunc(double(b.y1)));
    const double ex = std::min(double(img.w), std::trunc(double(b.x2))), ey = std::min(double(img.h), std::trunc(double(b.y2)));
    if (!(ey > y - 1 && ex > x - 1)) continue;
    area_resample(img, int(x) - 1, int(y) - 1, int(ex - x) + 1, int(ey - y) + 1, size, size, data);
    kept.push_back(b);
  }
  boxes.swap(kept);
  return data;
}

std::unique_ptr<ort::Session> open(const std::string& dir, const char* name, const ort::SessionOptions& opts) {
  auto s = std::make_unique<ort::Session>(dir + "/" + name, ort::without_spinning(opts));
  if (s->inputs().size() != 1 || s->inputs()[0].shape.size() != 4) fail(ErrorCode::Model, std::string("MTCNN ") + name + " must have one [N,3,H,W] input (tools/export/mtcnn.py)");
  return s;
}

}  // namespace

MtcnnDetector::MtcnnDetector(const std::string& dir, const ort::SessionOptions& opts)
    : pnet_(open(dir, "pnet.onnx", opts)), rnet_(open(dir, "rnet.onnx", opts)), onet_(open(dir, "onet.onnx", opts)) {}

std::vector<Detection> MtcnnDetector::detect(const cv::Mat& img_in, const DetectOptions& opts) const {
  cv::Mat bgr = to_bgr8(img_in);
  if (bgr.empty()) return {};
  const double shrink = shrink_to_max_side(bgr, opts.max_side);
  const Planes img = rgb_planes(bgr);
  const int h = img.h, w = img.w;
  // Stage 1: P-Net on the pyramid.
  std::vector<double> scales;
  double m = 12.0 / kMinSize, minl = std::min(h, w) * m;
  for (double s = m; minl >= 12; s *= kFactor, minl *= kFactor) scales.push_back(s);
  std::vector<Box> cand;
  std::vector<size_t> picked;
  for (double scale : scales) {
    const int sh = int(h * scale + 1), sw = int(w * scale + 1);
    std::vector<float> in;
    in.reserve(size_t(3) * sh * sw);
    area_resample(img, 0, 0, w, h, sw, sh, in);
    const size_t first = cand.size();
    pnet_->run(in.data(), 1, {1, 3, sh, sw}, {"prob", "reg"}, [&](const std::vector<ort::OutputView>& o) {
      const int rows = int(o[0].shape[2]), cols = int(o[0].shape[3]);
      const size_t plane = size_t(rows) * cols;
      const float fs = float(scale);
      for (int y = 0; y < rows; ++y)
        for (int x = 0; x < cols; ++x) {
          const size_t i = size_t(y) * cols + x;
          const float p = o[0].data[plane + i];
          if (!(p >= kThresholds[0])) continue;
          Box b{};
          b.x1 = std::floor((2.f * x + 1.f) / fs), b.y1 = std::floor((2.f * y + 1.f) / fs);
          b.x2 = std::floor((2.f * x + 12.f) / fs), b.y2 = std::floor((2.f * y + 12.f) / fs);
          b.score = p;
          for (int k = 0; k < 4; ++k) b.reg[k] = o[1].data[k * plane + i];
          cand.push_back(b);
        }
    });
    std::vector<size_t> level(cand.size() - first);
    std::iota(level.begin(), level.end(), first);
    for (size_t k : nms_iou(cand, level, 0.5f)) picked.push_back(k);
  }
  std::vector<Box> boxes;
  for (size_t k : nms_iou(cand, picked, 0.7f)) {
    Box b = cand[k];
    const float rw = b.x2 - b.x1, rh = b.y2 - b.y1;
    const float x1 = b.x1 + b.reg[0] * rw, y1 = b.y1 + b.reg[1] * rh, x2 = b.x2 + b.reg[2] * rw, y2 = b.y2 + b.reg[3] * rh;
    b.x1 = x1, b.y1 = y1, b.x2 = x2, b.y2 = y2;
    square(b);
    boxes.push_back(b);
  }
  // Stage 2: R-Net on 24x24 crops.
  if (!boxes.empty()) {
    std::vector<float> in = crops(img, boxes, 24);
    std::vector<Box> pass;
    if (!boxes.empty())
      rnet_->run(in.data(), 1, {int64_t(boxes.size()), 3, 24, 24}, {"prob", "reg"}, [&](const std::vector<ort::OutputView>& o) {
        for (size_t i = 0; i < boxes.size(); ++i) {
          const float s = o[0].data[2 * i + 1];
          if (!(s > kThresholds[1])) continue;
          Box b = boxes[i];
          b.score = s;
          for (int k = 0; k < 4; ++k) b.reg[k] = o[1].data[4 * i + k];
          pass.push_back(b);
        }
      });
    std::vector<size_t> all(pass.size());
    std::iota(all.begin(), all.end(), 0);
    boxes.clear();
    for (size_t k : nms_iou(pass, all, 0.7f)) {
      Box b = pass[k];
      regress(b, b.reg);
      square(b);
      boxes.push_back(b);
    }
  }
  // Stage 3: O-Net on 48x48 crops, landmarks.
  std::vector<Box> final_boxes;
  if (!boxes.empty()) {
    std::vector<float> in = crops(img, boxes, 48);
    if (!boxes.empty())
      onet_->run(in.data(), 1, {int64_t(boxes.size()), 3, 48, 48}, {"prob", "reg", "landmarks"}, [&](const std::vector<ort::OutputView>& o) {
        for (size_t i = 0; i < boxes.size(); ++i) {
          const float s = o[0].data[2 * i + 1];
          if (!(s > kThresholds[2])) continue;
          Box b = boxes[i];
          b.score = s;
          const float bw = b.x2 - b.x1 + 1, bh = b.y2 - b.y1 + 1;
          for (int k = 0; k < 5; ++k) {
            b.pts[2 * k] = bw * o[2].data[10 * i + k] + b.x1 - 1;
            b.pts[2 * k + 1] = bh * o[2].data[10 * i + 5 + k] + b.y1 - 1;
          }
          regress(b, &o[1].data[4 * i]);
          final_boxes.push_back(b);
        }
      });
  }
  std::vector<Detection> out;
  const float inv = float(1.0 / shrink);
  for (size_t k : nms_min(final_boxes, 0.7f)) {
    const Box& b = final_boxes[k];
    if (b.score < opts.score_threshold) continue;
    Detection d;
    d.x = b.x1 * inv, d.y = b.y1 * inv, d.w = (b.x2 - b.x1) * inv, d.h = (b.y2 - b.y1) * inv;
    for (int j = 0; j < 10; ++j) d.landmarks[j] = b.pts[j] * inv;
    d.score = b.score;
    out.push_back(d);
  }
  return out;
}

}  // namespace iqa::face
