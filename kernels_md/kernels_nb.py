"""Numba kernels for the non-bonded engine.

Layout (after GROMACS' nbnxm grid, simplified): the box is cut into *columns* in x and y; atoms
are sorted by column and, inside a column, by z.  For an atom i and a neighbour column, the atoms
within reach of i form one contiguous run of the sorted arrays (a z-window found by binary
search), so a pair list is a list of *ranges* ``[j0, j1)`` with an image shift, not of single
partners.  The pair kernels loop over a range with unit stride through structure-of-arrays
coordinates and parameters, with no gather and no branch (cutoff and exclusions are masks), so
LLVM vectorises them (AVX2: 4 doubles / 8 floats); the j forces of a range are a contiguous
read-modify-write.  Exclusions are an O(1) mask: before the ranges of atom i run, the entries of
its excluded partners in a per-task mask array are set to zero (and restored afterwards).

``precision="double"``: float64 everywhere.  ``"mixed"``: float32 sorted coordinates, pair
arithmetic and per-task force buffers (8 lanes per AVX2 vector), float64 sums of each range's i
force and energies and of the reduction (OpenMM's CPU platform is single precision throughout).
PME direct space uses a branch-free erfc (``exp(-x^2) R(x)`` with ``R`` a Chebyshev fit, ``exp`` by
Taylor series and squaring) that vectorises, where ``math.erfc`` is a scalar libm call.

All kernels are ``nogil`` (the scheduler's workers run them concurrently) and ``cache=True``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# OpenMM's Coulomb constant (kJ nm / mol / e^2), as used by NonbondedForce.
ONE_4PI_EPS0 = 138.93545764438198

# coulomb modes
MODE_NOCUTOFF = 0  # plain Coulomb + LJ, no cutoff
MODE_RF = 1  # reaction field (CutoffNonPeriodic / CutoffPeriodic)
MODE_EWALD = 2  # direct space of Ewald / PME: erfc(alpha r)/r
MODE_CG = 3  # coarse-grained: eps*(sig/r)^12 repulsion + Debye-Hueckel

# --- branch-free exp(-y) and erfc(x) -------------------------------------------------------------

ERFC_XMAX = 4.0  # the erfc fit covers alpha r <= 4 (erfc(4) = 1.5e-8); the backend checks alpha * cutoff <= 4
_EXP_SCALE = 1.0 / 64.0  # exp(-y) = exp(-y/64)^64 (6 squarings); y <= 36 -> argument <= 0.5625


@njit(cache=True, nogil=True, inline="always", fastmath=True)
def exp_neg64(y):
    """exp(-y) for 0 <= y <= 36 (clamped), no library call: Taylor series of exp(-y/64), degree 17, in
    Estrin's form (a short dependency chain), then six squarings.  Relative error ~1e-15."""
    t = min(y, 36.0) * _EXP_SCALE
    t2 = t * t
    t4 = t2 * t2
    t8 = t4 * t4
    t16 = t8 * t8
    q0 = 1.0 + -1.0 * t
    q1 = 0.5 + -0.16666666666666666 * t
    q2 = 0.041666666666666664 + -0.008333333333333333 * t
    q3 = 0.001388888888888889 + -0.0001984126984126984 * t
    q4 = 2.48015873015873e-05 + -2.7557319223985893e-06 * t
    q5 = 2.755731922398589e-07 + -2.505210838544172e-08 * t
    q6 = 2.08767569878681e-09 + -1.6059043836821613e-10 * t
    q7 = 1.1470745597729725e-11 + -7.647163731819816e-13 * t
    q8 = 4.779477332387385e-14 + -2.8114572543455206e-15 * t
    r0 = q0 + q1 * t2
    r1 = q2 + q3 * t2
    r2 = q4 + q5 * t2
    r3 = q6 + q7 * t2
    s0 = r0 + r1 * t4
    s1 = r2 + r3 * t4
    p = (s0 + s1 * t8) + q8 * t16
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p * p


@njit(cache=True, nogil=True, inline="always", fastmath=True)
def exp_neg32(y):
    """float32 exp(-y), 0 <= y <= 36: degree-9 Taylor series of exp(-y/64), six squarings."""
    t = min(y, np.float32(36.0)) * np.float32(_EXP_SCALE)
    p = np.float32(1.0 / 362880.0)
    p = p * (-t) + np.float32(1.0 / 40320.0)
    p = p * (-t) + np.float32(1.0 / 5040.0)
    p = p * (-t) + np.float32(1.0 / 720.0)
    p = p * (-t) + np.float32(1.0 / 120.0)
    p = p * (-t) + np.float32(1.0 / 24.0)
    p = p * (-t) + np.float32(1.0 / 6.0)
    p = p * (-t) + np.float32(0.5)
    p = p * (-t) + np.float32(1.0)
    p = p * (-t) + np.float32(1.0)
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p * p


