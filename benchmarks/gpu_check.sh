#!/usr/bin/env bash
# One prepared GPU check (~8 minutes): CUDA tests of the Triton path,
# timings of the sparse step and of ChebConv/GCNConv vs PyG and cuSPARSE,
# the polynomial filters vs their authors' code (benchmarks/bench_poly.py),
# then a cached training step under torch.cuda.set_sync_debug_mode('error')
# and compiled vs eager steps (benchmarks/gpu_sync_compile.py; its
# --dry-run checks it on CPU first).
# Run from the repository root; results go to $OUT (default /tmp/gpu_out).
#   bash benchmarks/gpu_check.sh
set -uo pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/gpu_out}"
mkdir -p "$OUT"
PY=python3
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
$PY -c "import torch, triton, torch_geometric as g; print('torch', torch.__version__, 'triton', triton.__version__, 'pyg', g.__version__)" | tee -a "$OUT/gpu.txt"
echo "== CUDA tests (Triton path) =="
timeout 120 $PY -m pytest -q -x -p no:cacheprovider tests/test_triton.py 2>&1 | tail -4 | tee "$OUT/tests.txt"
echo "== timings =="
timeout 240 $PY benchmarks/gpu_bench.py --out "$OUT" 2>&1 | tee "$OUT/bench.log"
echo "== polynomial filters vs the authors' code (GPRConv, BernConv, ChebIIConv, JacobiConv) =="
timeout 90 $PY benchmarks/bench_poly.py --device cuda --cases 100k 1m --repeats 5 --out "$OUT/poly_gpu" 2>&1 | tail -12 | tee "$OUT/poly.log"
echo "== no host sync; compiled vs eager =="
timeout 120 $PY benchmarks/gpu_sync_compile.py --out "$OUT" 2>&1 | tee "$OUT/sync_compile.log"
