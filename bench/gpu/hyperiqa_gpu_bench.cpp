// HyperIQA throughput on ONNX Runtime (CPU or CUDA EP) through iqa-node's native engine
// (native/core/ort: session + dynamic batcher + heads), without Node and without OpenCV's
// imgcodecs (JPEGs are decoded with libjpeg), so it runs on the lent GPU machine.
//
//   hyperiqa_gpu_bench crops ONNX --head native|fused --input f32|u8 --device cuda --batches 32,128,256
//                      [--seconds 4] [--runners 2] [--submitters 4] [--nhwc 1] [--copy-stream 0]
//       crops/s with pre-packed random crops (host->device copy, inference and head included)
//   hyperiqa_gpu_bench e2e ONNX --head ... --input ... --images DIR [--count 2000] [--crops 10]
//                      [--threads 16] [--batch 128] [--depth 4]
//       images/s from JPEG bytes in memory: decode -> 384x512 resize -> random 224 crops -> score -> mean
//   hyperiqa_gpu_bench parity ONNX_A ONNX_B --head ... --input ...  (CPU EP vs the --device EP, same crops)
// Prints one JSON object per measurement.
#include <cstddef>
#include <cstdio>
#include <jpeglib.h>  // after cstdio: it uses size_t and FILE

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "common/error.h"
#include "ort/model.h"
#include "ort/runtime.h"

using Clock = std::chrono::steady_clock;

