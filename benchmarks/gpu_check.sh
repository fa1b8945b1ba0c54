#!/usr/bin/env bash
# One prepared GPU check (each part has its own timeout; all parts together
# fit the 600 s of one device call only when some finish early, so the parts
# the open issues need come first):
#  memory   GPU memory of big steps (benchmarks/gpu_memory.py): 100M nodes /
#           1B edges ChebConv K=3 with the default allocator, with and
#           without x.grad; K=10 at 2M/20M in float32 / bfloat16 / float16;
#  timings  the sparse step and ChebConv/GCNConv vs PyG at 2M nodes / 20M
#           edges (benchmarks/gpu_bench.py);
#  tests    CUDA tests: the Triton path and the host-read tests;
#  locality the locality ordering on the GPU (benchmarks/bench_locality.py);
#  capture  CUDA-graph capture of every layer's forward+backward after one
#           warm-up, torch.compile(mode='reduce-overhead') of Cora ChebNet /
#           GCN / STGCN training steps, Cora epochs eager vs captured
#           (benchmarks/gpu_capture.py);
#  minibatch a new graph every step vs PyG, with host syncs per step
#           (benchmarks/bench_minibatch.py --device cuda);
#  sync     a cached step under torch.cuda.set_sync_debug_mode('error'),
#           compiled vs eager (benchmarks/gpu_sync_compile.py);
#  poly     the polynomial filters vs their authors' code (bench_poly.py).
# PARTS selects (default: all but poly), e.g. PARTS="memory timings".
# Every script has a --dry-run / CPU mode to check it before device time.
# Run from the repository root; results go to $OUT (default /tmp/gpu_out).
#   bash benchmarks/gpu_check.sh
set -uo pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/gpu_out}"
PARTS="${PARTS:-memory timings tests locality capture minibatch sync}"
mkdir -p "$OUT"
PY=python3
has() { [[ " $PARTS " == *" $1 "* ]]; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
$PY -c "import torch, triton, torch_geometric as g; print('torch', torch.__version__, 'triton', triton.__version__, 'pyg', g.__version__)" | tee -a "$OUT/gpu.txt"
if has memory; then
  echo "== GPU memory: 1B edges (default allocator), half precision =="
  timeout 170 $PY benchmarks/gpu_memory.py --timeout 75 --out "$OUT" 2>&1 | tail -12 | tee "$OUT/memory.log"
fi
if has timings; then
  echo "== timings =="
  timeout 150 $PY benchmarks/gpu_bench.py --out "$OUT" 2>&1 | tee "$OUT/bench.log"
fi
if has tests; then
  echo "== CUDA tests (Triton path, host reads) =="
  timeout 120 $PY -m pytest -q -x -p no:cacheprovider tests/test_triton.py tests/test_host_reads.py 2>&1 | tail -4 | tee "$OUT/tests.txt"
fi
if has locality; then
  echo "== locality ordering on the GPU =="
  timeout 90 $PY benchmarks/bench_locality.py --device cuda --repeats 10 --out "$OUT/locality_gpu" 2>&1 | tail -9 | tee "$OUT/locality.log"
fi
if has capture; then
  echo "== CUDA graphs, reduce-overhead, Cora epochs =="
  timeout 150 $PY benchmarks/gpu_capture.py --out "$OUT" 2>&1 | tee "$OUT/capture.log"
fi
if has minibatch; then
  echo "== a new graph every step =="
  timeout 150 $PY benchmarks/bench_minibatch.py --device cuda --out "$OUT/minibatch_gpu" 2>&1 | tail -14 | tee "$OUT/minibatch.log"
fi
if has sync; then
  echo "== no host sync; compiled vs eager =="
  timeout 90 $PY benchmarks/gpu_sync_compile.py --out "$OUT" 2>&1 | tee "$OUT/sync_compile.log"
fi
if has poly; then
  echo "== polynomial filters vs the authors' code =="
  timeout 90 $PY benchmarks/bench_poly.py --device cuda --cases 100k 1m --repeats 5 --out "$OUT/poly_gpu" 2>&1 | tail -12 | tee "$OUT/poly.log"
fi