@njit(cache=True, nogil=True, inline="always", fastmath=True)
def erfc_r64(x):
    """R(x) = exp(x^2) erfc(x) on [0, 4.0] (x clamped: erfc(4) = 1.5e-8, and the backend requires
    alpha * cutoff <= 4): Clenshaw recurrence of a degree-26 Chebyshev interpolant, unrolled (so the
    pair loops around it still vectorise) and written b = (c - b2) + 2t b1 so that each step adds
    one fused multiply-add to the dependency chain."""
    t = min(x, 4.0) * 0.5 - 1.0
    t2 = t + t
    b2 = 2.2633643930263317e-15
    b1 = -1.416716538321444e-14 + t2 * b2
    b2, b1 = b1, (6.794873305990577e-14 - b2) + t2 * b1
    b2, b1 = b1, (-3.147194439213342e-13 - b2) + t2 * b1
    b2, b1 = b1, (1.4263086596573488e-12 - b2) + t2 * b1
    b2, b1 = b1, (-6.356514080528718e-12 - b2) + t2 * b1
    b2, b1 = b1, (2.7849421842714623e-11 - b2) + t2 * b1
    b2, b1 = b1, (-1.199110841485249e-10 - b2) + t2 * b1
    b2, b1 = b1, (5.070386881061161e-10 - b2) + t2 * b1
    b2, b1 = b1, (-2.1038978630248826e-09 - b2) + t2 * b1
    b2, b1 = b1, (8.559180913922279e-09 - b2) + t2 * b1
    b2, b1 = b1, (-3.410733487513512e-08 - b2) + t2 * b1
    b2, b1 = b1, (1.329873690675893e-07 - b2) + t2 * b1
    b2, b1 = b1, (-5.067652908100587e-07 - b2) + t2 * b1
    b2, b1 = b1, (1.8847866822916763e-06 - b2) + t2 * b1
    b2, b1 = b1, (-6.831680355326956e-06 - b2) + t2 * b1
    b2, b1 = b1, (2.4091537596276913e-05 - b2) + t2 * b1
    b2, b1 = b1, (-8.249450907598792e-05 - b2) + t2 * b1
    b2, b1 = b1, (0.00027366813210747163 - b2) + t2 * b1
    b2, b1 = b1, (-0.0008772101602210604 - b2) + t2 * b1
    b2, b1 = b1, (0.0027081953683176373 - b2) + t2 * b1
    b2, b1 = b1, (-0.008021784542270365 - b2) + t2 * b1
    b2, b1 = b1, (0.022687403001159453 - b2) + t2 * b1
    b2, b1 = b1, (-0.060890086781580935 - b2) + t2 * b1
    b2, b1 = b1, (0.153819605849258 - b2) + t2 * b1
    b2, b1 = b1, (-0.361621320410839 - b2) + t2 * b1
    return (0.3889847380544667 - b2) + t * b1


@njit(cache=True, nogil=True, inline="always", fastmath=True)
def erfc_r32(x):
    """R(x) = exp(x^2) erfc(x) on [0, 4.0] (x clamped: erfc(4) = 1.5e-8, and the backend requires
    alpha * cutoff <= 4): Clenshaw recurrence of a degree-13 Chebyshev interpolant, unrolled (so the
    pair loops around it still vectorise) and written b = (c - b2) + 2t b1 so that each step adds
    one fused multiply-add to the dependency chain."""
    t = min(x, np.float32(4.0)) * np.float32(0.5) - np.float32(1.0)
    t2 = t + t
    b2 = np.float32(-4.7265795632124375e-07)
    b1 = np.float32(1.8762275015363206e-06) + t2 * b2
    b2, b1 = b1, (np.float32(-6.829576457496679e-06) - b2) + t2 * b1
    b2, b1 = b1, (np.float32(2.409103055749492e-05) - b2) + t2 * b1
    b2, b1 = b1, (np.float32(-8.249438916478415e-05) - b2) + t2 * b1
    b2, b1 = b1, (np.float32(0.0002736681042579304) - b2) + t2 * b1
    b2, b1 = b1, (np.float32(-0.0008772101538642969) - b2) + t2 * b1
    b2, b1 = b1, (np.float32(0.002708195366891052) - b2) + t2 * b1
    b2, b1 = b1, (np.float32(-0.008021784541955415) - b2) + t2 * b1
    b2, b1 = b1, (np.float32(0.022687403001091146) - b2) + t2 * b1
    b2, b1 = b1, (np.float32(-0.06089008678156641) - b2) + t2 * b1
    b2, b1 = b1, (np.float32(0.15381960584925494) - b2) + t2 * b1
    b2, b1 = b1, (np.float32(-0.36162132041083833) - b2) + t2 * b1
    return (np.float32(0.3889847380544667) - b2) + t * b1


@njit(cache=True, nogil=True)
def erfc_vec(x, out):
    """erfc of an array with the kernels' approximation (for tests)."""
    for k in range(x.shape[0]):
        out[k] = exp_neg64(x[k] * x[k]) * erfc_r64(x[k])


# --- column sort and range lists --------------------------------------------------------------------


