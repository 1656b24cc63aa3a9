// A video quality model of two graphs: a per-frame feature network (frames N x 3 x H x W -> N x D)
// and a recurrent temporal network (features 1 x T x D + state -> per-frame quality 1 x T + state),
// as VSFA (Li et al. 2019) is built. The state input lets a video of any length go through in
// chunks with bounded memory; temporal pooling of the per-frame values is the caller's.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "ort/session.h"

namespace iqa {

struct VideoModelSpec {
  std::string features_path, features_input, features_output;
  std::string temporal_path;
  std::vector<std::string> temporal_inputs;   // {features, state}
  std::vector<std::string> temporal_outputs;  // {quality, state out}
  int64_t feature_size = 0;  // D
  int64_t state_size = 0;    // hidden units of the recurrent layer
  bool rgb = true;           // channel order fed to the feature network
  float scale = 1.f / 255;   // pixel value * scale, then (x - mean) / std per channel
  float mean[3] = {0, 0, 0}, stdev[3] = {1, 1, 1};
  int batch = 32;            // frames per feature-network run
  ort::SessionOptions session;
};

class VideoModel {
 public:
  // Opens both graphs and checks them against the spec: ERR_MODEL naming what differs.
  explicit VideoModel(VideoModelSpec spec);

  const VideoModelSpec& spec() const { return spec_; }
  std::string device() const { return features_->device(); }

  // Feature rows (frames.size() x D, row-major) of BGR CV_8UC3 frames of one size.
  std::vector<float> features(const std::vector<cv::Mat>& frames) const;
  // Per-frame quality of the next T feature rows; `state` (state_size values, zeros at the start
  // of a video) is read and replaced by the state after the last row.
  std::vector<float> temporal(const std::vector<float>& rows, int64_t T, std::vector<float>& state) const;

 private:
  VideoModelSpec spec_;
  std::unique_ptr<ort::Session> features_, temporal_;
};

}  // namespace iqa
