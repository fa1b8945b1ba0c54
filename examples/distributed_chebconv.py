"""Data-parallel training with ``torch.nn.parallel.DistributedDataParallel``
over ``torch.distributed`` (gloo backend, CPU processes): a ChebConv graph
classifier (``--model chebconv``), or a decoupled ChebNetII node
classifier trained from precomputed terms (``--model decoupled``,
:mod:`pyg_spectral.precompute`).

    python examples/distributed_chebconv.py --world-size 2 --steps 3 --check
    python examples/distributed_chebconv.py --model decoupled --check

Each process takes its shard of the dataset (``DistributedSampler``), DDP
averages the gradients, and with ``--check`` rank 0 compares the gradients of
the first step and the parameters after ``--steps`` SGD steps with one
process training on the whole batch (float64, so they must agree to
rounding). Equal shard sizes make the mean of the shard losses equal the
full-batch mean loss.

The processes meet at a ``TCPStore`` that the launching process serves on
127.0.0.1 (a free port the OS picks), and gloo talks over the loopback
interface (``GLOO_SOCKET_IFNAME=lo`` unless set): all ranks run on this
machine, so the host name's address, which some sandboxes cannot reach
from themselves, never matters. Every rendezvous and collective has a
``--timeout``; a rank that cannot connect fails with exit code 3 and says
why, instead of hanging; a rank that finished leaves with ``os._exit``
(see ``worker``: torch's Gloo teardown can deadlock).
"""
from __future__ import annotations

import argparse
import datetime
import faulthandler
import os
import sys
import tempfile

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data.distributed import DistributedSampler
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from torch_geometric.nn import global_mean_pool

from pyg_spectral.nn import ChebConv


class Net(torch.nn.Module):
    def __init__(self, in_channels=4, hidden=16, classes=3, K=3):
        super().__init__()
        self.conv1 = ChebConv(in_channels, hidden, K)
        self.conv2 = ChebConv(hidden, hidden, K)
        self.lin = torch.nn.Linear(hidden, classes)

    def forward(self, data):
        h = torch.relu(self.conv1(data.x, data.edge_index, data.edge_weight,
                                  batch=data.batch))
        h = torch.relu(self.conv2(h, data.edge_index, data.edge_weight,
                                  batch=data.batch))
        return self.lin(global_mean_pool(h, data.batch))


