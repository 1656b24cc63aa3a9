#!/bin/bash
# Packs the HyperIQA GPU benchmark for the lent CUDA machine (see ../shared/GPU.md), next to the
# ORT/CUDA folders that ../shared/gpu/prepare.sh makes. Run from the project root:
#   ../shared/gpu/prepare.sh        # .gpu1 .gpu2 .gpu3 .gpu4 (ORT 1.29 + CUDA EP, node, zstd)
#   bench/gpu/prepare.sh            # .gpu5/bench.tar.zst: hyperiqa_gpu_bench + OpenCV core/imgproc
#                                   # + libjpeg + N BIQ2021 JPEGs (IQA_GPU_IMAGES, default 250)
# Then send, back to back: .gpu1, .gpu2, .gpu3 as ../shared/gpu/prepare.sh prints, and last
#   carry [".gpu4", ".gpu5"]:  source .gpu4/unpack.sh && bash bench/gpu/hyperiqa_gpu.sh
# (the full-size ONNX models are exported on the device with its PyTorch; nothing large travels).
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
n=${IQA_GPU_IMAGES:-250}
images=${IQA_GPU_IMAGE_DIR:-$root/../shared/data/biq2021/images}
cmake -S . -B build/gpu-bench -G Ninja -DIQA_BUILD_ADDON=OFF -DIQA_BUILD_GPU_BENCH=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/gpu-bench --target hyperiqa_gpu_bench
stage=$(mktemp -d)
mkdir -p "$stage/bench/bin" "$stage/bench/lib" "$stage/bench/images"
cp build/gpu-bench/hyperiqa_gpu_bench "$stage/bench/bin/"
# Every shared library it needs except the C/C++ runtime and zlib (the device has its own, newer ones).
ldd build/gpu-bench/hyperiqa_gpu_bench | awk '/=>/{print $3}' \
  | grep -v -E '/(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|libz|ld-linux-x86-64)\.so' \
  | while read -r l; do cp -L "$l" "$stage/bench/lib/"; done
i=0
while IFS= read -r -d '' f; do
  i=$((i + 1)); cp "$f" "$stage/bench/images/$(printf 'img%04d.jpg' "$i")"
  [ "$i" -ge "$n" ] && break
done < <(find "$images" -maxdepth 1 -name '*.jpg' -print0 | sort -z)
rm -rf .gpu5 && mkdir -p .gpu5
tar -C "$stage" -cf - bench | zstd -19 -T0 -q -o .gpu5/bench.tar.zst
rm -rf "$stage"
echo "packed $i images; $(du -sh .gpu5 | cut -f1) in .gpu5 ($(du -sh .gpu4 2>/dev/null | cut -f1) in .gpu4)"
echo 'last device command: carry [".gpu4", ".gpu5"], run: source .gpu4/unpack.sh && bash bench/gpu/hyperiqa_gpu.sh'
