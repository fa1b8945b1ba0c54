import os

import torch

# Triton kernels run under the interpreter on CPU-only machines; the variable
# must be set before Triton is first imported.
if not torch.cuda.is_available():
    os.environ.setdefault('TRITON_INTERPRET', '1')