@njit(cache=True, nogil=True)
def column_sort(pos, origin, wx, wy, ncx, ncy, order, col_start, col_of, prev=None):
    """Counting sort of the atoms into ncx*ncy columns, then by z inside each column (stable).
    Fills order (sorted index -> atom), col_start (ncols+1), col_of.

    ``prev``: the order of the last sort.  Atoms are then taken in that order, so each column comes
    out almost sorted by z already (atoms moved less than the list buffer since), and an insertion
    sort finishes it in about linear time: this sort is the serial part of a rebuild step."""
    n = pos.shape[0]
    ncols = ncx * ncy
    counts = np.zeros(ncols + 1, np.int64)
    for i in range(n):
        cx = int((pos[i, 0] - origin[0]) / wx)
        cy = int((pos[i, 1] - origin[1]) / wy)
        cx = min(max(cx, 0), ncx - 1)
        cy = min(max(cy, 0), ncy - 1)
        c = cx * ncy + cy
        col_of[i] = c
        counts[c + 1] += 1
    for c in range(ncols):
        counts[c + 1] += counts[c]
    for c in range(ncols + 1):
        col_start[c] = counts[c]
    fill = counts[:-1].copy()
    for k in range(n):
        i = k if prev is None else prev[k]
        c = col_of[i]
        order[fill[c]] = i
        fill[c] += 1
    for c in range(ncols):
        c0 = col_start[c]
        c1 = col_start[c + 1]
        if c1 - c0 < 2:
            continue
        m = c1 - c0
        seg = order[c0:c1].copy()
        zc = np.empty(m)
        for k in range(m):
            zc[k] = pos[seg[k], 2]
        if prev is None:
            # no earlier order: a stable merge sort (columns hold hundreds of atoms in file order,
            # where an insertion sort's quadratic cost was a quarter of a list rebuild)
            srt = np.argsort(zc, kind="mergesort")
            for k in range(m):
                order[c0 + k] = seg[srt[k]]
        else:
            # nearly sorted: a stable insertion sort, linear in the atoms plus the few inversions
            for k in range(1, m):
                z = zc[k]
                a = seg[k]
                j = k - 1
                while j >= 0 and zc[j] > z:
                    zc[j + 1] = zc[j]
                    seg[j + 1] = seg[j]
                    j -= 1
                zc[j + 1] = z
                seg[j + 1] = a
            for k in range(m):
                order[c0 + k] = seg[k]


@njit(cache=True, nogil=True)
def spans_csr(cols, ptr, col_start):
    """For groups of sorted column ids (CSR: group g is cols[ptr[g]:ptr[g+1]]), the sorted-index spans
    [start, end) of each group, adjacent columns merged and empty ones skipped; returns (spans,
    span_ptr).  One call for all tiles of a rebuild step, which runs in its serial stage."""
    m = len(ptr) - 1
    out = np.empty((len(cols), 2), np.int64)
    optr = np.zeros(m + 1, np.int64)
    k = 0
    for g in range(m):
        for q in range(ptr[g], ptr[g + 1]):
            c = cols[q]
            s = col_start[c]
            e = col_start[c + 1]
            if e == s:
                continue
            if k > optr[g] and out[k - 1, 1] == s:
                out[k - 1, 1] = e
            else:
                out[k, 0] = s
                out[k, 1] = e
                k += 1
        optr[g + 1] = k
    return out[:k], optr


