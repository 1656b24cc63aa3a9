#!/usr/bin/env bash
# Sets up iqa-node from a clone on Debian 12 (run as root, or with sudo available):
# system packages, npm ci from the lockfile (ONNX Runtime's CUDA download skipped), the native
# build (cmake-js, via the package's install script), the TypeScript build, and the samples.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# opencv-data: BRISQUE LIVE model; libopencv-contrib-dev: quality module (reference tools);
# libzip/matio: NIQE model files (.npz, .mat); mate-backgrounds: photographs for the samples;
# redis-server: the BullMQ queue tests; chromium: the eval report rendering test;
# libav*-dev: video frames (native/core/video); ffmpeg: the video goldens and benchmarks;
# libjpeg62-turbo-dev libpng-dev libwebp-dev libgif-dev libheif-dev: JPEG, PNG, animated WebP, GIF,
# HEIC and AVIF decoded directly; libdav1d-dev: AV1 through our own quiet libheif plugin
# (native/core/image/codec_*.cpp); debootstrap curl: the self-contained prebuild's Debian 11 build
# root and the clean-root install checks (scripts/prebuild-static/, run by scripts/check-pack.sh).
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config ca-certificates curl debootstrap \
  libopencv-dev libopencv-contrib-dev libsvm-dev opencv-data libzip-dev libmatio-dev \
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg libjpeg62-turbo-dev libpng-dev libwebp-dev libgif-dev libheif-dev libdav1d-dev \
  mate-backgrounds redis-server chromium >/dev/null
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund
npm run build:ts
node scripts/make-samples.mjs
