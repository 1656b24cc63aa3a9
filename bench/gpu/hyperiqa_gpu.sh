#!/bin/bash
# HyperIQA on the CUDA machine, one device call (about 5 minutes; every step has its own timeout).
#   source .gpu4/unpack.sh && bash bench/gpu/hyperiqa_gpu.sh      (carry .gpu4 and .gpu5; see prepare.sh)
# 1. exports full-size HyperIQA with seeded random weights using the device's PyTorch (ORT-vs-torch
#    checked by the export script): A fp32 float input + native target head; B fp16 uint8 input
#    with the target net fused in the graph; C fp16 uint8 input + native head
# 2. parity: the same crops on the CPU EP and on the CUDA EP
# 3. crops/s at several batch sizes (pre-packed crops; copy to GPU, inference, head included)
# 4. end to end images/s: JPEG bytes -> libjpeg decode -> 384x512 resize -> 10 random 224 crops
#    -> dynamic batcher -> ORT CUDA (IO binding, pinned input) -> head -> mean per image
# Results: one JSON object per line on stdout and in $OUT/hyperiqa_gpu.jsonl.
set -uo pipefail
root=$(pwd)
out=${OUT:-/tmp/hyperiqa-gpu-out}
mkdir -p "$out"
log=$out/hyperiqa_gpu.jsonl
: > "$log"
work=/root/gpu/hq
mkdir -p "$work/models"
zstd_bin=$root/.gpu4/zstd/zstd
[ -x "$zstd_bin" ] || zstd_bin=$(command -v zstd)
"$zstd_bin" -d -q -c .gpu5/bench.tar.zst | tar -C "$work" -xf - || { echo '{"error":"cannot unpack .gpu5/bench.tar.zst"}' | tee -a "$log"; exit 1; }
export LD_LIBRARY_PATH="$work/bench/lib:${LD_LIBRARY_PATH:-}"
bench=$work/bench/bin/hyperiqa_gpu_bench
images=$work/bench/images
py=${IQA_PYTHON:-/opt/torch/.venv/bin/python}
[ -x "$py" ] || py=python3
m=$work/models
# Local dry run of this script on a CPU machine: IQA_BENCH_DEVICE=cpu IQA_BENCH_CONFIG=tiny
dev=${IQA_BENCH_DEVICE:-cuda}
cfg=${IQA_BENCH_CONFIG:-full}
div=${IQA_BENCH_DIV:-1}   # dry runs: divide image counts and seconds
sizes=224,112,56,28,14,1
[ "$cfg" = tiny ] && sizes=56,28,14,7,7,1
budget=${IQA_BENCH_BUDGET:-450}   # seconds for the whole script; later steps are skipped past it
t_start=$(date +%s)
note() { echo "{\"note\":\"$1\",\"t\":$(( $(date +%s) - t_start ))}" | tee -a "$log"; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | sed 's/^/# gpu: /' | tee -a "$out/gpu.txt"
echo "# ORT library: ${IQA_ORT_LIBRARY:-unset}; CPU cores: $(nproc)"
ldd "$bench" | grep -E "not found" && echo '{"error":"missing shared libraries"}' | tee -a "$log"

note "exporting (parallel)"
ex() { local name=$1; shift; timeout 200 "$py" tools/export/export_hyperiqa.py --weights random --seed 0 --config "$cfg" --out-dir "$m" --name "$name" "$@" > "$out/export-$name.log" 2>&1 || echo "{\"error\":\"export $name failed\",\"log\":\"export-$name.log\"}" | tee -a "$log"; }
ex a-f32 &
if [ "${IQA_BENCH_PLAN:-full}" != tf32 ]; then
ex b-u8-fused --uint8-input --fuse-target --fp16 --skip-fp32 --trace-device "$dev" &
ex c-u8 --uint8-input --fp16 --skip-fp32 --trace-device "$dev" &
fi
wait
grep -h "max |diff|" "$out"/export-*.log | sed 's/^/# export check: /'
A=$m/a-f32.onnx; B=$m/b-u8-fused.fp16.onnx; C=$m/c-u8.fp16.onnx
ls -la "$m" | sed 's/^/# /'

run() {  # run SECONDS ARGS...: capped by what is left of the budget; skipped when too little is left
  local t=$1; shift
  local left=$(( budget - ($(date +%s) - t_start) ))
  if [ "$left" -lt 20 ]; then echo "{\"skipped\":\"$1\",\"reason\":\"time budget\",\"args\":\"${*:2}\"}" | tee -a "$log"; return; fi
  [ "$t" -gt "$left" ] && t=$left
  timeout "$t" "$bench" "$@" 2>>"$out/bench.stderr" | tee -a "$log" || echo "{\"error\":\"timeout or crash ($t s)\",\"args\":\"$*\"}" | tee -a "$log"
}
T=$(nproc)
D=(--device "$dev" --sizes "$sizes")

if [ "${IQA_BENCH_PLAN:-full}" = tf32 ]; then
  # Short plan: what TF32 costs in fidelity and buys in speed for the fp32 model.
  note "tf32 plan: parity and crops/s of the fp32 model with TF32 off and on"
  run 60 parity "$A" "$A" "${D[@]}" --head native --input f32 --tf32 0
  run 60 parity "$A" "$A" "${D[@]}" --head native --input f32 --tf32 1
  run 40 crops "$A" "${D[@]}" --head native --input f32 --batches 128,256 --seconds 4 --tf32 0
  run 40 crops "$A" "${D[@]}" --head native --input f32 --batches 128,256 --seconds 4 --tf32 1
  note "done"
  exit 0
fi

note "parity CPU EP vs CUDA EP (fp32)"
run 90 parity "$A" "$A" "${D[@]}" --head native --input f32

note "headline: end to end, fp16, uint8 input, fused target net"
run 80 e2e "$B" "${D[@]}" --head fused --input u8 --images "$images" --count $((8000 / div)) --crops 10 --threads "$T" --batch 256 --depth 8

note "crops/s"
run 70 crops "$B" "${D[@]}" --head fused --input u8 --batches 64,128,256 --seconds $((4 / div + 1))
run 80 crops "$A" "${D[@]}" --head native --input f32 --batches 1,64,128,256 --seconds $((4 / div + 1))
run 50 crops "$C" "${D[@]}" --head native --input u8 --batches 128,256 --seconds $((4 / div + 1))

note "more end to end"
run 60 e2e "$C" "${D[@]}" --head native --input u8 --images "$images" --count $((6000 / div)) --crops 10 --threads "$T" --batch 256 --depth 8
run 60 e2e "$A" "${D[@]}" --head native --input f32 --images "$images" --count $((3000 / div)) --crops 10 --threads "$T" --batch 128 --depth 8
run 60 e2e "$B" "${D[@]}" --head fused --input u8 --images "$images" --count $((3000 / div)) --crops 25 --threads "$T" --batch 250 --depth 8

note "variants"
run 30 crops "$B" "${D[@]}" --head fused --input u8 --batches 256 --seconds $((4 / div + 1)) --copy-stream 0
run 30 crops "$B" "${D[@]}" --head fused --input u8 --batches 256 --seconds $((4 / div + 1)) --runners 3 --submitters 6
run 40 parity "$B" "$B" "${D[@]}" --head fused --input u8
run 40 parity "$C" "$C" "${D[@]}" --head native --input u8
note "done"