@njit(cache=True, nogil=True, inline="always")
def _lower_bound(zs, lo, hi, v):
    while lo < hi:
        mid = (lo + hi) >> 1
        if zs[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def build_ranges(xs, ys, zs, col_start, home_cols, offs, ncx, ncy, wx, wy, origin, box, periodic, rlist2):
    """Range list of one task: for every atom i of the home columns (sorted index, in order) and every
    half-shell neighbour column offset, the run [j0, j1) of sorted indices within sqrt(rlist2) of i in
    the column (its z-window, a binary search), with the image shift id (sx+1)*9+(sy+1)*3+(sz+1).

    Each unordered pair is listed once: offsets (ox, oy) are lexicographically >= (0, 0); in the home
    column (0, 0) only partners with a larger sorted index (same image) or a +z image are taken.
    Returns (ilist, rptr, rj0, rj1, rsh)."""
    cap_i = 256
    for h in range(home_cols.shape[0]):
        c = home_cols[h]
        cap_i += col_start[c + 1] - col_start[c]
    ilist = np.empty(cap_i, np.int32)
    rptr = np.zeros(cap_i + 1, np.int64)
    cap = cap_i * 24 + 64
    rj0 = np.empty(cap, np.int32)
    rj1 = np.empty(cap, np.int32)
    rsh = np.empty(cap, np.int8)
    ni = 0
    nr = 0
    lz = box[2]
    no = offs.shape[0]
    # per home column: the neighbour columns' data, and the last window found for each
    # (offset, z image), from which the next atom's window is found by a short walk (atoms come in
    # z order, so windows move little) instead of two binary searches
    ncol = np.empty(no, np.int64)
    nsx = np.empty(no, np.int64)
    nsy = np.empty(no, np.int64)
    nx0 = np.empty(no, np.float64)
    ny0 = np.empty(no, np.float64)
    plo = np.empty(3 * no, np.int64)
    phi = np.empty(3 * no, np.int64)
    for h in range(home_cols.shape[0]):
        c = home_cols[h]
        cx = c // ncy
        cy = c - cx * ncy
        for o in range(no):
            nx_ = cx + offs[o, 0]
            ny_ = cy + offs[o, 1]
            if periodic:
                sx = nx_ // ncx
                sy = ny_ // ncy
                ncol[o] = (nx_ - sx * ncx) * ncy + (ny_ - sy * ncy)
            else:
                sx = 0
                sy = 0
                ncol[o] = nx_ * ncy + ny_ if (0 <= nx_ < ncx and 0 <= ny_ < ncy) else -1
            nsx[o] = sx
            nsy[o] = sy
            nx0[o] = origin[0] + nx_ * wx
            ny0[o] = origin[1] + ny_ * wy
        for k in range(3 * no):
            plo[k] = -1
        for i in range(col_start[c], col_start[c + 1]):
            xi, yi, zi = xs[i], ys[i], zs[i]
            for o in range(no):
                col = ncol[o]
                if col < 0:
                    continue
                c0 = col_start[col]
                c1 = col_start[col + 1]
                if c1 == c0:
                    continue
                gx = max(0.0, nx0[o] - xi, xi - (nx0[o] + wx))
                gy = max(0.0, ny0[o] - yi, yi - (ny0[o] + wy))
                d2 = gx * gx + gy * gy
                if d2 >= rlist2:
                    continue
                hz = math.sqrt(rlist2 - d2)
                home = offs[o, 0] == 0 and offs[o, 1] == 0
                for sz in range(-1, 2):
                    if sz != 0 and not periodic:
                        continue
                    if home and sz < 0:
                        continue
                    a = zi - hz - sz * lz
                    b = zi + hz - sz * lz
                    if periodic and sz != 0 and (b < zs[c0] or a > zs[c1 - 1]):
                        continue
                    k = 3 * o + sz + 1
                    if plo[k] < 0:
                        j0 = _lower_bound(zs, c0, c1, a)
                        j1 = _lower_bound(zs, j0, c1, b)
                    else:
                        j0 = plo[k]
                        while j0 > c0 and zs[j0 - 1] >= a:
                            j0 -= 1
                        while j0 < c1 and zs[j0] < a:
                            j0 += 1
                        j1 = max(phi[k], j0)
                        while j1 > j0 and zs[j1 - 1] >= b:
                            j1 -= 1
                        while j1 < c1 and zs[j1] < b:
                            j1 += 1
                    plo[k] = j0
                    phi[k] = j1
                    if home and sz == 0:
                        j0 = max(j0, i + 1)
                    # trim the run's ends to atoms truly within r_list: the z-window is sized for
                    # the nearest point of the column, so its ends often lie farther (fewer
                    # candidates every step for a few distance tests per build)
                    ox_ = nsx[o] * box[0] - xi
                    oy_ = nsy[o] * box[1] - yi
                    oz_ = sz * lz - zi
                    while j1 > j0:
                        ex_ = xs[j0] + ox_
                        ey_ = ys[j0] + oy_
                        ez_ = zs[j0] + oz_
                        if ex_ * ex_ + ey_ * ey_ + ez_ * ez_ < rlist2:
                            break
                        j0 += 1
                    while j1 > j0:
                        ex_ = xs[j1 - 1] + ox_
                        ey_ = ys[j1 - 1] + oy_
                        ez_ = zs[j1 - 1] + oz_
                        if ex_ * ex_ + ey_ * ey_ + ez_ * ez_ < rlist2:
                            break
                        j1 -= 1
                    if j1 > j0:
                        if nr == cap:
                            cap *= 2
                            t0 = np.empty(cap, np.int32)
                            t0[:nr] = rj0[:nr]
                            rj0 = t0
                            t1 = np.empty(cap, np.int32)
                            t1[:nr] = rj1[:nr]
                            rj1 = t1
                            t2 = np.empty(cap, np.int8)
                            t2[:nr] = rsh[:nr]
                            rsh = t2
                        rj0[nr] = j0
                        rj1[nr] = j1
                        rsh[nr] = (nsx[o] + 1) * 9 + (nsy[o] + 1) * 3 + (sz + 1)
                        nr += 1
            ilist[ni] = i
            ni += 1
            rptr[ni] = nr
    return ilist[:ni].copy(), rptr[: ni + 1].copy(), rj0[:nr].copy(), rj1[:nr].copy(), rsh[:nr].copy()


@njit(cache=True, nogil=True)
def build_ranges_all(n, i0, i1):
    """No cutoff: atom i of [i0, i1) pairs with every j > i (one range)."""
    m = i1 - i0
    ilist = np.arange(i0, i1).astype(np.int32)
    rptr = np.arange(m + 1).astype(np.int64)
    rj0 = np.arange(i0 + 1, i1 + 1).astype(np.int32)
    rj1 = np.full(m, n, np.int32)
    rsh = np.full(m, 13, np.int8)
    return ilist, rptr, rj0, rj1, rsh


# --- pair kernels -----------------------------------------------------------------------------------


@njit(nogil=True, inline="always")
def _pairs64(
    mode,
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    ilist,
    rptr,
    rj0,
    rj1,
    rsh,
    shifts,
    rc2,
    krf,
    crf,
    alpha,
    use_switch,
    rs,
    rc,
    f,
):
    """float64 pair loop over a range list; ``mode`` is a compile-time constant in each wrapper.

    ``dat`` (6, n): x, y, z, q, sigma/2, sqrt(eps) in sorted order; ``f`` (3, n): this task's force
    buffer.  Two arrays only, so the vectoriser's run-time overlap test before each range is one
    comparison, not dozens (the ranges are short)."""
    e_c = 0.0
    e_lj = 0.0
    npairs = 0
    c2sp = 2.0 / math.sqrt(math.pi)
    inv_sw = 1.0 / (rc - rs) if use_switch else 0.0
    alpha2 = alpha * alpha
    for k in range(ilist.shape[0]):
        i = ilist[k]
        ai = order[i]
        for e in range(excl_ptr[ai], excl_ptr[ai + 1]):
            mask[inv[excl_idx[e]]] = 0.0
        qi, shi, sei = dat[3, i], dat[4, i], dat[5, i]
        fxi = 0.0
        fyi = 0.0
        fzi = 0.0
        for r in range(rptr[k], rptr[k + 1]):
            s = rsh[r]
            xi = dat[0, i] - shifts[s, 0]
            yi = dat[1, i] - shifts[s, 1]
            zi = dat[2, i] - shifts[s, 2]
            ec_r = 0.0
            elj_r = 0.0
            np_r = 0
            for j in range(np.uint64(rj0[r]), np.uint64(rj1[r])):  # unsigned: no wraparound test, so it vectorises
                dx = dat[0, j] - xi
                dy = dat[1, j] - yi
                dz = dat[2, j] - zi
                r2 = dx * dx + dy * dy + dz * dz
                m = mask[j]
                if mode == MODE_NOCUTOFF:
                    inside = m
                else:
                    inside = m if r2 < rc2 else 0.0
                np_r += 1 if inside > 0.0 else 0
                r2 = r2 + (1.0 - m)  # excluded pairs may coincide: keep 1/r finite, masked anyway
                inv_r2 = 1.0 / r2
                inv_r = math.sqrt(inv_r2)
                qq = qi * dat[3, j]
                eps = sei * dat[5, j]
                sig = shi + dat[4, j]
                s2 = sig * sig * inv_r2
                s6 = s2 * s2 * s2
                if mode == MODE_CG:
                    rr = r2 * inv_r
                    s12 = s6 * s6
                    elj = eps * s12
                    flj = 12.0 * eps * s12 * inv_r2
                    ex = crf * qq * exp_neg64(krf * rr) * inv_r
                    ec = ex
                    fc = ex * (1.0 + krf * rr) * inv_r2
                else:
                    elj = 4.0 * eps * (s6 * s6 - s6)
                    flj = eps * (48.0 * s6 * s6 - 24.0 * s6) * inv_r2
                    if use_switch:
                        rr = r2 * inv_r
                        x = max(rr - rs, 0.0) * inv_sw
                        x2 = x * x
                        x3 = x2 * x
                        sw = 1.0 + x3 * (-10.0 + x * (15.0 - 6.0 * x))
                        dsw = x2 * (-30.0 + x * (60.0 - 30.0 * x)) * inv_sw
                        flj = flj * sw - elj * dsw * inv_r
                        elj = elj * sw
                    if mode == MODE_RF:
                        ec = qq * (inv_r + krf * r2 - crf)
                        fc = qq * (inv_r * inv_r2 - 2.0 * krf)
                    elif mode == MODE_EWALD:
                        rr = r2 * inv_r
                        ex = exp_neg64(alpha2 * r2)
                        erfc_ar = ex * erfc_r64(alpha * rr)
                        ec = qq * erfc_ar * inv_r
                        fc = qq * (erfc_ar * inv_r + alpha * c2sp * ex) * inv_r2
                    else:
                        ec = qq * inv_r
                        fc = qq * inv_r * inv_r2
                ec_r += inside * ec
                elj_r += inside * elj
                fs = inside * (flj + fc)
                fxi -= fs * dx
                fyi -= fs * dy
                fzi -= fs * dz
                f[0, j] += fs * dx
                f[1, j] += fs * dy
                f[2, j] += fs * dz
            e_c += ec_r
            e_lj += elj_r
            npairs += np_r
        f[0, i] += fxi
        f[1, i] += fyi
        f[2, i] += fzi
        for e in range(excl_ptr[ai], excl_ptr[ai + 1]):
            mask[inv[excl_idx[e]]] = 1.0
    return e_c, e_lj, npairs


@njit(nogil=True, inline="always")
def _pairs32(
    mode,
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    ilist,
    rptr,
    rj0,
    rj1,
    rsh,
    shifts,
    rc2,
    krf,
    crf,
    alpha,
    use_switch,
    rs,
    rc,
    f,
):
    """Mixed precision: float32 coordinates (``dat``), shifts, pair arithmetic and force buffer ``f``
    (8 lanes per AVX2 vector, no conversion in the loop, as OpenMM's CPU platform does); the i force
    and the energies of each range are summed in float64."""
    f0 = np.float32(0.0)
    f1 = np.float32(1.0)
    rc2f = np.float32(rc2)
    krff = np.float32(krf)
    crff = np.float32(crf)
    alphaf = np.float32(alpha)
    alpha2f = np.float32(alpha * alpha)
    c2spf = np.float32(alpha * 2.0 / math.sqrt(math.pi))
    rsf = np.float32(rs)
    inv_sw = np.float32(1.0 / (rc - rs)) if use_switch else f0
    e_c = 0.0
    e_lj = 0.0
    npairs = 0
    for k in range(ilist.shape[0]):
        i = ilist[k]
        ai = order[i]
        for e in range(excl_ptr[ai], excl_ptr[ai + 1]):
            mask[inv[excl_idx[e]]] = f0
        qi, shi, sei = dat[3, i], dat[4, i], dat[5, i]
        fxi = 0.0
        fyi = 0.0
        fzi = 0.0
        for r in range(rptr[k], rptr[k + 1]):
            s = rsh[r]
            xi = dat[0, i] - shifts[s, 0]
            yi = dat[1, i] - shifts[s, 1]
            zi = dat[2, i] - shifts[s, 2]
            ec_r = f0
            elj_r = f0
            fx_r = f0
            fy_r = f0
            fz_r = f0
            np_r = f0  # float32 count: an int64 counter would halve the vector width
            # the run is padded to a multiple of 8 (lanes past its end are masked out; the arrays
            # have 8 spare entries), so the vector loop has no scalar remainder: runs are short
            j0 = np.uint64(rj0[r])
            j1 = np.uint64(rj1[r])
            for j in range(j0, j0 + ((j1 - j0 + np.uint64(7)) & ~np.uint64(7))):
                dx = dat[0, j] - xi
                dy = dat[1, j] - yi
                dz = dat[2, j] - zi
                r2 = dx * dx + dy * dy + dz * dz
                m = mask[j] * (f1 if j < j1 else f0)
                if mode == MODE_NOCUTOFF:
                    inside = m
                else:
                    inside = m if r2 < rc2f else f0
                np_r += f1 if inside > f0 else f0
                r2 = r2 + (f1 - m)
                inv_r2 = f1 / r2
                inv_r = math.sqrt(inv_r2)
                qq = qi * dat[3, j]
                eps = sei * dat[5, j]
                sig = shi + dat[4, j]
                s2 = sig * sig * inv_r2
                s6 = s2 * s2 * s2
                if mode == MODE_CG:
                    rr = r2 * inv_r
                    s12 = s6 * s6
                    elj = eps * s12
                    flj = np.float32(12.0) * eps * s12 * inv_r2
                    ex = crff * qq * exp_neg32(krff * rr) * inv_r
                    ec = ex
                    fc = ex * (f1 + krff * rr) * inv_r2
                else:
                    elj = np.float32(4.0) * eps * (s6 * s6 - s6)
                    flj = eps * (np.float32(48.0) * s6 * s6 - np.float32(24.0) * s6) * inv_r2
                    if use_switch:
                        rr = r2 * inv_r
                        x = max(rr - rsf, f0) * inv_sw
                        x2 = x * x
                        x3 = x2 * x
                        sw = f1 + x3 * (np.float32(-10.0) + x * (np.float32(15.0) - np.float32(6.0) * x))
                        dsw = x2 * (np.float32(-30.0) + x * (np.float32(60.0) - np.float32(30.0) * x)) * inv_sw
                        flj = flj * sw - elj * dsw * inv_r
                        elj = elj * sw
                    if mode == MODE_RF:
                        ec = qq * (inv_r + krff * r2 - crff)
                        fc = qq * (inv_r * inv_r2 - np.float32(2.0) * krff)
                    elif mode == MODE_EWALD:
                        rr = r2 * inv_r
                        ex = exp_neg32(alpha2f * r2)
                        erfc_ar = ex * erfc_r32(alphaf * rr)
                        ec = qq * erfc_ar * inv_r
                        fc = qq * (erfc_ar * inv_r + c2spf * ex) * inv_r2
                    else:
                        ec = qq * inv_r
                        fc = qq * inv_r * inv_r2
                ec_r += inside * ec
                elj_r += inside * elj
                fs = inside * (flj + fc)
                fx_r -= fs * dx
                fy_r -= fs * dy
                fz_r -= fs * dz
                f[0, j] += fs * dx
                f[1, j] += fs * dy
                f[2, j] += fs * dz
            fxi += np.float64(fx_r)
            fyi += np.float64(fy_r)
            fzi += np.float64(fz_r)
            e_c += np.float64(ec_r)
            e_lj += np.float64(elj_r)
            npairs += int(np_r)
        f[0, i] += fxi
        f[1, i] += fyi
        f[2, i] += fzi
        for e in range(excl_ptr[ai], excl_ptr[ai + 1]):
            mask[inv[excl_idx[e]]] = f1
    return e_c, e_lj, npairs


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_nocutoff(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    ilist,
    rptr,
    rj0,
    rj1,
    rsh,
    shifts,
    rc2,
    krf,
    crf,
    alpha,
    use_switch,
    rs,
    rc,
    f,
):
    if use_switch:  # a constant in each inlined copy: the loop without the switch has no spills
        return _pairs64(
            MODE_NOCUTOFF,
            dat,
            order,
            inv,
            excl_ptr,
            excl_idx,
            mask,
            ilist,
            rptr,
            rj0,
            rj1,
            rsh,
            shifts,
            rc2,
            krf,
            crf,
            alpha,
            True,
            rs,
            rc,
            f,
        )
    return _pairs64(
        MODE_NOCUTOFF,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        ilist,
        rptr,
        rj0,
        rj1,
        rsh,
        shifts,
        rc2,
        krf,
        crf,
        alpha,
        False,
        rs,
        rc,
        f,
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_rf(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    ilist,
    rptr,
    rj0,
    rj1,
    rsh,
    shifts,
    rc2,
    krf,
    crf,
    alpha,
    use_switch,
    rs,
    rc,
    f,
):
    if use_switch:  # a constant in each inlined copy: the loop without the switch has no spills
        return _pairs64(
            MODE_RF,
            dat,
            order,
            inv,
            excl_ptr,
            excl_idx,
            mask,
            ilist,
            rptr,
            rj0,
            rj1,
            rsh,
            shifts,
            rc2,
            krf,
            crf,
            alpha,
            True,
            rs,
            rc,
            f,
        )
    return _pairs64(
        MODE_RF,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        ilist,
        rptr,
        rj0,
        rj1,
        rsh,
        shifts,
        rc2,
        krf,
        crf,
        alpha,
        False,
        rs,
        rc,
        f,
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_ewald(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    ilist,
    rptr,
    rj0,
    rj1,
    rsh,
    shifts,
    rc2,
    krf,
    crf,
    alpha,
    use_switch,
    rs,
    rc,
    f,
):
    if use_switch:  # a constant in each inlined copy: the loop without the switch has no spills
        return _pairs64(
            MODE_EWALD,
            dat,
            order,
            inv,
            excl_ptr,
            excl_idx,
            mask,
            ilist,
            rptr,
            rj0,
            rj1,
            rsh,
            shifts,
            rc2,
            krf,
            crf,
            alpha,
            True,
            rs,
            rc,
            f,
        )
    return _pairs64(
        MODE_EWALD,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        ilist,
        rptr,
        rj0,
        rj1,
        rsh,
        shifts,
        rc2,
        krf,
        crf,
        alpha,
        False,
        rs,
        rc,
        f,
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_cg(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    ilist,
    rptr,
    rj0,
    rj1,
    rsh,
    shifts,
    rc2,
    krf,
    crf,
    alpha,
    use_switch,
    rs,
    rc,
    f,
):
    if use_switch:  # a constant in each inlined copy: the loop without the switch has no spills
        return _pairs64(
            MODE_CG,
            dat,
            order,
            inv,
            excl_ptr,
            excl_idx,
            mask,
            ilist,
            rptr,
            rj0,
            rj1,
            rsh,
            shifts,
            rc2,
            krf,
            crf,
            alpha,
            True,
            rs,
            rc,
            f,
        )
    return _pairs64(
        MODE_CG,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        ilist,
        rptr,
        rj0,
        rj1,
        rsh,
        shifts,
        rc2,
        krf,
        crf,
        alpha,
        False,
        rs,
        rc,
        f,
    )


NB_KERNELS = {MODE_NOCUTOFF: "nb_nocutoff", MODE_RF: "nb_rf", MODE_EWALD: "nb_ewald", MODE_CG: "nb_cg"}


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_nocutoff32(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    ilist,
    rptr,
    rj0,
    rj1,
    rsh,
    shifts,
    rc2,
    krf,
    crf,
    alpha,
    use_switch,
    rs,
    rc,
    f,
):
    if use_switch:  # a constant in each inlined copy: the loop without the switch has no spills
        return _pairs32(
            MODE_NOCUTOFF,
            dat,
            order,
            inv,
            excl_ptr,
            excl_idx,
            mask,
            ilist,
            rptr,
            rj0,
            rj1,
            rsh,
            shifts,
            rc2,
            krf,
            crf,
            alpha,
            True,
            rs,
            rc,
            f,
        )
    return _pairs32(
        MODE_NOCUTOFF,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        ilist,
        rptr,
        rj0,
        rj1,
        rsh,
        shifts,
        rc2,
        krf,
        crf,
        alpha,
        False,
        rs,
        rc,
        f,
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_rf32(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    ilist,
    rptr,
    rj0,
    rj1,
    rsh,
    shifts,
    rc2,
    krf,
    crf,
    alpha,
    use_switch,
    rs,
    rc,
    f,
):
    if use_switch:  # a constant in each inlined copy: the loop without the switch has no spills
        return _pairs32(
            MODE_RF,
            dat,
            order,
            inv,
            excl_ptr,
            excl_idx,
            mask,
            ilist,
            rptr,
            rj0,
            rj1,
            rsh,
            shifts,
            rc2,
            krf,
            crf,
            alpha,
            True,
            rs,
            rc,
            f,
        )
    return _pairs32(
        MODE_RF,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        ilist,
        rptr,
        rj0,
        rj1,
        rsh,
        shifts,
        rc2,
        krf,
        crf,
        alpha,
        False,
        rs,
        rc,
        f,
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_ewald32(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    ilist,
    rptr,
    rj0,
    rj1,
    rsh,
    shifts,
    rc2,
    krf,
    crf,
    alpha,
    use_switch,
    rs,
    rc,
    f,
):
    if use_switch:  # a constant in each inlined copy: the loop without the switch has no spills
        return _pairs32(
            MODE_EWALD,
            dat,
            order,
            inv,
            excl_ptr,
            excl_idx,
            mask,
            ilist,
            rptr,
            rj0,
            rj1,
            rsh,
            shifts,
            rc2,
            krf,
            crf,
            alpha,
            True,
            rs,
            rc,
            f,
        )
    return _pairs32(
        MODE_EWALD,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        ilist,
        rptr,
        rj0,
        rj1,
        rsh,
        shifts,
        rc2,
        krf,
        crf,
        alpha,
        False,
        rs,
        rc,
        f,
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_cg32(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    ilist,
    rptr,
    rj0,
    rj1,
    rsh,
    shifts,
    rc2,
    krf,
    crf,
    alpha,
    use_switch,
    rs,
    rc,
    f,
):
    if use_switch:  # a constant in each inlined copy: the loop without the switch has no spills
        return _pairs32(
            MODE_CG,
            dat,
            order,
            inv,
            excl_ptr,
            excl_idx,
            mask,
            ilist,
            rptr,
            rj0,
            rj1,
            rsh,
            shifts,
            rc2,
            krf,
            crf,
            alpha,
            True,
            rs,
            rc,
            f,
        )
    return _pairs32(
        MODE_CG,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        ilist,
        rptr,
        rj0,
        rj1,
        rsh,
        shifts,
        rc2,
        krf,
        crf,
        alpha,
        False,
        rs,
        rc,
        f,
    )


NB_KERNELS_MIXED = {MODE_NOCUTOFF: "nb_nocutoff32", MODE_RF: "nb_rf32", MODE_EWALD: "nb_ewald32", MODE_CG: "nb_cg32"}


# --- gathers, reductions, list age ---------------------------------------------------------------


@njit(cache=True, nogil=True)
def gather_sorted(pos_w, order, spans, xs, ys, zs):
    """xs[k], ys[k], zs[k] = pos_w[order[k]] for k in the spans ((m, 2) [start, end))."""
    for s in range(spans.shape[0]):
        for k in range(spans[s, 0], spans[s, 1]):
            a = order[k]
            xs[k] = pos_w[a, 0]
            ys[k] = pos_w[a, 1]
            zs[k] = pos_w[a, 2]


@njit(cache=True, nogil=True)
def gather_params(src, order, spans, dst):
    for s in range(spans.shape[0]):
        for k in range(spans[s, 0], spans[s, 1]):
            dst[k] = src[order[k]]


@njit(cache=True, nogil=True)
def zero_spans(spans, fx, fy, fz):
    for s in range(spans.shape[0]):
        for k in range(spans[s, 0], spans[s, 1]):
            fx[k] = 0.0
            fy[k] = 0.0
            fz[k] = 0.0


@njit(cache=True, nogil=True)
def reduce_block(spans, order, nb_bufs, writers, bonded_bufs, b_lo, b_hi, out):
    """Forces of the atoms of one block, in a fixed order: the non-bonded buffers of the writer
    tasks (sorted index space; nb_bufs[t] is (3, n)), in the order given, then the bond-engine
    buffers (atom order, (n, 3)) whose atom span [b_lo, b_hi) holds the atom."""
    for s in range(spans.shape[0]):
        for k in range(spans[s, 0], spans[s, 1]):
            a = order[k]
            fx = 0.0
            fy = 0.0
            fz = 0.0
            for w in range(writers.shape[0]):
                t = writers[w]
                fx += nb_bufs[t, 0, k]
                fy += nb_bufs[t, 1, k]
                fz += nb_bufs[t, 2, k]
            for c in range(bonded_bufs.shape[0]):
                if b_lo[c] <= a < b_hi[c]:
                    fx += bonded_bufs[c, a, 0]
                    fy += bonded_bufs[c, a, 1]
                    fz += bonded_bufs[c, a, 2]
            out[a, 0] = fx
            out[a, 1] = fy
            out[a, 2] = fz


@njit(cache=True, nogil=True)
def displacement_stats(pos, ref_w, box, periodic, out, t1, t2):
    """out[i] = image of pos[i] nearest ref_w[i] (periodic) or pos[i]; returns (largest displacement,
    second largest, count of atoms moved more than t1, count moved more than t2)."""
    m1 = 0.0
    m2 = 0.0
    n1 = 0
    n2 = 0
    t1s = t1 * t1
    t2s = t2 * t2
    for i in range(pos.shape[0]):
        r2 = 0.0
        for d in range(3):
            dx = pos[i, d] - ref_w[i, d]
            if periodic:
                dx -= box[d] * math.floor(dx / box[d] + 0.5)
            out[i, d] = ref_w[i, d] + dx
            r2 += dx * dx
        if r2 > t1s:
            n1 += 1
        if r2 > t2s:
            n2 += 1
        if r2 > m2:
            if r2 > m1:
                m2 = m1
                m1 = r2
            else:
                m2 = r2
    return math.sqrt(m1), math.sqrt(m2), n1, n2


@njit(cache=True, nogil=True)
def pair_displacement_bound(pos, ref):
    """Sum of the two largest displacements between pos and ref (non-periodic)."""
    m1 = 0.0
    m2 = 0.0
    for i in range(pos.shape[0]):
        dx = pos[i, 0] - ref[i, 0]
        dy = pos[i, 1] - ref[i, 1]
        dz = pos[i, 2] - ref[i, 2]
        r2 = dx * dx + dy * dy + dz * dz
        if r2 > m2:
            if r2 > m1:
                m2 = m1
                m1 = r2
            else:
                m2 = r2
    return math.sqrt(m1) + math.sqrt(m2)


@njit(cache=True, nogil=True)
def follow_images(pos, ref_w, box, out):
    """out[i] = the image of pos[i] nearest to ref_w[i] (the wrapped position at list-build
    time), so pair-list shifts stay valid whatever re-imaging OpenMM applied; returns the sum of
    the two largest displacements since the build (no pair got closer by more than that)."""
    m1 = 0.0
    m2 = 0.0
    for i in range(pos.shape[0]):
        r2 = 0.0
        for d in range(3):
            dx = pos[i, d] - ref_w[i, d]
            dx -= box[d] * math.floor(dx / box[d] + 0.5)
            out[i, d] = ref_w[i, d] + dx
            r2 += dx * dx
        if r2 > m2:
            if r2 > m1:
                m2 = m1
                m1 = r2
            else:
                m2 = r2
    return math.sqrt(m1) + math.sqrt(m2)


@njit(cache=True, nogil=True)
def wrap_offsets(pos, box):
    """Per-atom shift that wraps pos into [0, box)."""
    off = np.zeros_like(pos)
    for i in range(pos.shape[0]):
        for d in range(3):
            off[i, d] = -box[d] * math.floor(pos[i, d] / box[d])
    return off
