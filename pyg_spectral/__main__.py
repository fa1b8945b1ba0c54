"""Command line: ``python -m pyg_spectral reproduce <experiment> ...``."""
from __future__ import annotations

import argparse
import os
import sys


def _citation(args) -> int:
    from .reproduce import citation
    models = args.models or citation.MODELS
    res = citation.run(args.datasets, models, args.seeds, args.epochs,
                       args.root, args.out, args.compare_pyg, args.download)
    print(res['markdown'])
    print(f'wrote {os.path.join(args.out, "citation.md")}, citation.json '
          f'and citation_curves.png')
    return 0


def _traffic(args) -> int:
    from .reproduce import traffic
    res = traffic.run(args.seeds, args.epochs, args.out, args.root,
                      tuple(args.models), args.blocks, args.device,
                      args.loss)
    print(res['markdown'])
    print(f'wrote {os.path.join(args.out, "traffic.md")}, traffic.json '
          f'and traffic.png')
    return 0


def _digits(args) -> int:
    from .reproduce import digits
    res = digits.run(args.dataset, args.seeds, args.epochs, args.out,
                     args.models, tuple(args.graphs), args.device, args.root)
    print(res['markdown'])
    return 0


def _polynomial(args) -> int:
    from .reproduce import polynomial
    res = polynomial.run(args.datasets, args.models or polynomial.MODELS,
                         args.splits, args.epochs, args.root, args.out,
                         args.download, not args.no_timing, args.impl,
                         args.heterophily_root, args.append)
    print(res['markdown'])
    print(f'wrote {os.path.join(args.out, "polynomial.md")} and '
          f'polynomial.json')
    return 0


def _filters(args) -> int:
    from .reproduce import filters
    res = filters.run(args.filters, args.models or filters.MODELS,
                      args.images, args.epochs, args.out, args.root,
                      args.patience, not args.no_timing, args.timing_images,
                      args.timing_epochs)
    print(res['markdown'])
    print(f'wrote {os.path.join(args.out, "filters.md")}, filters.json'
          + (' and ' + ', '.join(os.path.basename(p) for p in res['plots'])
             if res['plots'] else ''))
    return 0


