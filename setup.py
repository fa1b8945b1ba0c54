from setuptools import find_packages, setup

with open('README.md', encoding='utf-8') as f:
    long_description = f.read()

setup(
    name='pyg_spectral',
    version='0.1.0',
    description='Spectral graph convolutions (ChebNet, GCN, SCNN, STGCN) for '
    'PyTorch Geometric on one O(K|E|) sparse engine',
    long_description=long_description,
    long_description_content_type='text/markdown',
    packages=find_packages(include=['pyg_spectral', 'pyg_spectral.*']),
    python_requires='>=3.9',
    install_requires=[
        # a range the local CPU wheel 2.13.0 satisfies: pip never pulls CUDA
        'torch>=2.5',  # torch.library.custom_op / register_vmap
        'torch-geometric>=2.4',
        'numpy',
        'scipy',
        'tqdm',
    ],
    extras_require={
        'sparse': ['torch-scatter', 'torch-sparse'],
        'triton': ['triton'],
        'test': ['pytest', 'hypothesis', 'matplotlib', 'scikit-learn', 'captum',
                 'tabulate', 'sphinx'],
        'docs': ['sphinx'],
        'repro': ['matplotlib'],
    },
    license='MIT',
)
