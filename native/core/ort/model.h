// A deep no-reference quality model: preprocessing (resize, crops, normalisation into NCHW
// float32), an ORT session shared by all callers, a dynamic batcher and a head that turns the
// outputs of each crop into a score; an image's score is the mean (or median) over its crops.
// The spec comes from a model manifest (models/*.json, parsed and validated in lib/manifest.ts).
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "heads/head.h"
#include "image/convert.h"
#include "image/highpass.h"
#include "ort/batcher.h"
#include "ort/session.h"
#include "ort/tokens.h"

namespace iqa::ort {

enum class CropPolicy {
  Resize,  // the whole (pre-resized) image resized to the input size: one sample
  Center,  // one centre crop of the input size
  Random,  // `count` crops at seeded positions (see crop_rects)
  Uniform, // `count` crops on a regular grid (pyiqa's uniform_crop; see crop_rects)
  Full,    // the whole image at its own size (fully convolutional models; batch of 1)
  Grid,    // every cell of a non-overlapping grid of input-size patches (see GridRule), row by row
  Tokens,  // multi-scale patch tokens (ort/tokens.h): inputs patches, positions, scales, mask; batch of 1
};

// How many patches a grid has along a side of length L for a patch of size p.
enum class GridRule {
  Floor,           // floor(L / p): every whole patch
  RangeExclusive,  // len(range(0, L - p, p)) = ceil((L - p) / p): Python loops that stop before
                   // L - p, dropping the last whole patch when p divides L (lidq92's CNNIQA)
};

// Where a centre crop starts when the margin (L - size) is odd.
enum class CenterRounding {
  Floor,     // (L - size) / 2 truncated
  HalfEven,  // int(round((L - size) / 2.0)), Python's round half to even (torchvision's center_crop)
};

// How an image's crop (or patch) scores become its score.
enum class Aggregate {
  Mean,
  Median,  // even count: mean of the two middle values (numpy.median)
  Weighted,  // sum(q_i w_i) / sum(w_i), w_i = max(weight output, 0) + epsilon (WaDIQaM)
  FeatureMean,  // the head's one input output averaged over the crops, then the head once
                // (DeepBIQ's multi-crop fc7 averaging before the SVR): one score per image
};

struct ModelSpec {
  std::string name = "model";
  std::string model_path;  // ONNX file (the fp16 variant when chosen)
  std::string input_name;  // "" = the session's first input
  int width = 224, height = 224, channels = 3;
  bool rgb = true;         // channel order of the tensor (false: BGR)
  // float32 NCHW: value = (pixel / full_scale - mean) / std, packed here.
  // uint8 NHWC: raw 8-bit pixels; the graph converts and normalises (a quarter of the bytes to
  // pack and to copy to the GPU).
  bool uint8_nhwc = false;
  float mean[3] = {0, 0, 0}, stdev[3] = {1, 1, 1};  // float32 only; on values scaled to [0, 1]
  std::vector<TensorInfo> declared_outputs;          // from the manifest: name + dims (-1 = symbolic)
  // Preprocessing
  int resize_width = 0, resize_height = 0;           // 0: no resize before cropping
  // Instead of width x height: the shorter side to this, aspect kept (shorter_side_size()).
  int resize_shorter = 0;
  Interp interp = Interp::Area;
  // Resample values in [0, 1] as float32 (accumulated in double) instead of 8-bit pixels:
  // torchvision's resize on a to_tensor() image, whose antialiased bilinear/bicubic are
  // Pillow's weights without the rounding to uint8 after each pass. Pil-bilinear/bicubic only.
  bool resize_float = false;
  CenterRounding center = CenterRounding::Floor;  // CropPolicy::Center
  GrayConversion gray = GrayConversion::OpenCV;  // colour to grey for 1-channel inputs
  CropPolicy crop = CropPolicy::Center;
  GridRule grid = GridRule::Floor;
  // Per-patch local contrast normalisation after the mean/std normalisation (0: none).
  int local_contrast_window = 0;
  double local_contrast_c = 1;
  // Whole-image high-pass normalisation of the grey image after any resize (image/highpass.h).
  bool highpass = false;
  HighpassSpec highpass_spec;
  int crop_count = 1;
  uint64_t crop_seed = 0;
  // Largest prepared image in pixels (0: no limit): whole-image models' memory grows with the image.
  int64_t max_pixels = 0;
  // JPEG shrink-on-load to the resize target (see shrink_target()).
  bool shrink_on_load = false;
  Aggregate aggregate = Aggregate::Mean;
  std::string weight_output;    // Weighted: the per-crop weight output ([N] or [N, 1])
  // Full-reference (manifest task 'fr-iqa'): one input [N, 2C, H, W] per patch pair, channels
  // [0, C) the reference crop, [C, 2C) the distorted crop at the same place (submit_pair).
  bool pair = false;
  double weight_epsilon = 0;    // Weighted: added after the ReLU
  HeadSpec head;
  // Score mapping after the head, per crop: score = head * score_scale + score_offset
  // (LinearityIQA-style q k + b; commutes with every aggregate).
  double score_scale = 1, score_offset = 0;
  // Named extra outputs next to the score (KonIQ++'s four defects): value `index` of each
  // sample of output `output`, pooled over crops like the score.
  struct Extra {
    std::string name, output;
    int64_t index = 0;
  };
  std::vector<Extra> extras;
  // CropPolicy::Tokens: the token pyramid and the graph's other inputs (int64 [N, S] positions
  // and scale ids, float32 [N, S] mask); the patches input is input_name, [N, S, C, height, width].
  TokenSpec tokens;
  std::string position_input, scale_input, mask_input;
  // Sampling mode of a head with a spread (gaussian): crop i's value is mean_i + z_i * scale_i
  // (before the affine), z_i the i-th SplitMix64(sample_seed).normal(): the same draws for every
  // image, so a seed gives the same score every time. Off: the mean (deterministic).
  bool sample = false;
  uint64_t sample_seed = 0;
};

struct EngineOptions {
  SessionOptions session;
  size_t max_batch = 32;
  double max_delay_ms = 2;
  int runners = 0;  // concurrent batch runs; 0: 1 on CPU, 2 on CUDA
  // Run every batch at max_batch rows (padding rows are ignored): one input shape, so cuDNN's
  // algorithm search happens once instead of for every partial batch size. -1: on CUDA only.
  int pad_batches = -1;
};

struct ModelInfo {
  std::string name, model_path, device, requested_device, fallback_reason;
  std::vector<std::string> providers;
  std::vector<TensorInfo> inputs, outputs;
  size_t max_batch = 0;
  double max_delay_ms = 0;
  int crops = 0;
  uint64_t batches = 0, rows = 0;
  bool closed = false;
  bool pinned_input = false;
};

// Crop rectangles of `policy` for an image of `size` (after the optional resize).
// Random: splitmix64 seeded with `seed`; for each crop x = next() % (W - w + 1), then
// y = next() % (H - h + 1). The same positions for every image of the same size.
// Grid: patches at (j w, i h) for i, j below the counts of `grid`, row by row.
// Center: offsets (W - w) / 2 and (H - h) / 2 rounded as `center` says.
std::vector<cv::Rect> crop_rects(cv::Size image, cv::Size crop, CropPolicy policy, int count, uint64_t seed, GridRule grid = GridRule::Floor,
                                 CenterRounding center = CenterRounding::Floor);

// torchvision's resize(img, n) output size (_compute_resized_output_size): the shorter side n,
// the longer int(n * long / short), truncated; a square image goes to n x n.
cv::Size shorter_side_size(cv::Size image, int n);

class Model {
 public:
  Model(ModelSpec spec, EngineOptions opts);
  ~Model();