def make_dataset(num_graphs=16, seed=0):
    """Random undirected weighted graphs of varying size with labels."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(num_graphs):
        n = int(torch.randint(5, 20, (1, ), generator=g))
        e = torch.randint(0, n, (2, 3 * n), generator=g)
        ei = torch.cat([e, e.flip(0)], 1)
        w = torch.rand(3 * n, generator=g, dtype=torch.float64) + 0.1
        out.append(Data(x=torch.randn(n, 4, generator=g, dtype=torch.float64),
                        edge_index=ei, edge_weight=torch.cat([w, w]),
                        y=torch.randint(0, 3, (1, ), generator=g)))
    return out


def make_node_task(n=64, channels=5, classes=3, seed=0):
    """A random graph, features and labels; the ChebNetII terms (K=3) of
    its features, precomputed in RAM (float64)."""
    from pyg_spectral.nn import ChebIIConv
    g = torch.Generator().manual_seed(seed)
    e = torch.randint(0, n, (2, 4 * n), generator=g)
    ei = torch.cat([e, e.flip(0)], 1)
    x = torch.randn(n, channels, generator=g, dtype=torch.float64)
    y = torch.randint(0, classes, (n, ), generator=g)
    terms = ChebIIConv(3).precompute(x, ei, dtype=torch.float64)
    return terms, y


def decoupled_model(channels=5, classes=3):
    from pyg_spectral.nn import ChebIIConv, Decoupled
    torch.manual_seed(0)
    return Decoupled(ChebIIConv(3), torch.nn.Linear(channels, classes))


def node_batches(world_size, rank=None):
    """Rank ``rank``'s one batch of nodes from a plain DataLoader with a
    DistributedSampler (``rank=None``: every rank's, as one process)."""
    from pyg_spectral.precompute import term_loader
    terms, y = make_node_task()
    n = len(terms)
    ranks = range(world_size) if rank is None else [rank]
    out = []
    for r in ranks:
        sampler = DistributedSampler(range(n), world_size, r, shuffle=False)
        out += list(term_loader(terms, torch.arange(n), y,
                                batch_size=n // world_size, sampler=sampler))
    return out


def train(model, loader_batches, steps, lr=0.1):
    """Returns (gradients of the first step, parameters after ``steps``);
    each batch is ``(input, labels)``."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    first = None
    for step in range(steps):
        opt.zero_grad()
        losses = [F.cross_entropy(model(b), y) for b, y in loader_batches]
        torch.stack(losses).mean().backward()
        if first is None:
            first = [p.grad.detach().clone() for p in model.parameters()]
        opt.step()
    return first, [p.detach().clone() for p in model.parameters()]


RENDEZVOUS_FAILED = 3


def worker(rank, world_size, port, steps, out_file, timeout,
           task='chebconv'):
    # if anything below hangs past the timeout, print every thread's stack
    faulthandler.dump_traceback_later(2 * timeout, exit=True)
    limit = datetime.timedelta(seconds=timeout)
    try:
        store = dist.TCPStore('127.0.0.1', port, is_master=False,
                              timeout=limit)
        dist.init_process_group('gloo', store=store, rank=rank,
                                world_size=world_size, timeout=limit)
    except Exception as err:  # no rendezvous: say so and leave
        print(f'rank {rank}: gloo rendezvous on 127.0.0.1:{port} failed: '
              f'{type(err).__name__}: {err}', file=sys.stderr, flush=True)
        sys.exit(RENDEZVOUS_FAILED)
    if task == 'decoupled':
        model = DistributedDataParallel(decoupled_model().double())
        batches = node_batches(world_size, rank)  # one batch per rank
    else:
        torch.manual_seed(0)
        model = DistributedDataParallel(Net().double())
        data = make_dataset()
        sampler = DistributedSampler(data, world_size, rank, shuffle=False)
        loader = DataLoader(data, batch_size=len(data) // world_size,
                            sampler=sampler)
        batches = [(b, b.y) for b in loader]  # one batch per rank
    grads, params = train(model, batches, steps)
    if rank == 0:
        torch.save({'grads': grads, 'params': params}, out_file)
    dist.barrier()  # both ranks are done before either leaves
    # Leave without tearing the process group down. Freeing DDP's Reducer
    # runs ~ProcessGroupGloo with the GIL held; it joins gloo's worker
    # thread, which may still be freeing its last AsyncWork and waits for
    # the GIL: a deadlock (pytorch/pytorch#56297; two CI runs hung there,
    # py-spy showed both threads). Exiting closes the sockets just as well.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def single_process(steps, world_size, task='chebconv'):
    if task == 'decoupled':
        return train(decoupled_model().double(), node_batches(world_size),
                     steps)
    torch.manual_seed(0)
    model = Net().double()
    data = make_dataset()
    # the same shards as DistributedSampler(shuffle=False): rank r takes
    # r, r + world_size, ...; the mean of their mean losses
    shards = [list(DataLoader(data[r::world_size],
                              batch_size=len(data) // world_size))[0]
              for r in range(world_size)]
    return train(model, [(b, b.y) for b in shards], steps)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--world-size', type=int, default=2)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--check', action='store_true')
    parser.add_argument('--model', default='chebconv',
                        choices=['chebconv', 'decoupled'])
    parser.add_argument('--timeout', type=float, default=60.0,
                        help='seconds for the rendezvous and each collective')
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    os.environ.setdefault('GLOO_SOCKET_IFNAME', 'lo')  # inherited by ranks
    store = dist.TCPStore('127.0.0.1', 0, is_master=True,
                          wait_for_workers=False,
                          timeout=datetime.timedelta(seconds=args.timeout))
    with tempfile.TemporaryDirectory() as tmp:
        out_file = os.path.join(tmp, 'ddp.pt')
        try:
            torch.multiprocessing.spawn(
                worker, args=(args.world_size, store.port, args.steps,
                              out_file, args.timeout, args.model),
                nprocs=args.world_size, join=True)
        except torch.multiprocessing.ProcessExitedException as err:
            print(f'DDP failed: {err}', file=sys.stderr)
            return err.exit_code if err.exit_code is not None else 1
        ddp = torch.load(out_file, weights_only=True)
    print(f'DDP ({args.world_size} processes, gloo, {args.model}): '
          f'{args.steps} steps done')
    if not args.check:
        return 0
    grads, params = single_process(args.steps, args.world_size, args.model)
    g_err = max(float((a - b).abs().max())
                for a, b in zip(ddp['grads'], grads))
    p_err = max(float((a - b).abs().max())
                for a, b in zip(ddp['params'], params))
    scale = max(float(g.abs().max()) for g in grads)
    print(f'max |grad DDP - grad single| = {g_err:.3e} (max |grad| '
          f'{scale:.3e}); max |param diff| after {args.steps} steps = '
          f'{p_err:.3e}')
    ok = g_err <= 1e-12 * max(scale, 1.0) and p_err <= 1e-12
    print('OK' if ok else 'MISMATCH')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
