#!/usr/bin/env bash
# One prepared GPU check (about 9 minutes; each part has its own timeout):
#  1. CUDA tests: the Triton path and the host-read tests;
#  2. CUDA-graph capture of every layer's forward+backward after one warm-up,
#     torch.compile(mode='reduce-overhead') of Cora ChebNet / GCN / STGCN
#     training steps, Cora epochs eager vs captured (benchmarks/gpu_capture.py);
#  3. a new graph every step vs PyG, with host syncs per step
#     (benchmarks/bench_minibatch.py --device cuda);
#  4. a cached step under torch.cuda.set_sync_debug_mode('error'), compiled vs
#     eager (benchmarks/gpu_sync_compile.py);
#  5. the sparse step and ChebConv/GCNConv vs PyG at 2M nodes / 20M edges
#     (benchmarks/gpu_bench.py).
# POLY=1 adds the polynomial filters vs their authors' code (bench_poly.py).
# Every script has a --dry-run / CPU mode to check it before device time.
# Run from the repository root; results go to $OUT (default /tmp/gpu_out).
#   bash benchmarks/gpu_check.sh
set -uo pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/gpu_out}"
mkdir -p "$OUT"
PY=python3
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
$PY -c "import torch, triton, torch_geometric as g; print('torch', torch.__version__, 'triton', triton.__version__, 'pyg', g.__version__)" | tee -a "$OUT/gpu.txt"
echo "== CUDA tests (Triton path, host reads) =="
timeout 150 $PY -m pytest -q -x -p no:cacheprovider tests/test_triton.py tests/test_host_reads.py 2>&1 | tail -4 | tee "$OUT/tests.txt"
echo "== CUDA graphs, reduce-overhead, Cora epochs =="
timeout 150 $PY benchmarks/gpu_capture.py --out "$OUT" 2>&1 | tee "$OUT/capture.log"
echo "== a new graph every step =="
timeout 150 $PY benchmarks/bench_minibatch.py --device cuda --out "$OUT/minibatch_gpu" 2>&1 | tail -14 | tee "$OUT/minibatch.log"
echo "== no host sync; compiled vs eager =="
timeout 90 $PY benchmarks/gpu_sync_compile.py --out "$OUT" 2>&1 | tee "$OUT/sync_compile.log"
echo "== timings =="
timeout 150 $PY benchmarks/gpu_bench.py --out "$OUT" 2>&1 | tee "$OUT/bench.log"
if [ "${POLY:-0}" = 1 ]; then
  echo "== polynomial filters vs the authors' code =="
  timeout 90 $PY benchmarks/bench_poly.py --device cuda --cases 100k 1m --repeats 5 --out "$OUT/poly_gpu" 2>&1 | tail -12 | tee "$OUT/poly.log"
fi
