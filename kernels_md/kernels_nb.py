"""Numba kernels for the non-bonded engine: binning atoms into cells, building per-task pair
lists, and evaluating the pair interactions of one task into a per-worker force buffer.

All kernels are ``nogil`` so the dataflow scheduler's worker threads run them concurrently, and
``cache=True`` so the compile cost is paid once per machine.  Displacements, pair math and
accumulation are in float64 (measured: float32 pair math misses the 1e-5 median force bar on
DHFR-PME; see ``precision`` in :func:`kenkyu.kernels_md.dataflow_system`).
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


@njit(cache=True, nogil=True)
def bin_atoms(pos, origin, edge, ncell, periodic, box):
    """Assign every atom to a cell; return (cell_of, order, cell_start) (a counting sort)."""
    n = pos.shape[0]
    nx, ny, nz = ncell[0], ncell[1], ncell[2]
    ncells = nx * ny * nz
    cell_of = np.empty(n, np.int32)
    counts = np.zeros(ncells + 1, np.int64)
    c = np.empty(3, np.int64)
    for i in range(n):
        for d in range(3):
            if periodic:
                f = pos[i, d] / box[d]
                f -= math.floor(f)
                k = int(f * ncell[d])
            else:
                k = int((pos[i, d] - origin[d]) / edge[d])
            k = max(k, 0)
            if k >= ncell[d]:
                k = ncell[d] - 1
            c[d] = k
        cid = (c[0] * ny + c[1]) * nz + c[2]
        cell_of[i] = cid
        counts[cid + 1] += 1
    for c in range(ncells):
        counts[c + 1] += counts[c]
    cell_start = counts.copy()
    fill = counts[:-1].copy()
    order = np.empty(n, np.int32)
    for i in range(n):
        cid = cell_of[i]
        order[fill[cid]] = i
        fill[cid] += 1
    return cell_of, order, cell_start


@njit(cache=True, nogil=True, inline="always")
def _is_excluded(i, j, excl_ptr, excl_idx):
    for k in range(excl_ptr[i], excl_ptr[i + 1]):
        if excl_idx[k] == j:
            return True
    return False


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def build_pairlist(xs, ys, zs, cp_a, cp_b, cp_shift, cell_start, order, excl_ptr, excl_idx, rlist2, lo, hi):
    """Pair list (CSR over i) for the cell pairs (cp_a[k], cp_b[k] + shift) of one task, which
    come sorted by home cell and shift: one list entry per (atom, image shift).

    ``xs, ys, zs`` are the wrapped coordinates in cell order (entry k is atom ``order[k]``), so the
    distance pass over a neighbour cell is a contiguous, vectorisable loop; ``cp_shift`` (nm) is the
    image of cell b seen from cell a, so no minimum-image arithmetic is needed.  Every unordered
    atom pair closer than sqrt(rlist2) and not excluded appears once.  ``lo, hi`` are the
    cells' bounding boxes: an atom skips a neighbour cell whose box is out of reach.
    The list holds *cell-order* indices (the compute kernels run on cell-ordered copies of the
    positions and parameters, so a j-list is a few contiguous runs of memory).
    Returns (ilist, jptr, jlist, ishift)."""
    cap_i = 1024
    cap_j = 16384
    ilist = np.empty(cap_i, np.int32)
    ishift = np.empty((cap_i, 3), np.float64)
    jptr = np.zeros(cap_i + 1, np.int64)
    jlist = np.empty(cap_j, np.int32)
    maxc = 0
    for c in range(cell_start.shape[0] - 1):
        maxc = max(maxc, cell_start[c + 1] - cell_start[c])
    r2buf = np.empty(max(maxc, 1), np.float64)
    ni = 0
    nj = 0
    ncp = cp_a.shape[0]
    k = 0
    while k < ncp:
        a = cp_a[k]
        kend = k
        while kend < ncp and cp_a[kend] == a:
            kend += 1
        for ii in range(cell_start[a], cell_start[a + 1]):
            i = order[ii]
            start = nj
            for kk in range(k, kend):
                b = cp_b[kk]
                sx, sy, sz = cp_shift[kk, 0], cp_shift[kk, 1], cp_shift[kk, 2]
                last = kk + 1 == kend or (
                    cp_shift[kk + 1, 0] != sx or cp_shift[kk + 1, 1] != sy or cp_shift[kk + 1, 2] != sz
                )
                self_pair = a == b and sx == 0.0 and sy == 0.0 and sz == 0.0
                xi, yi, zi = xs[ii] - sx, ys[ii] - sy, zs[ii] - sz
                b1 = cell_start[b + 1]
                jj0 = ii + 1 if self_pair else cell_start[b]
                m = b1 - jj0
                gx = max(0.0, lo[b, 0] - xi, xi - hi[b, 0])
                gy = max(0.0, lo[b, 1] - yi, yi - hi[b, 1])
                gz = max(0.0, lo[b, 2] - zi, zi - hi[b, 2])
                if m > 0 and gx * gx + gy * gy + gz * gz < rlist2:
                    for t in range(m):  # vectorisable distance pass
                        dx = xs[jj0 + t] - xi
                        dy = ys[jj0 + t] - yi
                        dz = zs[jj0 + t] - zi
                        r2buf[t] = dx * dx + dy * dy + dz * dz
                    if nj + m > cap_j:
                        while nj + m > cap_j:
                            cap_j *= 2
                        tmp = np.empty(cap_j, np.int32)
                        tmp[:nj] = jlist[:nj]
                        jlist = tmp
                    for t in range(m):  # branch-free compaction of the pairs within reach
                        jlist[nj] = jj0 + t
                        nj += r2buf[t] < rlist2
                if not last:
                    continue
                # close the entry of (atom i, this shift)
                if excl_ptr[i + 1] > excl_ptr[i]:  # drop excluded partners (rare among accepted pairs)
                    q = start
                    while q < nj:
                        if _is_excluded(i, order[jlist[q]], excl_ptr, excl_idx):
                            nj -= 1
                            jlist[q] = jlist[nj]
                        else:
                            q += 1
                if nj > start:
                    if ni == cap_i:
                        cap_i *= 2
                        tmp_i = np.empty(cap_i, np.int32)
                        tmp_i[:ni] = ilist[:ni]
                        ilist = tmp_i
                        tmp_s = np.empty((cap_i, 3), np.float64)
                        tmp_s[:ni] = ishift[:ni]
                        ishift = tmp_s
                        tmp_p = np.zeros(cap_i + 1, np.int64)
                        tmp_p[: ni + 1] = jptr[: ni + 1]
                        jptr = tmp_p
                    ilist[ni] = ii
                    ishift[ni, 0] = sx
                    ishift[ni, 1] = sy
                    ishift[ni, 2] = sz
                    jptr[ni + 1] = nj
                    ni += 1
                start = nj
        k = kend
    return ilist[:ni].copy(), jptr[: ni + 1].copy(), jlist[:nj].copy(), ishift[:ni].copy()


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


@njit(nogil=True, inline="always")
def _nb_loop(mode, pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out):
    """Pair loop; ``mode`` is a compile-time constant in each wrapper below, so the mode tests
    fold away.  Branch-free inside the cutoff test (a mask), which matters for water where
    hydrogens have epsilon = 0 in a random mix with oxygens."""
    e_c = 0.0
    e_lj = 0.0
    npairs = 0
    two_over_sqrtpi = 2.0 / math.sqrt(math.pi)
    inv_sw = 1.0 / (rc - rs) if use_switch else 0.0
    for k in range(ilist.shape[0]):
        i = ilist[k]
        xi, yi, zi = pos[i, 0] - ishift[k, 0], pos[i, 1] - ishift[k, 1], pos[i, 2] - ishift[k, 2]
        qi, shi, sei = qs[i], sh[i], se[i]
        fxi = 0.0
        fyi = 0.0
        fzi = 0.0
        for p in range(jptr[k], jptr[k + 1]):
            j = jlist[p]
            dx = pos[j, 0] - xi
            dy = pos[j, 1] - yi
            dz = pos[j, 2] - zi
            r2 = dx * dx + dy * dy + dz * dz
            if mode == MODE_NOCUTOFF:
                inside = 1.0
            else:
                inside = 1.0 if r2 < rc2 else 0.0
            npairs += int(inside)
            inv_r2 = 1.0 / r2
            inv_r = math.sqrt(inv_r2)
            qq = qi * qs[j]
            eps = sei * se[j]
            sig = shi + sh[j]
            s2 = sig * sig * inv_r2
            s6 = s2 * s2 * s2
            if mode == MODE_CG:
                r = r2 * inv_r
                s12 = s6 * s6
                elj = eps * s12
                flj = 12.0 * eps * s12 * inv_r2
                ex = qq * math.exp(-krf * r) * inv_r
                ec = ex
                fc = ex * (1.0 + krf * r) * inv_r2
            else:
                elj = 4.0 * eps * (s6 * s6 - s6)
                flj = eps * (48.0 * s6 * s6 - 24.0 * s6) * inv_r2
                if use_switch:
                    r = r2 * inv_r
                    if r > rs:
                        x = (r - rs) * inv_sw
                        x2 = x * x
                        x3 = x2 * x
                        sw = 1.0 + x3 * (-10.0 + x * (15.0 - 6.0 * x))
                        dsw = x2 * (-30.0 + x * (60.0 - 30.0 * x)) * inv_sw
                        flj = flj * sw - elj * dsw * inv_r
                        elj *= sw
                if mode == MODE_RF:
                    ec = qq * (inv_r + krf * r2 - crf)
                    fc = qq * (inv_r * inv_r2 - 2.0 * krf)
                elif mode == MODE_EWALD:
                    ar = alpha * r2 * inv_r
                    erfc_ar = math.erfc(ar)
                    ec = qq * erfc_ar * inv_r
                    fc = qq * (erfc_ar * inv_r + alpha * two_over_sqrtpi * math.exp(-ar * ar)) * inv_r2
                else:
                    ec = qq * inv_r
                    fc = qq * inv_r * inv_r2
            e_c += inside * ec
            e_lj += inside * elj
            fs = inside * (flj + fc)
            fxi -= fs * dx
            fyi -= fs * dy
            fzi -= fs * dz
            f_out[j, 0] += fs * dx
            f_out[j, 1] += fs * dy
            f_out[j, 2] += fs * dz
        f_out[i, 0] += fxi
        f_out[i, 1] += fyi
        f_out[i, 2] += fzi
    return e_c, e_lj, npairs


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_nocutoff(pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out):
    return _nb_loop(MODE_NOCUTOFF, pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out)


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_rf(pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out):
    return _nb_loop(MODE_RF, pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out)


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_ewald(pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out):
    return _nb_loop(MODE_EWALD, pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out)


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_cg(pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out):
    return _nb_loop(MODE_CG, pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out)


NB_KERNELS = {MODE_NOCUTOFF: "nb_nocutoff", MODE_RF: "nb_rf", MODE_EWALD: "nb_ewald", MODE_CG: "nb_cg"}


@njit(nogil=True, inline="always")
def _nb_loop32(mode, pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out):
    """Mixed-precision pair loop: float64 displacements (from float64 positions), float32 pair
    math, float64 accumulation of forces and energies.  Same structure as _nb_loop."""
    f1 = np.float32(1.0)
    rc2f = np.float32(rc2)
    krff = np.float32(krf)
    crff = np.float32(crf)
    alphaf = np.float32(alpha)
    c2sp = np.float32(2.0 / math.sqrt(math.pi))
    rsf = np.float32(rs)
    inv_sw = np.float32(1.0 / (rc - rs)) if use_switch else np.float32(0.0)
    e_c = 0.0
    e_lj = 0.0
    npairs = 0
    for k in range(ilist.shape[0]):
        i = ilist[k]
        xi, yi, zi = pos[i, 0] - ishift[k, 0], pos[i, 1] - ishift[k, 1], pos[i, 2] - ishift[k, 2]
        qi, shi, sei = np.float32(qs[i]), np.float32(sh[i]), np.float32(se[i])
        fxi = 0.0
        fyi = 0.0
        fzi = 0.0
        for p in range(jptr[k], jptr[k + 1]):
            j = jlist[p]
            dx = pos[j, 0] - xi
            dy = pos[j, 1] - yi
            dz = pos[j, 2] - zi
            dxf, dyf, dzf = np.float32(dx), np.float32(dy), np.float32(dz)
            r2 = dxf * dxf + dyf * dyf + dzf * dzf
            if mode == MODE_NOCUTOFF:
                inside = f1
            else:
                inside = f1 if r2 < rc2f else np.float32(0.0)
            npairs += int(inside)
            inv_r2 = f1 / r2
            inv_r = math.sqrt(inv_r2)
            qq = qi * np.float32(qs[j])
            eps = sei * np.float32(se[j])
            sig = shi + np.float32(sh[j])
            s2 = sig * sig * inv_r2
            s6 = s2 * s2 * s2
            if mode == MODE_CG:
                r = r2 * inv_r
                s12 = s6 * s6
                elj = eps * s12
                flj = np.float32(12.0) * eps * s12 * inv_r2
                ex = qq * math.exp(-krff * r) * inv_r
                ec = ex
                fc = ex * (f1 + krff * r) * inv_r2
            else:
                elj = np.float32(4.0) * eps * (s6 * s6 - s6)
                flj = eps * (np.float32(48.0) * s6 * s6 - np.float32(24.0) * s6) * inv_r2
                if use_switch:
                    r = r2 * inv_r
                    if r > rsf:
                        x = (r - rsf) * inv_sw
                        x2 = x * x
                        x3 = x2 * x
                        sw = f1 + x3 * (np.float32(-10.0) + x * (np.float32(15.0) - np.float32(6.0) * x))
                        dsw = x2 * (np.float32(-30.0) + x * (np.float32(60.0) - np.float32(30.0) * x)) * inv_sw
                        flj = flj * sw - elj * dsw * inv_r
                        elj *= sw
                if mode == MODE_RF:
                    ec = qq * (inv_r + krff * r2 - crff)
                    fc = qq * (inv_r * inv_r2 - np.float32(2.0) * krff)
                elif mode == MODE_EWALD:
                    ar = alphaf * r2 * inv_r
                    erfc_ar = math.erfc(ar)
                    ec = qq * erfc_ar * inv_r
                    fc = qq * (erfc_ar * inv_r + alphaf * c2sp * math.exp(-ar * ar)) * inv_r2
                else:
                    ec = qq * inv_r
                    fc = qq * inv_r * inv_r2
            e_c += np.float64(inside * ec)
            e_lj += np.float64(inside * elj)
            fs = np.float64(inside * (flj + fc))
            fxi -= fs * dx
            fyi -= fs * dy
            fzi -= fs * dz
            f_out[j, 0] += fs * dx
            f_out[j, 1] += fs * dy
            f_out[j, 2] += fs * dz
        f_out[i, 0] += fxi
        f_out[i, 1] += fyi
        f_out[i, 2] += fzi
    return e_c, e_lj, npairs


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_nocutoff32(pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out):
    return _nb_loop32(MODE_NOCUTOFF, pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out)


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_rf32(pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out):
    return _nb_loop32(MODE_RF, pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out)


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_ewald32(pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out):
    return _nb_loop32(MODE_EWALD, pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out)


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def nb_cg32(pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out):
    return _nb_loop32(MODE_CG, pos, ilist, jptr, jlist, ishift, qs, sh, se, rc2, krf, crf, alpha, use_switch, rs, rc, f_out)


NB_KERNELS_MIXED = {MODE_NOCUTOFF: "nb_nocutoff32", MODE_RF: "nb_rf32", MODE_EWALD: "nb_ewald32", MODE_CG: "nb_cg32"}


@njit(cache=True, nogil=True)
def cell_bounds(xs, ys, zs, cell_start):
    """Bounding box (lo, hi) of the atoms of every cell (empty cells get an inverted box)."""
    nc = cell_start.shape[0] - 1
    lo = np.full((nc, 3), 1e30)
    hi = np.full((nc, 3), -1e30)
    for c in range(nc):
        for k in range(cell_start[c], cell_start[c + 1]):
            lo[c, 0] = min(lo[c, 0], xs[k])
            lo[c, 1] = min(lo[c, 1], ys[k])
            lo[c, 2] = min(lo[c, 2], zs[k])
            hi[c, 0] = max(hi[c, 0], xs[k])
            hi[c, 1] = max(hi[c, 1], ys[k])
            hi[c, 2] = max(hi[c, 2], zs[k])
    return lo, hi


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


@njit(cache=True, nogil=True)
def reduce_buffers(bufs, nb_bufs, order, out):
    """out = sum of the per-worker buffers (atom order) plus the per-worker non-bonded buffers
    (cell order, entry k belongs to atom order[k]); all buffers are zeroed for the next step."""
    nw = bufs.shape[0]
    for i in range(out.shape[0]):
        for d in range(3):
            s = 0.0
            for w in range(nw):
                s += bufs[w, i, d]
                bufs[w, i, d] = 0.0
            out[i, d] = s
    if nb_bufs.shape[1] == out.shape[0]:
        for k in range(out.shape[0]):
            i = order[k]
            for d in range(3):
                s = 0.0
                for w in range(nw):
                    s += nb_bufs[w, k, d]
                    nb_bufs[w, k, d] = 0.0
                out[i, d] += s
