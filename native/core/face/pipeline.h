// The face-quality runner: detect -> five landmarks -> align to the method's template -> pack
// (colour order, normalisation, layout) -> one ONNX run for every face of the image -> readout.
// What a method needs is data (FaceModelSpec, from a `kind: "face"` manifest), never code.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "face/align.h"
#include "face/detect.h"
#include "ort/session.h"

namespace iqa::face {

enum class Readout {
  Norm,     // L2 norm of the output row (MagFace, OFIQ UQS)
  Scalar,   // element `index` of the output row as is
  Softmax,  // softmax over the output row, element `index`
  Stochastic,  // SER-FIQ: the output through `head` T times with dropout masks (StochasticHead)
};

// SER-FIQ's stochastic passes without running the network T times: the model (the trunk) runs
// once per face, the head graph (features, mask) -> embedding on T copies with dropout masks from
// splitmix64(seed), the same T masks for every face. Kept values are scaled by 1 / (1 - p).
struct StochasticHead {
  std::string path, features_input, mask_input, output;
  int passes = 100;
  double dropout = 0.5;
  bool channel_mask = true;  // Dropout2d: one draw per channel of an N x C x H x W map
  uint64_t seed = 0;
};

struct FaceModelSpec {
  std::string model_path;
  AlignSpec align = arcface112();
  bool rgb = false;   // channel order of the tensor
  bool nhwc = false;  // layout (float32 either way)
  float mean[3] = {0, 0, 0}, stdev[3] = {1, 1, 1};  // value = (pixel / 255 - mean) / std
  Readout readout = Readout::Norm;
  std::string output;  // "" = the first output
  int index = 0;
  StochasticHead head;  // readout Stochastic only
};

// A face-quality network on aligned crops, batched per call.
class FaceModel {
 public:
  FaceModel(FaceModelSpec spec, const ort::SessionOptions& opts);
  const FaceModelSpec& spec() const { return spec_; }
  // One raw score per crop (8-bit BGR crops of the spec's output size).
  // `rows`, when given, receives each crop's whole output row (e.g. the embedding).
  std::vector<double> run(const std::vector<cv::Mat>& crops, std::vector<std::vector<float>>* rows = nullptr) const;

 private:
  FaceModelSpec spec_;
  std::unique_ptr<ort::Session> session_, head_;
  bool fixed_batch_one_ = false;
  // Stochastic: SER-FIQ's score of one face's trunk output (`shape` without the batch axis);
  // `embedding`, when given, receives the head's output with all-ones masks (no dropout).
  double stochastic_score(const float* features, const std::vector<int64_t>& shape, std::vector<float>* embedding) const;
};

enum class FaceStatus { Ok, TooSmall, LandmarksOutside };
const char* face_status_name(FaceStatus s);  // "ok" | "FACE_TOO_SMALL" | "LANDMARKS_OUTSIDE"

struct FaceOptions {
  DetectOptions detect;
  int max_faces = 0;       // 0: all; faces are ranked by detector score
  float min_face_size = 0; // shorter box side in image pixels below which a face is not scored
  bool crops = false;      // keep the aligned crops
  bool aligned = false;    // the image is already an aligned crop of the method's input size: no detection
  std::vector<double> landmarks;  // 10 numbers: the five points are given, no detection
  bool embeddings = false; // keep the model's output row per face
};

struct FaceOutcome {
  Detection detection;
  FaceStatus status = FaceStatus::Ok;
  double raw = 0;   // valid when status is Ok and a model ran
  std::vector<float> embedding;  // the output row, when asked
  cv::Mat crop;     // aligned crop, when asked and the face was aligned
};

class FacePipeline {
 public:
  // `model` may be null: detection and alignment only (`align` then says the template).
  FacePipeline(std::shared_ptr<FaceDetector> detector, std::shared_ptr<FaceModel> model, AlignSpec align);
  std::vector<FaceOutcome> run(const cv::Mat& img, const FaceOptions& opts) const;
  bool has_model() const { return model_ != nullptr; }

 private:
  std::shared_ptr<FaceDetector> detector_;
  std::shared_ptr<FaceModel> model_;
  AlignSpec align_;
};

}  // namespace iqa::face