namespace {

std::map<std::string, std::string> g_args;
std::string arg(const std::string& k, const std::string& def) {
  auto it = g_args.find(k);
  return it == g_args.end() ? def : it->second;
}
double num(const std::string& k, double def) { return std::stod(arg(k, std::to_string(def))); }

iqa::ort::ModelSpec hyperiqa_spec(const std::string& onnx, bool fused, bool u8) {
  iqa::ort::ModelSpec s;
  s.name = "hyperiqa";
  s.model_path = onnx;
  s.width = s.height = 224;
  s.channels = 3;
  s.uint8_nhwc = u8;
  s.rgb = !u8;  // float32 graphs take RGB; uint8 graphs take OpenCV's BGR and swap inside
  const float mean[3] = {0.485f, 0.456f, 0.406f}, stdev[3] = {0.229f, 0.224f, 0.225f};
  std::copy(mean, mean + 3, s.mean);
  std::copy(stdev, stdev + 3, s.stdev);
  s.resize_width = 384;
  s.resize_height = 512;
  s.interp = iqa::parse_interp(arg("interp", "area"));
  s.crop = iqa::ort::CropPolicy::Random;
  s.crop_count = int(num("crops", 10));
  s.crop_seed = 0;
  if (fused) {
    s.head.type = "scalar";
    s.head.outputs = {"score"};
  } else {
    s.head.type = "hyperiqa-target";
    std::stringstream ss(arg("sizes", "224,112,56,28,14,1"));  // tiny test model: 56,28,14,7,7,1
    for (std::string t; std::getline(ss, t, ',');) s.head.sizes.push_back(std::stoll(t));
  }
  return s;
}

iqa::ort::EngineOptions engine(const std::string& device, size_t batch) {
  iqa::ort::EngineOptions e;
  e.session.device = device;
  e.session.strict_device = device == "cuda";
  e.session.prefer_nhwc = num("nhwc", 1) != 0;
  e.session.use_tf32 = num("tf32", 1) != 0;  // TF32 convs/matmuls on Ampere+: faster fp32, ~1e-3 relative error
  e.session.cuda_copy_in_default_stream = num("copy-stream", 1) != 0;
  e.session.intra_op_threads = int(num("intra", 0));
  e.max_batch = batch;
  e.max_delay_ms = num("delay", 2);
  e.runners = int(num("runners", 2));
  e.pad_batches = int(num("pad", -1));
  return e;
}

std::string base(const std::string& p) { return p.substr(p.find_last_of('/') + 1); }

// Safe inside a JSON string (ORT messages carry quotes and newlines).
std::string js(const std::string& s) {
  std::string o;
  for (char c : s) o += (c == '"' || c == '\\') ? '\'' : (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  return o;
}

void crops_mode(const std::string& onnx) {
  bool fused = arg("head", "native") == "fused", u8 = arg("input", "f32") == "u8";
  std::string device = arg("device", "cuda");
  double seconds = num("seconds", 4);
  int submitters = int(num("submitters", 4));
  std::vector<size_t> batches;
  std::stringstream ss(arg("batches", "32,128,256"));
  for (std::string t; std::getline(ss, t, ',');) batches.push_back(std::stoul(t));
  for (size_t b : batches) {
    auto t_load = Clock::now();
    iqa::ort::Model model(hyperiqa_spec(onnx, fused, u8), engine(device, b));
    double load_s = std::chrono::duration<double>(Clock::now() - t_load).count();
    const size_t bytes = model.sample_bytes();
    std::vector<uint8_t> samples(bytes * b);
    std::mt19937 rng(1);
    if (u8) {
      for (auto& v : samples) v = uint8_t(rng() & 255);
    } else {
      float* f = reinterpret_cast<float*>(samples.data());
      std::normal_distribution<float> nd(0.f, 1.f);
      for (size_t i = 0; i < samples.size() / 4; ++i) f[i] = nd(rng);
    }
    std::vector<double> scores(b);
    auto t_warm = Clock::now();
    for (int i = 0; i < 3; ++i) model.score_tensor(samples.data(), b, scores.data());  // cuDNN algo search happens here
    double warm_s = std::chrono::duration<double>(Clock::now() - t_warm).count();
    std::atomic<uint64_t> done{0};
    std::atomic<bool> stop{false};
    auto t0 = Clock::now();
    std::vector<std::thread> th;
    for (int k = 0; k < submitters; ++k)
      th.emplace_back([&] {
        std::vector<double> sc(b);
        while (!stop.load()) {
          model.score_tensor(samples.data(), b, sc.data());
          done += b;
        }
      });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : th) t.join();
    double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    auto info = model.info();
    std::printf("{\"mode\":\"crops\",\"model\":\"%s\",\"head\":\"%s\",\"input\":\"%s\",\"device\":\"%s\",\"batch\":%zu,\"runners\":%d,\"nhwc\":%d,\"tf32\":%d,\"copyStream\":%d,"
                "\"cropsPerSec\":%.1f,\"crops\":%llu,\"seconds\":%.2f,\"loadSeconds\":%.1f,\"warmupSeconds\":%.1f,\"meanScore\":%.4f,\"pinned\":%d,\"fallback\":\"%s\"}\n",
                base(onnx).c_str(), fused ? "fused" : "native", u8 ? "u8" : "f32", info.device.c_str(), b, int(num("runners", 2)), int(num("nhwc", 1)),
                int(num("tf32", 1)), int(num("copy-stream", 1)), double(done) / dt, (unsigned long long)done.load(), dt, load_s, warm_s, scores[0], int(info.pinned_input),
                js(info.fallback_reason.substr(0, 300)).c_str());
    std::fflush(stdout);
  }
}

// --- libjpeg decode from memory into a BGR cv::Mat ------------------------------------------
struct JpegError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
};
void on_jpeg_error(j_common_ptr c) { longjmp(reinterpret_cast<JpegError*>(c->err)->jump, 1); }

cv::Mat decode_jpeg(const std::vector<uint8_t>& bytes) {
  jpeg_decompress_struct d;
  JpegError err;
  d.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_jpeg_error;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&d);
    iqa::fail(iqa::ErrorCode::Decode, "bad JPEG");
  }
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, bytes.data(), bytes.size());
  jpeg_read_header(&d, TRUE);
  d.out_color_space = JCS_EXT_BGR;  // libjpeg-turbo: OpenCV's order directly
  d.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&d);
  cv::Mat m(int(d.output_height), int(d.output_width), CV_8UC3);
  while (d.output_scanline < d.output_height) {
    JSAMPROW row = m.ptr<uint8_t>(int(d.output_scanline));
    jpeg_read_scanlines(&d, &row, 1);
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  return m;
}

