// YuNet face detection (libfacedetection.train's 2023 ONNX layout: cls/obj/bbox/kps outputs at
// strides 8, 16 and 32) run through the project's ORT session, decoded as OpenCV's
// cv::FaceDetectorYN does (score = sqrt(cls * obj), centre/size from the stride grid) and
// filtered by a greedy NMS with cv::dnn::NMSBoxes' rules.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "ort/session.h"

namespace iqa::face {

// One detection in image pixels. Landmarks: right eye, left eye, nose tip, right and left mouth
// corner as YuNet orders them (the subject's right eye is on the viewer's left).
struct Detection {
  float x = 0, y = 0, w = 0, h = 0;
  std::array<float, 10> landmarks{};
  float score = 0;
};

struct DetectOptions {
  float score_threshold = 0.6f;
  float nms_threshold = 0.3f;
  int top_k = 5000;    // candidates kept before NMS (FaceDetectorYN's topK)
  int max_side = 640;  // images with a longer side are resized (bilinear) to it first; 0: never
};

// Greedy NMS as cv::dnn::NMSBoxes(Rect2i, eta = 1): candidates at or above `score_threshold`,
// highest first (stable), at most `top_k` (0: all); a box is kept when its IoU with every kept
// box is at most `nms_threshold`. Returns indices in keep order.
std::vector<int> nms_boxes(const std::vector<cv::Rect>& boxes, const std::vector<float>& scores, float score_threshold,
                           float nms_threshold, int top_k);

class FaceDetector {
 public:
  FaceDetector(const std::string& model_path, const ort::SessionOptions& opts);
  virtual ~FaceDetector() = default;
  // `img`: canonical image (gray, BGR or BGRA; 8/16-bit or float). Detections highest score first.
  virtual std::vector<Detection> detect(const cv::Mat& img, const DetectOptions& opts) const;

 protected:
  FaceDetector() = default;  // for other detectors (face/mtcnn.h)

 private:
  std::unique_ptr<ort::Session> session_;
};

// Resizes `img` so that its longer side is at most `max_side` (bilinear; 0: never); returns the
// factor applied (1 when unchanged). Detectors scale their coordinates back by it.
double shrink_to_max_side(cv::Mat& img, int max_side);

// 8-bit BGR view of a canonical image (what the detector and the aligner work on).
cv::Mat to_bgr8(const cv::Mat& img);

}  // namespace iqa::face
