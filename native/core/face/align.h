// Five-point face alignment: a similarity transform (rotation, uniform scale, translation)
// estimated by Umeyama's least squares, as skimage's SimilarityTransform.estimate that the
// FIQA authors use, then cv::warpAffine (bilinear, zero border) onto a template canvas,
// optionally resized and cropped afterwards (OFIQ's 616 -> 192 -> 112 step). Or, for methods
// trained on unaligned detector crops (FaceQnet), the detector's box itself resized (`box`).
#pragma once
#include <array>
#include <string>

#include <opencv2/core.hpp>

namespace iqa::face {

using Points5 = std::array<double, 10>;  // x0, y0, ..., x4, y4

struct AlignSpec {
  Points5 points{};          // template points on the canvas, in the detector's landmark order
  int width = 112, height = 112;  // canvas
  int resize_width = 0, resize_height = 0;  // 0: the canvas is the crop source as is
  cv::Rect crop{0, 0, 0, 0};               // empty: the whole (resized) canvas
  bool box = false;  // no template: the detector's box (rounded, clipped) is resized to resize_*
  cv::Size output_size() const;
};

// The ArcFace 112x112 template (insightface's 96-wide template with x + 8).
AlignSpec arcface112();
// OFIQ's ISO/IEC 29794-5 616x616 alignment, resized to 192 and cropped to 112 at (40, 33) as its
// unified quality score does.
AlignSpec ofiq616();
// By name ("arcface112" | "ofiq616" | "box"); ERR_INPUT otherwise. "box" needs a resize.
AlignSpec align_spec_by_name(const std::string& name);

// 2x3 CV_64F matrix mapping `src` points onto `dst` points (Umeyama with scale; a degenerate
// configuration, e.g. all points equal, yields ERR_INPUT).
cv::Mat similarity_transform(const Points5& src, const Points5& dst);

// The aligned crop of an 8-bit BGR image; `matrix` receives the canvas transform when given.
// A `box` spec has no landmark alignment (ERR_INPUT): use box_crop.
cv::Mat align_face(const cv::Mat& bgr, const Points5& landmarks, const AlignSpec& spec, cv::Mat* matrix = nullptr);

// A `box` spec's crop: the box's corners rounded to pixels (floor(v + 0.5)) and clipped to the
// image, that region resized bilinearly (cv::resize, as cv2.resize) to resize_*, then `crop`.
// An empty region yields an empty Mat.
cv::Mat box_crop(const cv::Mat& bgr, double x, double y, double w, double h, const AlignSpec& spec);

}  // namespace iqa::face