def _heterophily(args) -> int:
    from .reproduce import heterophily
    res = heterophily.run(args.datasets, args.models or heterophily.MODELS,
                          args.depths, args.splits, args.steps, args.out,
                          args.root)
    print(res['markdown'])
    print(f'wrote {os.path.join(args.out, "heterophily.md")} and '
          f'heterophily.json')
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog='python -m pyg_spectral',
        description='pyg_spectral: spectral graph convolutions for PyG.')
    sub = p.add_subparsers(dest='command', required=True)
    rep = sub.add_parser('reproduce', help='reproduce a paper experiment')
    exp = rep.add_subparsers(dest='experiment', required=True)
    c = exp.add_parser(
        'citation', help="Kipf & Welling's Cora/CiteSeer/PubMed table",
        description='Semi-supervised node classification on the Planetoid '
        'public split (Kipf & Welling protocol), ours beside the papers.')
    c.add_argument('--datasets', nargs='+', default=['Cora', 'CiteSeer'],
                   type=_planetoid_name,
                   help='Cora CiteSeer PubMed (any case)')
    c.add_argument('--models', nargs='+', default=None,
                   help='gcn cheb-2 cheb-3 cheb-4 mlp (default: all); '
                   'cheb-K uses PyG K (number of terms)')
    c.add_argument('--seeds', type=int, default=10)
    c.add_argument('--epochs', type=int, default=200)
    c.add_argument('--root', default=None,
                   help='Planetoid root (default: $PYG_SPECTRAL_DATA/'
                   'planetoid, else ../shared/data/planetoid, else '
                   '~/.cache/pyg_spectral/planetoid)')
    c.add_argument('--download', action='store_true',
                   help='let PyG download a dataset whose raw folder is '
                   'absent')
    c.add_argument('--out', default='benchmarks/results')
    c.add_argument('--compare-pyg', action='store_true',
                   help="also run PyG's GCNConv/ChebConv in the protocol")
    c.set_defaults(func=_citation)
    q = exp.add_parser(
        'polynomial', help='GPR-GNN, BernNet, ChebNetII, JacobiConv and the '
        'baselines on random 60/20/20 splits (homophilous and '
        'heterophilous graphs)',
        description='Full-supervised node classification (BernNet / '
        'ChebNetII protocol, the authors\' splits and seeds) with time per '
        'epoch vs the authors\' propagate-K-times filters.')
    q.add_argument('--datasets', nargs='+', default=['Cora', 'CiteSeer'],
                   type=_polynomial_name,
                   help='Cora CiteSeer Chameleon Squirrel Actor Texas '
                   'Cornell (any case)')
    q.add_argument('--models', nargs='+', default=None,
                   help='mlp gcn gat appnp chebnet gprgnn bernnet chebnetii '
                   'jacobiconv (default: all), or any name of '
                   'pyg_spectral.nn.FILTERS (legendrenet hornergcn '
                   'clenshawgcn favardgnn adagnn chebbase heat_kernel ...)')
    q.add_argument('--splits', '--seeds', dest='splits', type=int,
                   default=10, help='random splits, the first N of the '
                   'authors\' ten seeds (--seeds is the same)')
    q.add_argument('--epochs', type=int, default=1000)
    q.add_argument('--root', default=None, help='Planetoid root (as for '
                   'citation)')
    q.add_argument('--heterophily-root', default=None,
                   help='heterophily folder (default: $PYG_SPECTRAL_DATA/'
                   'heterophily, else ../shared/data/heterophily)')
    q.add_argument('--download', action='store_true')
    q.add_argument('--no-timing', action='store_true',
                   help='skip the time-per-epoch comparison')
    q.add_argument('--impl', default='ours', choices=['ours', 'reference'],
                   help="reference: train the authors' propagate-K-times "
                   "filters (PyG's layers for gcn/chebnet) instead")
    q.add_argument('--append', action='store_true',
                   help='keep the other rows of an earlier polynomial.json '
                   'in --out (build a long table in parts)')
    q.add_argument('--out', default='benchmarks/results/polynomial')
    q.set_defaults(func=_polynomial)
    h = exp.add_parser(
        'heterophily', help='the Platonov et al. (ICLR 2023) protocol on '
        'minesweeper, tolokers and filtered chameleon / squirrel',
        description='Their residual network (width 512, AdamW 3e-5, 1000 '
        'steps) with GCN\'s operator or a learnable filter as graph '
        'module, their ten fixed splits, depth chosen on validation.')
    h.add_argument('--datasets', nargs='+',
                   default=['minesweeper', 'tolokers', 'chameleon_filtered',
                            'squirrel_filtered'])
    h.add_argument('--models', nargs='+', default=None,
                   help='resnet gcn gprgnn bernnet chebnetii jacobiconv '
                   '(default: all)')
    h.add_argument('--depths', nargs='+', type=int, default=[1, 2, 3, 4, 5],
                   help='residual blocks to choose from on validation')
    h.add_argument('--splits', type=int, default=10)
    h.add_argument('--steps', type=int, default=1000)
    h.add_argument('--root', default=None, help='heterophily folder '
                   '(default: $PYG_SPECTRAL_DATA/heterophily, else '
                   '../shared/data/heterophily)')
    h.add_argument('--out', default='benchmarks/results/heterophily')
    h.set_defaults(func=_heterophily)
    f = exp.add_parser(
        'filters', help="BernNet's learning-filters-from-images table",
        description='Learn low/high/band-pass, band-rejection and comb '
        'filters from 50 images on the 100x100 grid (BernNet protocol), '
        'all images trained at once, each row beside the least-squares '
        'optimum of its polynomial class.')
    f.add_argument('--filters', nargs='+',
                   default=['low', 'high', 'band', 'rejection', 'comb'],
                   choices=['low', 'high', 'band', 'rejection', 'comb'])
    f.add_argument('--models', nargs='+', default=None,
                   help='gcn gat arma chebnet gprgnn bernnet chebnetii '
                   'jacobiconv cheb legendre monomial (default: all)')
    f.add_argument('--images', type=int, default=50,
                   help='the first N of the 50 images')
    f.add_argument('--epochs', type=int, default=2000)
    f.add_argument('--patience', type=int, default=100)
    f.add_argument('--root', default=None,
                   help='folder with 2Dgrid/raw/2Dgrid.mat (default: '
                   '$PYG_SPECTRAL_DATA/filters, else ../shared/data/filters)')
    f.add_argument('--no-timing', action='store_true',
                   help="skip the comparison with the authors' one-image "
                   "loop")
    f.add_argument('--timing-images', type=int, default=2)
    f.add_argument('--timing-epochs', type=int, default=20)
    f.add_argument('--out', default='benchmarks/results/filters')
    f.set_defaults(func=_filters)
    t = exp.add_parser(
        'traffic', help='STGCN on the real METR-LA one-week subset',
        description='STGCN(Cheb) and STGCN(1st) vs historical average, last '
        'value and per-node linear baselines; MAE/MAPE/RMSE at 15/30/45 min.')
    t.add_argument('--seeds', type=int, default=3)
    t.add_argument('--epochs', type=int, default=30)
    t.add_argument('--models', nargs='+', default=['cheb', 'gcn'],
                   choices=['cheb', 'gcn'])
    t.add_argument('--blocks', default='authors',
                   choices=['authors', 'paper', 'small'],
                   help="channels: authors' code [[1,32,64],[64,32,128]], "
                   "the paper's 64-16-64, or small [[1,16,32],[32,16,64]]")
    t.add_argument('--root', default=None,
                   help='folder with los_speed.csv and los_adj.csv '
                   '(default: ../shared/data/traffic/metr-la)')
    t.add_argument('--device', default='cpu')
    t.add_argument('--loss', default='mse', choices=['mse', 'mae'],
                   help='training loss on z-scored speeds (paper: mse)')
    t.add_argument('--out', default='benchmarks/results')
    t.set_defaults(func=_traffic)
    d = exp.add_parser(
        'digits', help='graph-signal classification (MNIST / 8x8 digits)',
        description='FC, SCNN spline (exact, chebyshev), ChebNet and GCN '
        'with GC32-P4-GC64-P4-FC512 on the grid and an estimated graph.')
    d.add_argument('--dataset', default='digits', choices=['digits',
                                                           'mnist'])
    d.add_argument('--seeds', type=int, default=3)
    d.add_argument('--epochs', type=int, default=10)
    d.add_argument('--models', nargs='+', default=None,
                   help='fc scnn-exact scnn-cheb chebnet gcn (default all)')
    d.add_argument('--graphs', nargs='+', default=['grid', 'estimated'])
    d.add_argument('--device', default='cpu')
    d.add_argument('--root', default=None, help='MNIST folder (idx .gz)')
    d.add_argument('--out', default='benchmarks/results/digits')
    d.set_defaults(func=_digits)
    return p


_PLANETOID = ('Cora', 'CiteSeer', 'PubMed')


def _planetoid_name(name: str) -> str:
    """A Planetoid name in any case -> its canonical spelling (the paper
    tables are keyed by it)."""
    for canonical in _PLANETOID:
        if name.lower() == canonical.lower():
            return canonical
    raise argparse.ArgumentTypeError(
        f"unknown dataset {name!r} (choose from {', '.join(_PLANETOID)})")


def _polynomial_name(name: str) -> str:
    from .reproduce.polynomial import canonical_dataset
    try:
        return canonical_dataset(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
