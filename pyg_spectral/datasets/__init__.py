from .planetoid import load_planetoid, default_planetoid_root

__all__ = ['load_planetoid', 'default_planetoid_root']
