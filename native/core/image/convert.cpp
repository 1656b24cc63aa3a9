#include "image/convert.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "image/pil_resize.h"
#include "image/highpass.h"
#include "image/tf_resize.h"

namespace iqa {

double full_scale(const cv::Mat& img) {
  switch (img.depth()) {
    case CV_8U: return 255.0;
    case CV_16U: return 65535.0;
    default: return 1.0;
  }
}

cv::Mat to_float(const cv::Mat& img, double range, int depth) {
  cv::Mat out;
  img.convertTo(out, depth, range / full_scale(img));
  return out;
}

cv::Mat drop_alpha(const cv::Mat& img) {
  if (img.channels() != 4) return img;
  cv::Mat out;
  cv::cvtColor(img, out, cv::COLOR_BGRA2BGR);
  return out;
}

cv::Mat rgb2gray_matlab(const cv::Mat& img) {
  if (img.channels() == 1) return img;
  // Coefficients: first row of inv([1 .956 .621; 1 -.272 -.647; 1 -1.106 1.703]), as MATLAB uses.
  const double wr = 0.298936021293775, wg = 0.587043074451121, wb = 0.114020904255103;
  cv::Mat f;
  img.convertTo(f, CV_64F);
  cv::Mat gray(img.size(), CV_64F);
  const int cn = img.channels();
  for (int y = 0; y < img.rows; ++y) {
    const double* s = f.ptr<double>(y);
    double* d = gray.ptr<double>(y);
    for (int x = 0; x < img.cols; ++x) d[x] = wb * s[x * cn] + wg * s[x * cn + 1] + wr * s[x * cn + 2];
  }
  cv::Mat out;
  // convertTo rounds half away from zero for non-negative values like MATLAB's uint8().
  gray.convertTo(out, img.depth());
  return out;
}

cv::Mat rgb2gray_opencv(const cv::Mat& img) {
  if (img.channels() == 1) return img;
  cv::Mat out;
  cv::cvtColor(img, out, img.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  return out;
}

cv::Mat rgb2gray_pil(const cv::Mat& img) {
  if (img.channels() == 1) return img;
  const int cn = img.channels();
  if (img.depth() != CV_8U) {
    // BGR(A) storage: weights in B, G, R order; the alpha column gets 0.
    cv::Matx<float, 1, 4> w(0.114f, 0.587f, 0.299f, 0.f);
    cv::Mat f, out;
    img.convertTo(f, CV_32F);
    cv::transform(f, out, cn == 4 ? cv::Mat(w) : cv::Mat(w).colRange(0, 3));
    if (img.depth() == CV_16U) out.convertTo(out, CV_16U);  // saturate_cast rounds
    else if (img.depth() == CV_64F) out.convertTo(out, CV_64F);
    return out;
  }
  cv::Mat out(img.rows, img.cols, CV_8U);
  for (int y = 0; y < img.rows; ++y) {
    const uint8_t* s = img.ptr<uint8_t>(y);
    uint8_t* d = out.ptr<uint8_t>(y);
    for (int x = 0; x < img.cols; ++x, s += cn)
      d[x] = uint8_t((uint32_t(s[2]) * 19595u + uint32_t(s[1]) * 38470u + uint32_t(s[0]) * 7471u + 0x8000u) >> 16);
  }
  return out;
}

cv::Mat rgb2gray_tf(const cv::Mat& img) {
  if (img.channels() == 1) return img;
  // BGR(A) storage: weights in B, G, R order; the alpha column gets 0. On the byte scale as TF
  // sees a uint8 image cast to float, then to the unit scale.
  cv::Matx<float, 1, 4> w(0.1140f, 0.5870f, 0.2989f, 0.f);
  cv::Mat f, out;
  img.convertTo(f, CV_32F, 255.0 / full_scale(img));
  cv::transform(f, out, img.channels() == 4 ? cv::Mat(w) : cv::Mat(w).colRange(0, 3));
  return out * (1.0 / 255.0);
}

GrayConversion parse_gray(const std::string& name) {
  if (name == "tf") return GrayConversion::Tf;
  if (name == "matlab") return GrayConversion::Matlab;
  if (name == "opencv") return GrayConversion::OpenCV;
  if (name == "pil") return GrayConversion::Pil;
  fail(ErrorCode::Input, "unknown grey conversion '" + name + "' (matlab, opencv, pil, tf)");
}

cv::Mat rgb2gray(const cv::Mat& img, GrayConversion how) {
  switch (how) {
    case GrayConversion::Matlab: return rgb2gray_matlab(img);
    case GrayConversion::Pil: return rgb2gray_pil(img);
    case GrayConversion::Tf: return rgb2gray_tf(img);
    default: return rgb2gray_opencv(img);
  }
}

Interp parse_interp(const std::string& name) {
  if (name == "area") return Interp::Area;
  if (name == "bilinear") return Interp::Bilinear;
  if (name == "bicubic") return Interp::Bicubic;
  if (name == "matlab" || name == "matlab-bicubic") return Interp::MatlabBicubic;
  if (name == "pil-nearest") return Interp::PilNearest;
  if (name == "pil-box") return Interp::PilBox;
  if (name == "pil-bilinear") return Interp::PilBilinear;
  if (name == "pil-hamming") return Interp::PilHamming;
  if (name == "pil-bicubic") return Interp::PilBicubic;
  if (name == "pil-lanczos") return Interp::PilLanczos;
  if (name == "tf-gaussian") return Interp::TfGaussian;
  if (name == "tf-bicubic") return Interp::TfBicubic;
  fail(ErrorCode::Input, "unknown interpolation '" + name + "' (area, bilinear, bicubic, matlab-bicubic, pil-nearest, pil-box, pil-bilinear, pil-hamming, pil-bicubic, pil-lanczos, tf-gaussian, tf-bicubic)");
}

cv::Mat resize_image(const cv::Mat& img, cv::Size size, Interp interp) {
  if (size.width <= 0 || size.height <= 0) fail(ErrorCode::Input, "resize target must be positive");
  if (interp == Interp::MatlabBicubic) return imresize_matlab(img, size, true);
  switch (interp) {
    case Interp::PilNearest: return pil_resize(img, size, PilFilter::Nearest);
    case Interp::PilBox: return pil_resize(img, size, PilFilter::Box);
    case Interp::PilBilinear: return pil_resize(img, size, PilFilter::Bilinear);
    case Interp::PilHamming: return pil_resize(img, size, PilFilter::Hamming);
    case Interp::PilBicubic: return pil_resize(img, size, PilFilter::Bicubic);
    case Interp::PilLanczos: return pil_resize(img, size, PilFilter::Lanczos);
    case Interp::TfGaussian: return tf_gaussian_resize(img, size);
    case Interp::TfBicubic: return tf_bicubic_resize(img, size);
    default: break;
  }
  int flag = interp == Interp::Area ? cv::INTER_AREA : interp == Interp::Bilinear ? cv::INTER_LINEAR : cv::INTER_CUBIC;
  cv::Mat out;
  cv::resize(img, out, size, 0, 0, flag);
  return out;
}

namespace {

double cubic(double x) {
  double a = std::fabs(x), a2 = a * a, a3 = a2 * a;
  if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
  if (a <= 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
  return 0;
}

// One output sample = sum_k weight[k] * input[index[k]]; the contribution table of MATLAB's
// imresize (contributions()), with symmetric boundary handling and zero columns dropped.
struct Contributions {
  int taps = 0;
  std::vector<int> index;      // out_len * taps
  std::vector<double> weight;  // out_len * taps
};

Contributions contributions(int in_len, int out_len, double scale, bool antialias) {
  const double kernel_width = 4.0;
  bool shrink = antialias && scale < 1;
  double width = shrink ? kernel_width / scale : kernel_width;
  int taps = int(std::ceil(width)) + 2;
  std::vector<int> idx(size_t(out_len) * taps);
  std::vector<double> w(size_t(out_len) * taps);
  for (int o = 0; o < out_len; ++o) {
    double x = o + 1;  // MATLAB is 1-based
    double u = x / scale + 0.5 * (1 - 1 / scale);
    double left = std::floor(u - width / 2);
    double sum = 0;
    for (int k = 0; k < taps; ++k) {
      double j = left + k;
      double v = shrink ? scale * cubic(scale * (u - j)) : cubic(u - j);
      w[size_t(o) * taps + k] = v;
      sum += v;
      // Symmetric padding: aux = [1:in, in:-1:1], 0-based result.
      long m = (long(j) - 1) % (2L * in_len);
      if (m < 0) m += 2L * in_len;
      idx[size_t(o) * taps + k] = int(m < in_len ? m : 2L * in_len - 1 - m);
    }
    for (int k = 0; k < taps; ++k) w[size_t(o) * taps + k] /= sum;
  }
  // MATLAB drops tap columns whose weights are zero for every output sample; dropping them
  // changes nothing numerically, so we keep them (zero weight times a valid sample).
  return {taps, std::move(idx), std::move(w)};
}

// Resizes along rows (dim 0) or cols (dim 1) of a CV_64F multi-channel image.
cv::Mat resize_dim(const cv::Mat& src, int dim, int out_len, double scale, bool antialias) {
  const int cn = src.channels();
  if (dim == 0) {
    Contributions c = contributions(src.rows, out_len, scale, antialias);
    cv::Mat dst(out_len, src.cols, src.type());
    const int row_len = src.cols * cn;
    for (int o = 0; o < out_len; ++o) {
      double* d = dst.ptr<double>(o);
      std::fill(d, d + row_len, 0.0);
      for (int k = 0; k < c.taps; ++k) {
        double wk = c.weight[size_t(o) * c.taps + k];
        if (wk == 0) continue;
        const double* s = src.ptr<double>(c.index[size_t(o) * c.taps + k]);
        for (int i = 0; i < row_len; ++i) d[i] += wk * s[i];
      }
    }
    return dst;
  }
  Contributions c = contributions(src.cols, out_len, scale, antialias);
  cv::Mat dst(src.rows, out_len, src.type());
  for (int y = 0; y < src.rows; ++y) {
    const double* s = src.ptr<double>(y);
    double* d = dst.ptr<double>(y);
    for (int o = 0; o < out_len; ++o) {
      for (int ch = 0; ch < cn; ++ch) {
        double acc = 0;
        for (int k = 0; k < c.taps; ++k) acc += c.weight[size_t(o) * c.taps + k] * s[c.index[size_t(o) * c.taps + k] * cn + ch];
        d[o * cn + ch] = acc;
      }
    }
  }
  return dst;
}

cv::Mat imresize_impl(const cv::Mat& img, cv::Size size, double scale_r, double scale_c, bool antialias) {
  if (img.empty()) fail(ErrorCode::Input, "cannot resize an empty image");
  if (size.width <= 0 || size.height <= 0) fail(ErrorCode::Input, "resize target must be positive");
  cv::Mat f;
  img.convertTo(f, CV_64F);
  // MATLAB resizes along the dimension with the smaller scale factor first (rows on a tie).
  if (scale_r <= scale_c) {
    f = resize_dim(f, 0, size.height, scale_r, antialias);
    return resize_dim(f, 1, size.width, scale_c, antialias);
  }
  f = resize_dim(f, 1, size.width, scale_c, antialias);
  return resize_dim(f, 0, size.height, scale_r, antialias);
}

}  // namespace

cv::Mat imresize_matlab(const cv::Mat& img, cv::Size size, bool antialias) {
  return imresize_impl(img, size, double(size.height) / img.rows, double(size.width) / img.cols, antialias);
}

cv::Mat imresize_matlab(const cv::Mat& img, double scale, bool antialias) {
  if (!(scale > 0)) fail(ErrorCode::Input, "resize scale must be positive");
  cv::Size size(int(std::ceil(img.cols * scale)), int(std::ceil(img.rows * scale)));
  return imresize_impl(img, size, scale, scale, antialias);
}

cv::Mat torch_bilinear_scale(const cv::Mat& img, double scale) {
  if (img.depth() != CV_32F) fail(ErrorCode::Internal, "torch_bilinear_scale takes float32 images");
  if (!(scale > 0)) fail(ErrorCode::Input, "scale must be positive");
  const int out_h = int(std::floor(img.rows * scale)), out_w = int(std::floor(img.cols * scale));
  if (out_h < 1 || out_w < 1) fail(ErrorCode::Input, "scaled image is empty");
  const int cn = img.channels();
  // Per output index along one axis: the two source indices and the weight of the second
  // (torch's area_pixel_compute_source_index with align_corners false; float as torch's CPU kernel).
  auto axis = [&](int in_len, int out_len, std::vector<int>& i0, std::vector<int>& i1, std::vector<float>& w1) {
    i0.resize(out_len), i1.resize(out_len), w1.resize(out_len);
    const float inv = float(1.0 / scale);
    for (int o = 0; o < out_len; ++o) {
      float src = std::max(0.f, inv * (o + 0.5f) - 0.5f);
      int a = std::min(int(src), in_len - 1);
      i0[o] = a;
      i1[o] = a + (a < in_len - 1 ? 1 : 0);
      w1[o] = src - float(a);
    }
  };
  std::vector<int> y0, y1, x0, x1;
  std::vector<float> wy, wx;
  axis(img.rows, out_h, y0, y1, wy);
  axis(img.cols, out_w, x0, x1, wx);
  cv::Mat out(out_h, out_w, img.type());
  for (int y = 0; y < out_h; ++y) {
    const float* r0 = img.ptr<float>(y0[y]);
    const float* r1 = img.ptr<float>(y1[y]);
    float* d = out.ptr<float>(y);
    const float b = wy[y], a = 1.f - b;
    for (int x = 0; x < out_w; ++x) {
      const float q = wx[x], p = 1.f - q;
      for (int c = 0; c < cn; ++c) {
        const float top = p * r0[x0[x] * cn + c] + q * r0[x1[x] * cn + c];
        const float bottom = p * r1[x0[x] * cn + c] + q * r1[x1[x] * cn + c];
        d[x * cn + c] = a * top + b * bottom;
      }
    }
  }
  return out;
}

cv::Mat crop(const cv::Mat& img, const cv::Rect& roi) {
  if (roi.width <= 0 || roi.height <= 0 || roi.x < 0 || roi.y < 0 || roi.x + roi.width > img.cols || roi.y + roi.height > img.rows)
    fail(ErrorCode::Input, "crop " + std::to_string(roi.width) + "x" + std::to_string(roi.height) + "+" + std::to_string(roi.x) + "+" +
                               std::to_string(roi.y) + " lies outside the " + std::to_string(img.cols) + "x" + std::to_string(img.rows) + " image");
  return img(roi).clone();
}

void pack_nchw(const cv::Mat& img, float* dst, int out_channels, bool rgb, const float mean[3], const float stdev[3]) {
  const int cn = img.channels();
  if (out_channels != 1 && out_channels != 3) fail(ErrorCode::Input, "tensor channels must be 1 or 3");
  if (cn == 4 && out_channels == 3) return pack_nchw(drop_alpha(img), dst, out_channels, rgb, mean, stdev);
  if (cn != 1 && cn != 3) fail(ErrorCode::Input, "cannot pack a " + std::to_string(cn) + "-channel image");
  if (cn == 3 && out_channels == 1) fail(ErrorCode::Input, "convert colour images to grey before packing one channel");
  // Unscaled float32 (exact for 8/16-bit), then a float32 division by the full scale: the value
  // torchvision's to_tensor (img.float().div(255)) gives, bit for bit, where a multiplication by
  // 1/255 can be one ulp off (enough to move scores of locally normalised flat patches).
  cv::Mat f;
  img.convertTo(f, CV_32F);
  const float full = float(full_scale(img));
  const size_t plane = size_t(img.rows) * img.cols;
  for (int c = 0; c < out_channels; ++c) {
    // Source channel for output channel c: BGR storage, so RGB output reverses the order.
    int src_c = cn == 1 ? 0 : (rgb ? 2 - c : c);
    float m = mean[c], inv = 1.0f / stdev[c];
    float* out = dst + c * plane;
    for (int y = 0; y < f.rows; ++y) {
      const float* s = f.ptr<float>(y);
      for (int x = 0; x < f.cols; ++x) out[size_t(y) * f.cols + x] = (s[x * cn + src_c] / full - m) * inv;
    }
  }
}

void local_contrast_normalize(float* plane, int rows, int cols, int window, double c) {
  if (window < 1 || window % 2 == 0) fail(ErrorCode::Model, "local contrast window must be a positive odd number, got " + std::to_string(window));
  // As numpy on the authors' float32 patch: the square in float32, the box means in double.
  const cv::Mat xf(rows, cols, CV_32F, plane);
  cv::Mat x, x2;
  xf.convertTo(x, CV_64F);
  cv::Mat(xf.mul(xf)).convertTo(x2, CV_64F);
  cv::Mat mu, sq;
  const cv::Size k(window, window);
  cv::boxFilter(x, mu, CV_64F, k, cv::Point(-1, -1), true, cv::BORDER_REFLECT);
  cv::boxFilter(x2, sq, CV_64F, k, cv::Point(-1, -1), true, cv::BORDER_REFLECT);
  for (int y = 0; y < rows; ++y) {
    const double *xv = x.ptr<double>(y), *m = mu.ptr<double>(y), *s = sq.ptr<double>(y);
    float* out = plane + size_t(y) * cols;
    for (int i = 0; i < cols; ++i) out[i] = float((xv[i] - m[i]) / (std::sqrt(std::max(s[i] - m[i] * m[i], 0.0)) + c));
  }
}

}  // namespace iqa
