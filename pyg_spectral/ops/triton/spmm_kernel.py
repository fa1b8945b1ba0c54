r"""Triton CSR kernels for :math:`\mathbf{Y} = \alpha(\mathbf{M}\mathbf{X} +
\mathbf{d}\odot\mathbf{X}) + \beta\mathbf{Z}`.

* Row-parallel, feature-blocked: program ``(r, f)`` owns row ``r`` and
  columns ``f*BLOCK_F ...``; it walks the row's nonzeros in chunks of
  ``BLOCK_E``, gathers the ``x`` rows, accumulates in float32 (float64 for
  float64 inputs) and applies the whole epilogue (diagonal, ``alpha``,
  ``beta*z``) before its single store: each recurrence step reads ``x``
  (gathered) and ``z`` and writes ``y`` once. No atomics: deterministic.
* Skewed degrees: rows longer than ``SPLIT`` nonzeros are skipped by the
  main kernel; their nonzeros are cut into chunks of ``SPLIT`` processed by
  independent programs into a partial buffer, then one program per long row
  sums its partials in a fixed order and applies the epilogue. A hub with
  10^5 neighbours thus spreads over ~100 programs instead of serializing the
  launch.
* ``coef_ptr`` holds ``[alpha, beta, d]`` in the accumulation dtype (so
  float64 runs keep float64 coefficients); ``d`` is the scalar diagonal
  (``DIAG_MODE == 1``), ``diag_ptr`` the per-node one (``DIAG_MODE == 2``).

Layout: ``x``, ``z``, ``out`` are ``[N, F]`` with unit column stride (any row
stride, so slices of ``[K, N, F]`` or ``[N, K, F]`` buffers need no copy).
"""
import triton
import triton.language as tl


@triton.jit
def _row_sum(col_ptr, val_ptr, x_ptr, stride_x, start, end, offs_f, mask_f,
             BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr, ACC: tl.constexpr):
    acc = tl.zeros((BLOCK_F, ), dtype=ACC)
    for e0 in range(start, end, BLOCK_E):
        offs_e = e0 + tl.arange(0, BLOCK_E)
        mask_e = offs_e < end
        cols = tl.load(col_ptr + offs_e, mask=mask_e, other=0).to(tl.int64)
        vals = tl.load(val_ptr + offs_e, mask=mask_e, other=0).to(ACC)
        ptrs = x_ptr + cols[:, None] * stride_x + offs_f[None, :]
        xs = tl.load(ptrs, mask=mask_e[:, None] & mask_f[None, :],
                     other=0).to(ACC)
        acc += tl.sum(xs * vals[:, None], axis=0)
    return acc


@triton.jit
def _epilogue(acc, row, x_ptr, stride_x, z_ptr, stride_z, out_ptr,
              stride_o, diag_ptr, coef_ptr, offs_f, mask_f,
              DIAG_MODE: tl.constexpr, HAS_Z: tl.constexpr,
              ACC: tl.constexpr):
    alpha = tl.load(coef_ptr).to(ACC)
    if DIAG_MODE != 0:
        xr = tl.load(x_ptr + row * stride_x + offs_f, mask=mask_f,
                     other=0).to(ACC)
        if DIAG_MODE == 1:
            d = tl.load(coef_ptr + 2).to(ACC)
        else:
            d = tl.load(diag_ptr + row).to(ACC)
        acc += d * xr
    y = acc * alpha
    if HAS_Z:
        beta = tl.load(coef_ptr + 1).to(ACC)
        zr = tl.load(z_ptr + row * stride_z + offs_f, mask=mask_f,
                     other=0).to(ACC)
        y += beta * zr
    tl.store(out_ptr + row * stride_o + offs_f,
             y.to(out_ptr.dtype.element_ty), mask=mask_f)


@triton.jit
def csr_spmm_kernel(crow_ptr, col_ptr, val_ptr, x_ptr, stride_x, z_ptr,
                    stride_z, out_ptr, stride_o, diag_ptr, coef_ptr, F,
                    SPLIT, BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr,
                    DIAG_MODE: tl.constexpr, HAS_Z: tl.constexpr,
                    HAS_LONG: tl.constexpr, ACC: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    offs_f = tl.program_id(1) * BLOCK_F + tl.arange(0, BLOCK_F)
    mask_f = offs_f < F
    start = tl.load(crow_ptr + row).to(tl.int64)
    end = tl.load(crow_ptr + row + 1).to(tl.int64)
    if HAS_LONG:
        # long rows are finished by long_row_kernel: do no work, store none
        deg = end - start
        mask_f = mask_f & ((offs_f * 0 + deg) <= SPLIT)
        end = tl.where(deg <= SPLIT, end, start)
    acc = _row_sum(col_ptr, val_ptr, x_ptr, stride_x, start, end, offs_f,
                   mask_f, BLOCK_E, BLOCK_F, ACC)
    _epilogue(acc, row, x_ptr, stride_x, z_ptr, stride_z, out_ptr, stride_o,
              diag_ptr, coef_ptr, offs_f, mask_f, DIAG_MODE, HAS_Z, ACC)


@triton.jit
def chunk_partial_kernel(chunk_start_ptr, chunk_end_ptr, col_ptr, val_ptr,
                         x_ptr, stride_x, part_ptr, F,
                         BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr,
                         ACC: tl.constexpr):
    c = tl.program_id(0).to(tl.int64)
    offs_f = tl.program_id(1) * BLOCK_F + tl.arange(0, BLOCK_F)
    mask_f = offs_f < F
    start = tl.load(chunk_start_ptr + c).to(tl.int64)
    end = tl.load(chunk_end_ptr + c).to(tl.int64)
    acc = _row_sum(col_ptr, val_ptr, x_ptr, stride_x, start, end, offs_f,
                   mask_f, BLOCK_E, BLOCK_F, ACC)
    tl.store(part_ptr + c * F + offs_f, acc, mask=mask_f)


@triton.jit
def long_row_kernel(long_rows_ptr, chunk_ptr_ptr, part_ptr, x_ptr, stride_x,
                    z_ptr, stride_z, out_ptr, stride_o, diag_ptr, coef_ptr,
                    F, BLOCK_F: tl.constexpr, DIAG_MODE: tl.constexpr,
                    HAS_Z: tl.constexpr, ACC: tl.constexpr):
    i = tl.program_id(0)
    offs_f = tl.program_id(1) * BLOCK_F + tl.arange(0, BLOCK_F)
    mask_f = offs_f < F
    row = tl.load(long_rows_ptr + i).to(tl.int64)
    c0 = tl.load(chunk_ptr_ptr + i).to(tl.int64)
    c1 = tl.load(chunk_ptr_ptr + i + 1).to(tl.int64)
    acc = tl.zeros((BLOCK_F, ), dtype=ACC)
    for c in range(c0, c1):  # fixed order: deterministic
        acc += tl.load(part_ptr + c * F + offs_f, mask=mask_f, other=0)
    _epilogue(acc, row, x_ptr, stride_x, z_ptr, stride_z, out_ptr, stride_o,
              diag_ptr, coef_ptr, offs_f, mask_f, DIAG_MODE, HAS_Z, ACC)