std::vector<std::vector<uint8_t>> read_images(const std::string& dir, size_t max) {
  std::vector<std::string> names;
  if (DIR* dp = opendir(dir.c_str())) {
    while (dirent* e = readdir(dp)) {
      std::string n = e->d_name;
      if (n.size() > 4 && (n.substr(n.size() - 4) == ".jpg" || n.substr(n.size() - 5) == ".jpeg")) names.push_back(dir + "/" + n);
    }
    closedir(dp);
  }
  std::sort(names.begin(), names.end());
  if (names.size() > max) names.resize(max);
  std::vector<std::vector<uint8_t>> out;
  for (const auto& n : names) {
    std::ifstream f(n, std::ios::binary);
    out.emplace_back((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  return out;
}

void e2e_mode(const std::string& onnx) {
  bool fused = arg("head", "native") == "fused", u8 = arg("input", "f32") == "u8";
  std::string device = arg("device", "cuda");
  auto files = read_images(arg("images", "images"), 100000);
  if (files.empty()) iqa::fail(iqa::ErrorCode::Input, "no .jpg images in " + arg("images", "images"));
  size_t count = size_t(num("count", 2000));
  int threads = int(num("threads", std::max(1u, std::thread::hardware_concurrency())));
  size_t batch = size_t(num("batch", 128));
  size_t depth = size_t(num("depth", 4));
  iqa::ort::Model model(hyperiqa_spec(onnx, fused, u8), engine(device, batch));
  // Warm-up: cuDNN picks algorithms for the batch sizes that occur.
  for (int i = 0; i < 3; ++i) {
    std::vector<iqa::ort::Model::Pending> ps;
    for (size_t k = 0; k < std::max<size_t>(1, batch / size_t(num("crops", 10))); ++k) ps.push_back(model.submit(decode_jpeg(files[k % files.size()])));
    for (auto& p : ps) model.wait(p);
  }
  auto before = model.info();
  std::atomic<size_t> next{0};
  std::vector<double> results(count, NAN);
  double decode_s_total = 0;
  std::mutex mu;
  auto t0 = Clock::now();
  std::vector<std::thread> th;
  for (int k = 0; k < threads; ++k)
    th.emplace_back([&] {
      std::deque<std::pair<size_t, iqa::ort::Model::Pending>> q;
      double dec = 0;
      for (;;) {
        size_t i = next++;
        if (i >= count) break;
        auto td = Clock::now();
        cv::Mat img = decode_jpeg(files[i % files.size()]);
        dec += std::chrono::duration<double>(Clock::now() - td).count();
        q.emplace_back(i, model.submit(img));
        while (q.size() > depth) {
          results[q.front().first] = model.wait(q.front().second);
          q.pop_front();
        }
      }
      for (auto& p : q) results[p.first] = model.wait(p.second);
      std::lock_guard<std::mutex> lk(mu);
      decode_s_total += dec;
    });
  for (auto& t : th) t.join();
  double dt = std::chrono::duration<double>(Clock::now() - t0).count();
  auto info = model.info();
  double mean = 0;
  for (double r : results) mean += r;
  mean /= double(count);
  std::printf("{\"mode\":\"e2e\",\"model\":\"%s\",\"head\":\"%s\",\"input\":\"%s\",\"device\":\"%s\",\"images\":%zu,\"distinctFiles\":%zu,\"cropsPerImage\":%d,"
              "\"threads\":%d,\"maxBatch\":%zu,\"runners\":%d,\"imagesPerSec\":%.1f,\"cropsPerSec\":%.1f,\"seconds\":%.2f,\"avgBatch\":%.1f,"
              "\"decodeMsPerImage\":%.2f,\"meanScore\":%.4f}\n",
              base(onnx).c_str(), fused ? "fused" : "native", u8 ? "u8" : "f32", info.device.c_str(), count, files.size(), int(num("crops", 10)), threads,
              batch, int(num("runners", 2)), double(count) / dt, double(count) * num("crops", 10) / dt, dt,
              double(info.rows - before.rows) / double(std::max<uint64_t>(1, info.batches - before.batches)), 1000 * decode_s_total / double(count), mean);
  std::fflush(stdout);
}

void parity_mode(const std::string& a, const std::string& b) {
  // Same random crops through model A on CPU and model B on --device: max |score difference|.
  bool fused = arg("head", "native") == "fused", u8 = arg("input", "f32") == "u8";
  size_t n = 16;
  iqa::ort::Model ma(hyperiqa_spec(a, fused, u8), engine("cpu", n));
  iqa::ort::Model mb(hyperiqa_spec(b, fused, u8), engine(arg("device", "cuda"), n));
  std::vector<uint8_t> samples(ma.sample_bytes() * n);
  std::mt19937 rng(2);
  if (u8) {
    for (auto& v : samples) v = uint8_t(rng() & 255);
  } else {
    float* f = reinterpret_cast<float*>(samples.data());
    std::uniform_real_distribution<float> ud(-2.f, 2.f);
    for (size_t i = 0; i < samples.size() / 4; ++i) f[i] = ud(rng);
  }
  std::vector<double> sa(n), sb(n);
  ma.score_tensor(samples.data(), n, sa.data());
  mb.score_tensor(samples.data(), n, sb.data());
  double worst = 0, scale = 0;
  for (size_t i = 0; i < n; ++i) {
    worst = std::max(worst, std::fabs(sa[i] - sb[i]));
    scale = std::max(scale, std::fabs(sa[i]));
  }
  std::printf("{\"mode\":\"parity\",\"cpu\":\"%s\",\"other\":\"%s\",\"device\":\"%s\",\"tf32\":%d,\"crops\":%zu,\"maxAbsDiff\":%.3g,\"maxAbsScore\":%.3f,\"first\":[%.5f,%.5f]}\n",
              base(a).c_str(), base(b).c_str(), mb.info().device.c_str(), int(num("tf32", 1)), n, worst, scale, sa[0], sb[0]);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s crops|e2e ONNX [--key value]... | parity ONNX_CPU ONNX_OTHER [--key value]...\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  std::vector<std::string> pos;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0 && i + 1 < argc) g_args[a.substr(2)] = argv[++i];
    else pos.push_back(a);
  }
  try {
    const char* lib = std::getenv("IQA_ORT_LIBRARY");
    iqa::ort::Runtime& rt = iqa::ort::Runtime::load(lib ? lib : "libonnxruntime.so.1");
    auto ri = rt.info();
    std::string prov;
    for (auto& p : ri.providers) prov += (prov.empty() ? "" : ",") + p;
    std::fprintf(stderr, "ORT %s from %s (providers: %s)\n", ri.version.c_str(), ri.library_path.c_str(), prov.c_str());
    if (mode == "crops") crops_mode(pos.at(0));
    else if (mode == "e2e") e2e_mode(pos.at(0));
    else if (mode == "parity") parity_mode(pos.at(0), pos.at(1));
    else throw std::runtime_error("unknown mode " + mode);
  } catch (const iqa::Error& e) {
    std::printf("{\"error\":\"%s\",\"message\":\"%s\"}\n", iqa::error_code_name(e.code()), js(std::string(e.what()).substr(0, 600)).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::printf("{\"error\":\"ERR_INTERNAL\",\"message\":\"%s\"}\n", js(std::string(e.what()).substr(0, 600)).c_str());
    return 1;
  }
  return 0;
}
