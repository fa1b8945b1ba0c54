"""Random test graphs and float64 dense oracles written independently of the
package (straight from the formulas and PyG's documented conventions)."""
import torch


def random_graph(n=30, e=120, *, weighted=True, directed=True, isolated=3,
                 self_loops=4, duplicates=5, seed=0, dtype=torch.float32):
    """Edges among the first ``n - isolated`` nodes (the rest isolated), with
    some self-loops and duplicated edges; symmetrized when not directed."""
    g = torch.Generator().manual_seed(seed)
    m = max(n - isolated, 1)
    ei = torch.randint(0, m, (2, e), generator=g)
    if self_loops:
        loops = torch.randint(0, m, (self_loops, ), generator=g)
        ei = torch.cat([ei, torch.stack([loops, loops])], 1)
    if duplicates:
        ei = torch.cat([ei, ei[:, :duplicates]], 1)
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64) + 0.1
    if not directed:
        ei = torch.cat([ei, ei.flip(0)], 1)
        w = torch.cat([w, w])
    return ei, (w.to(dtype) if weighted else None)


def batch_of_graphs(sizes=(12, 7, 20), seed=0, directed=False):
    eis, ws, batch, off = [], [], [], 0
    for i, n in enumerate(sizes):
        ei, w = random_graph(n, 3 * n, directed=directed, isolated=1,
                             self_loops=1, duplicates=1, seed=seed + i)
        eis.append(ei + off)
        ws.append(w)
        batch.append(torch.full((n, ), i, dtype=torch.long))
        off += n
    return torch.cat(eis, 1), torch.cat(ws), torch.cat(batch), list(sizes)


def dense_adj(ei, w, n, keep_loops=False):
    """A[src, dst] summed over duplicate edges, float64."""
    A = torch.zeros(n, n, dtype=torch.float64)
    w = torch.ones(ei.size(1), dtype=torch.float64) if w is None \
        else w.double()
    for (s, d), v in zip(ei.t().tolist(), w.tolist()):
        if s != d or keep_loops:
            A[s, d] += v
    return A


def dense_laplacian_operator(ei, w, n, normalization, lambda_max=None,
                             batch=None):
    r"""The matrix S with y = S x that PyG's ChebConv applies:
    S = (2 L / lambda_max - I)^T with L[src, dst] as in get_laplacian."""
    A = dense_adj(ei, w, n)
    deg = A.sum(1)
    I = torch.eye(n, dtype=torch.float64)
    safe = lambda v, p: torch.where(v > 0, v.clamp_min(1e-300) ** p,
                                    torch.zeros_like(v))
    if normalization is None:
        L = torch.diag(deg) - A
    elif normalization == 'sym':
        Dm = torch.diag(safe(deg, -0.5))
        L = I - Dm @ A @ Dm
    else:
        L = I - torch.diag(safe(deg, -1.0)) @ A
    if lambda_max is None:
        lam = 2.0 * float(L.max()) if L.numel() else 2.0
        lam = lam if lam > 0 else 2.0
        lam = torch.full((n, ), lam, dtype=torch.float64)
    elif isinstance(lambda_max, torch.Tensor) and lambda_max.numel() > 1:
        lam = lambda_max.double()[batch]
    else:
        lam = torch.full((n, ), float(lambda_max), dtype=torch.float64)
    Lt = 2.0 * L / lam.unsqueeze(1) - I  # row i scaled by its graph's lambda
    return Lt.t()


def dense_gcn_operator(ei, w, n, improved=False, add_self_loops=True,
                       normalize=True, rho=0.5):
    """y = S x with S = D^-rho (A + fI) D^(rho-1) (rows the targets,
    degrees over targets; existing loops keep their weight)."""
    A = dense_adj(ei, w, n, keep_loops=not add_self_loops)
    if add_self_loops:
        fill = 2.0 if improved else 1.0
        diag = torch.full((n, ), fill, dtype=torch.float64)
        ones = torch.ones(ei.size(1), dtype=torch.float64)  # None = ones
        wl = (ones if w is None else w.double()).tolist()
        for (s, d), v in zip(ei.t().tolist(), wl):
            if s == d:
                diag[s] = v
        A = A + torch.diag(diag)
    if not normalize:
        return A.t()
    deg = A.sum(0)  # over targets

    def pw(p):
        return torch.where(deg > 0, deg.clamp_min(1e-300) ** p,
                           torch.zeros_like(deg))
    return pw(-rho).unsqueeze(1) * A.t() * pw(rho - 1).unsqueeze(0)


def dense_cheb_filter(S, x, weight):
    """sum_k T_k(S) x Theta_k, float64; weight [K, C, F]."""
    S, x, weight = S.double(), x.double(), weight.double()
    K = weight.size(0)
    t0, out = x, x @ weight[0]
    if K > 1:
        t1 = S @ x
        out = out + t1 @ weight[1]
        for k in range(2, K):
            t0, t1 = t1, 2 * S @ t1 - t0
            out = out + t1 @ weight[k]
    return out


def rel_err(a, b):
    """max |a - b| / max |b|, for tensors of the same shape (no
    broadcasting: a wrong shape fails instead of being compared)."""
    assert a.shape == b.shape, (tuple(a.shape), tuple(b.shape))
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def run_ddp_example(*args, timeout=300):
    """Runs examples/distributed_chebconv.py with ``--check`` in its own
    session (a timeout kills the ranks too, not just the launcher); skips
    when gloo cannot open loopback sockets (exit code 3), else asserts the
    example reported OK."""
    import os
    import signal
    import subprocess
    import sys

    import pytest
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen(
        [sys.executable, os.path.join(root, 'examples',
                                      'distributed_chebconv.py'), *args,
         '--check', '--timeout', '60'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
        start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f'DDP example still running after {timeout} s:\n'
                    + out + err)
    if proc.returncode == 3:  # the example's RENDEZVOUS_FAILED
        pytest.skip('gloo cannot open loopback sockets here: '
                    + err.strip().splitlines()[0])
    assert proc.returncode == 0, out + err
    assert 'OK' in out.splitlines()[-1]


def perturbed(layer, seed=0, scale=0.3):
    """``layer`` with every parameter moved by ``scale`` times a seeded
    normal draw (away from the initialization, where many filters are
    trivially the identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return layer
