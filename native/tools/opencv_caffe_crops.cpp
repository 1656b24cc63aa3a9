// Reference for Caffe-format models (scripts/golden/rankiqa_reference.sh): OpenCV's own Caffe
// importer and dnn forward (Debian libopencv-dnn 4.6), independent of iqa-node's ONNX path.
// For each image: cv::imread (BGR 8-bit), `count` crops of size x size at iqa-node's documented
// seeded positions (splitmix64(seed): x = next() % (W - size + 1), then y), raw pixel values
// (no mean, no scale: what RankIQA's FT_eval scripts feed Caffe), the output blob per crop.
// Prints one JSON line per image: {"file", "crops": [...], "mean"}.
//   opencv_caffe_crops DEPLOY.prototxt WEIGHTS.caffemodel OUTPUT SIZE COUNT SEED IMAGE...
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(stderr, "usage: %s DEPLOY.prototxt WEIGHTS.caffemodel OUTPUT SIZE COUNT SEED IMAGE...\n", argv[0]);
    return 2;
  }
  cv::dnn::Net net = cv::dnn::readNetFromCaffe(argv[1], argv[2]);
  const std::string output = argv[3];
  const int size = std::stoi(argv[4]), count = std::stoi(argv[5]);
  const uint64_t seed = std::stoull(argv[6]);
  for (int a = 7; a < argc; ++a) {
    cv::Mat img = cv::imread(argv[a], cv::IMREAD_COLOR);
    if (img.empty()) {
      std::fprintf(stderr, "cannot read %s\n", argv[a]);
      return 1;
    }
    uint64_t state = seed;
    auto next = [&] {
      uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      return z ^ (z >> 31);
    };
    std::printf("{\"file\": \"%s\", \"crops\": [", argv[a]);
    double sum = 0;
    for (int i = 0; i < count; ++i) {
      const int x = int(next() % uint64_t(img.cols - size + 1));
      const int y = int(next() % uint64_t(img.rows - size + 1));
      cv::Mat blob = cv::dnn::blobFromImage(img(cv::Rect(x, y, size, size)), 1.0, cv::Size(), cv::Scalar(), false, false, CV_32F);
      net.setInput(blob);
      const double v = net.forward(output).at<float>(0);
      sum += v;
      std::printf("%s%.9g", i ? ", " : "", v);
    }
    std::printf("], \"mean\": %.12g}\n", sum / count);
  }
  return 0;
}
