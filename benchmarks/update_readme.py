"""Regenerates README.md's "Benchmarks" and "Reproductions" sections from
the committed tables in benchmarks/results/.

    python benchmarks/update_readme.py
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
R = os.path.join(HERE, 'results')
def body(path, skip_first=False):
    if not os.path.isfile(path):
        return '_not yet measured_\n'
    return open(path).read()
sec = []
sec.append('## Benchmarks\n')
sec.append('All numbers come from the scripts in `benchmarks/`; each table names its machine, date and command. Ours and the reference run in the same process on the same inputs and weights.\n')
sec.append('### ChebConv / GCNConv vs PyG (CPU, `benchmarks/results/conv_cpu.md`)\n')
sec.append(body(f'{R}/conv_cpu.md'))
sec.append('\nCompiled vs eager: torch.profiler gives the same CPU time per step for the compiled and the eager ChebConv at N=100k (129 ms both, 2026-11-28), so the compiled column\'s spread around 1.0x is this VM\'s run-to-run noise (±20 %); at Cora size the compiled step pays ~0.3-1 ms of Dynamo guard evaluation, AOTAutograd wrappers and custom-op dispatch (our ops are opaque to inductor: there is nothing for it to fuse).\n')
sec.append('\n### CUDA path (Triton, `benchmarks/results/gpu.md`)\n')
g = body(f'{R}/gpu.md')
g = g.split('\nRun 1')[0]
g = re.sub(r'^# GPU results \(Triton path\)\n\n', '', g)
sec.append(g)
sec.append('\n### STGCN block vs torch_geometric_temporal (`benchmarks/results/stgcn_race.md`)\n')
sec.append(body(f'{R}/stgcn_race.md'))
sec.append('\nWhere the time goes: the reference runs ChebConv once per (batch, step) slice (~600 ms of its step); ours folds B·T into one sparse product, runs the temporal convolutions as channels-last `conv2d` with the residual folded into the last tap, and keeps every tensor in the `[B, T, N, C]` layout. Not measured on a GPU. The compiled block is slower than eager on this CPU: profiled, our custom ops and the convolutions cost the same in both, but inductor\'s generated C++ kernels for the GLU, ReLU and LayerNorm on the permuted `[B, T\', N, C]` convolution outputs take ~35 ms per step where ATen\'s take ~18 ms.\n')
sec.append('\n### A 2M-node graph on the 2-core CPU (`python benchmarks/bench_large.py`, `benchmarks/results/large_cpu.md`)\n')
sec.append(body(f'{R}/large_cpu.md'))
sec.append('\nRun to run on this VM (three runs, 2026-11-27): our step 6.1-7.5 s, PyG\'s 36.7-38.6 s (speed-up 4.9-6.0x); our first step fell from 16.0 to 9.9-14.1 s when the transpose became a stable sort of the column indices and self-loop-free edge lists stopped being compacted.\n')
sec.append('\n## Reproductions\n')
sec.append('### Citation (`python -m pyg_spectral reproduce citation`, `benchmarks/results/citation/`)\n')
sec.append(body(f'{R}/citation/citation.md'))
sec.append('\nSame protocol, 3 seeds, with PyG\'s own layers (`--compare-pyg`, `benchmarks/results/citation_vs_pyg/`); time per epoch is the training step (forward, backward, optimizer), CPU above. Our runs feed the bag-of-words features as a sparse CSR tensor, PyG\'s as dense.\n')
sec.append(body(f'{R}/citation_vs_pyg/citation.md').split('\n', 2)[2])
sec.append('\nPubMed: `ind.pubmed.allx` is not on this machine (`../shared/data/README.md`); `--datasets PubMed` fails at once naming the missing file unless `--download` is given.\n')
sec.append('\n### Traffic (`python -m pyg_spectral reproduce traffic`, `benchmarks/results/traffic/`)\n')
sec.append('Real METR-LA one-week subset (Los-loop), trained on this 2-core CPU with the current code (seconds per epoch are CPU seconds). An earlier run on the lent H200, before the temporal convolution became a channels-last `conv2d` (same function), gave the same errors within 0.01-0.09 at 0.28 s/epoch (Cheb) and 0.21 s/epoch (1st).\n\n')
sec.append('L1 loss (`--loss mae`):\n\n')
sec.append(body(f'{R}/traffic/traffic.md'))
sec.append('\nL2 loss as the paper (`--loss mse`, `benchmarks/results/traffic_mse/`): both STGCNs win every MAE and RMSE cell and MAPE at 45 min, but lose MAPE at 15 min to the last value (9.89 / 9.92 vs 9.61); at 30 min STGCN(Cheb) wins (12.23) and STGCN(1st) ties the last value (12.38). With L1 loss (above) STGCN(Cheb) wins every cell, MAPE at 15 min by a hair (9.59 vs 9.61).\n\n')
sec.append(body(f'{R}/traffic_mse/traffic.md'))
sec.append('\n### Graph-signal classification (`python -m pyg_spectral reproduce digits`, `benchmarks/results/digits/`)\n')
sec.append(body(f'{R}/digits/digits.md'))
sec.append('\nSCNN spline filters in the citation protocol (10 seeds, `benchmarks/results/citation_scnn/`):\n')
sec.append(body(f'{R}/citation_scnn/citation.md').split('\n', 2)[2])
sec.append('\nSpectralConv cost as N grows (`python benchmarks/bench_spectral.py`, `benchmarks/results/spectral_scaling.md`): the chebyshev mode stays at 60-90 ns per edge from 10^4 to 10^7 edges (linear in |E|); the exact mode\'s eigendecomposition grows cubically (8.3 s first call at N=4,000).\n\n')
sec.append(body(f'{R}/spectral_scaling.md'))
sec.append('\nMNIST (`python -m pyg_spectral reproduce digits --dataset mnist --seeds 3 --epochs 8`, CPU): the 10,000-image test release split 8,000 / 2,000 — 7.5x fewer training images than the paper\'s 60,000 and only 8 epochs, so the paper\'s numbers are an upper reference, not a target met like for like. Seconds per epoch were measured while other jobs (tests, benchmarks) shared the 2 cores part of the time: indicative only.\n\n')
sec.append(body(f'{R}/digits/mnist.md'))
text = ''.join(sec)

p = os.path.join(HERE, '..', 'README.md')
s = open(p).read()
start = s.index('## Benchmarks')
end = s.index('## Layout')
s = s[:start] + text + '\n' + s[end:]
open(p, 'w').write(s)