  ModelInfo info() const;
  const ModelSpec& spec() const { return spec_; }

  // A prepared image: crops submitted to the batcher, scores pending.
  struct Pending {
    Batcher::Ticket ticket;
    std::vector<double> direct_scores;
  };
  // Resizes/crops/packs `img` (canonical cv::Mat) into the batcher; thread-safe.
  Pending submit(const cv::Mat& img) const;
  // Full-reference models: the same crops of both images (same size, else ERR_INPUT), packed
  // as one stacked sample per crop.
  Pending submit_pair(const cv::Mat& ref, const cv::Mat& dist) const;
  // Waits for a pending image; fills per-crop scores if asked (and their pooling weights for
  // Aggregate::Weighted); returns their mean, median or weighted mean (spec.aggregate).
  // `extras` (if given) receives the pooled value of each spec.extras entry, in order.
  double wait(const Pending& p, std::vector<double>* crop_scores = nullptr, std::vector<double>* crop_weights = nullptr, std::vector<double>* extras = nullptr) const;
  double score(const cv::Mat& img, std::vector<double>* crop_scores = nullptr) const { return wait(submit(img), crop_scores); }

  // Crops/s path for benchmarks: scores `n` pre-packed samples (sample_bytes() each).
  void score_tensor(const void* samples, size_t n, double* scores) const;
  size_t sample_bytes() const;

