// MTCNN (Zhang et al., IEEE SPL 2016) as a second face detector: the three-network cascade as
// facenet-pytorch's detect_face runs it (minsize 20, pyramid factor 0.709, thresholds 0.6 / 0.7 /
// 0.7), on ONNX exports of its pnet/rnet/onet (tools/export/mtcnn.py): P-Net on each pyramid level
// (area resampling = adaptive average pooling), candidate boxes from its 2-stride 12-px grid, NMS
// per level (IoU 0.5) and over all (0.7), box regression, squaring; R-Net on 24x24 crops, NMS 0.7,
// regression, squaring; O-Net on 48x48 crops, landmarks, regression, NMS 0.7 by the smaller area.
#pragma once
#include <memory>
#include <string>

#include "face/detect.h"

namespace iqa::face {

class MtcnnDetector final : public FaceDetector {
 public:
  // `dir` holds pnet.onnx, rnet.onnx, onet.onnx.
  MtcnnDetector(const std::string& dir, const ort::SessionOptions& opts);
  // Boxes are facenet-pytorch's corners (x, y, w = x2 - x1, h = y2 - y1), landmarks in the same
  // order as YuNet's; highest score first. `opts.max_side` shrinks the image first as for YuNet;
  // `opts.score_threshold` filters O-Net's scores further (its own threshold is 0.7).
  std::vector<Detection> detect(const cv::Mat& img, const DetectOptions& opts) const override;

 private:
  std::unique_ptr<ort::Session> pnet_, rnet_, onet_;
};

}  // namespace iqa::face