  void close();
  void drain();

  // The size a JPEG may be shrunk to on load (DecodeOptions::shrink_to): the first resize of
  // prepare(), when the spec opts in; 0x0 otherwise.
  cv::Size shrink_target() const;

 private:
  void run_batch(const uint8_t* input, size_t n, double* values, int height, int width) const;
  void run_tokens(const Tokens& t, double* values) const;
  // Writes each sample's row (score[, weight], extras...) from a run's outputs.
  void collect_rows(const std::vector<OutputView>& outs, size_t n, double* values) const;
  void check_token_inputs() const;
  // Values per crop row: score, the pooling weight (Weighted), the extras, then the spread (sampling).
  size_t weight_values() const { return spec_.aggregate == Aggregate::Weighted ? 1 : 0; }
  size_t spread_values() const { return spec_.sample ? 1 : 0; }
  size_t spread_slot() const { return 1 + weight_values() + spec_.extras.size(); }
  // FeatureMean: the head's input vector itself (feature_count_ values per crop); its head reads one
  // output, so it never samples.
  size_t row_values() const { return spec_.aggregate == Aggregate::FeatureMean ? feature_count_ : spread_slot() + spread_values(); }
  // FeatureMean: the head (then the score affine) on n feature rows of feature_count_ values.
  void head_on_features(const double* rows, size_t n, double* scores) const;
  double pool(const std::vector<double>& v, const std::vector<double>& w) const;
  void pack(const cv::Mat& roi, uint8_t* dst) const;
  size_t image_bytes() const;  // one image's part of a sample (half of it for pairs)
  int tensor_channels() const { return spec_.channels * (spec_.pair ? 2 : 1); }
  Pending submit_prepared(const cv::Mat& m, const cv::Mat* ref) const;
  cv::Mat prepare(const cv::Mat& img) const;
  void check_pixels(const cv::Mat& m) const;  // ERR_TOO_LARGE past max_pixels

  ModelSpec spec_;
  EngineOptions opts_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<Head> head_;
  std::unique_ptr<Head> weight_head_;  // Weighted: a scalar head on spec_.weight_output
  std::vector<std::string> run_outputs_;  // head_'s outputs, then the weight output, then the extras' outputs
  std::vector<size_t> extra_slot_;        // index in run_outputs_ of each extra's output
  // Token sequences run one at a time: images are prepared in parallel, and concurrent runs of
  // a whole-image transformer would multiply its activation memory and oversubscribe the
  // session's intra-op threads.
  mutable std::mutex direct_mutex_;
  size_t feature_count_ = 0;              // FeatureMean: values per sample of the head's output
  std::unique_ptr<Batcher> batcher_;  // destroyed first: its runners use session_ and head_
};

}  // namespace iqa::ort
