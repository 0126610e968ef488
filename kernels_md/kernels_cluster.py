"""Cluster-pair kernels (after GROMACS' nbnxm 4xN scheme): the i side is a *cluster* of 4 consecutive
atoms of a column (sorted by z), the j side a contiguous run of sorted atoms (a column's z-window
for the whole cluster).  The j loop is vectorised (structure-of-arrays loads, unit stride, no
branch); each j atom's data is loaded once and its force stored once for 4 pair interactions, and
the per-range set-up (image shift, loop entry, overlap test) is paid once per cluster instead of
once per atom.

Exclusions: a per-worker (4, n) mask; before the ranges of a cluster run, the entries of each member's
excluded partners are zeroed in that member's row (O(1) per exclusion), and restored afterwards.
Within the home column (range marked with shift id 27), member c only pairs with sorted indices
> its own, so each pair is computed once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kernels_nb import (
    MODE_CG,
    MODE_EWALD,
    MODE_NOCUTOFF,
    MODE_RF,
    _lower_bound,
    erfc_r32,
    erfc_r64,
    exp_neg32,
    exp_neg64,
)

HOME = 27  # shift id of a cluster's own column, own image
CL = 4


@njit(cache=True, nogil=True)
def build_cluster_ranges(xs, ys, zs, col_start, home_cols, offs, ncx, ncy, wx, wy, origin, box, periodic, rlist2):
    """Clusters of 4 consecutive atoms of the home columns and, per cluster, the runs [j0, j1) of each
    half-shell neighbour column within sqrt(rlist2) of the cluster's bounding box, with shift ids
    (sx+1)*9+(sy+1)*3+(sz+1), or HOME for the cluster's own column and image.
    Returns (cl_i0, cl_n, rptr, rj0, rj1, rsh)."""
    ncl = 0
    for h in range(home_cols.shape[0]):
        c = home_cols[h]
        ncl += (col_start[c + 1] - col_start[c] + CL - 1) // CL
    cl_i0 = np.empty(ncl, np.int64)
    cl_n = np.empty(ncl, np.int64)
    rptr = np.zeros(ncl + 1, np.int64)
    cap = ncl * 24 + 64
    rj0 = np.empty(cap, np.uint32)
    rj1 = np.empty(cap, np.uint32)
    rsh = np.empty(cap, np.int8)
    k = 0
    nr = 0
    lz = box[2]
    for h in range(home_cols.shape[0]):
        c = home_cols[h]
        cx = c // ncy
        cy = c - cx * ncy
        for i0 in range(col_start[c], col_start[c + 1], CL):
            cnt = min(CL, col_start[c + 1] - i0)
            xmin = xs[i0]
            xmax = xs[i0]
            ymin = ys[i0]
            ymax = ys[i0]
            zmin = zs[i0]
            zmax = zs[i0]
            for q in range(i0 + 1, i0 + cnt):
                xmin = min(xmin, xs[q])
                xmax = max(xmax, xs[q])
                ymin = min(ymin, ys[q])
                ymax = max(ymax, ys[q])
                zmin = min(zmin, zs[q])
                zmax = max(zmax, zs[q])
            for o in range(offs.shape[0]):
                ox, oy = offs[o, 0], offs[o, 1]
                nx_ = cx + ox
                ny_ = cy + oy
                if periodic:
                    sx = nx_ // ncx
                    sy = ny_ // ncy
                    col = (nx_ - sx * ncx) * ncy + (ny_ - sy * ncy)
                else:
                    if nx_ < 0 or nx_ >= ncx or ny_ < 0 or ny_ >= ncy:
                        continue
                    sx = 0
                    sy = 0
                    col = nx_ * ncy + ny_
                c0 = col_start[col]
                c1 = col_start[col + 1]
                if c1 == c0:
                    continue
                x0 = origin[0] + nx_ * wx
                y0 = origin[1] + ny_ * wy
                gx = max(0.0, x0 - xmax, xmin - (x0 + wx))
                gy = max(0.0, y0 - ymax, ymin - (y0 + wy))
                d2 = gx * gx + gy * gy
                if d2 >= rlist2:
                    continue
                hz = math.sqrt(rlist2 - d2)
                for sz in range(-1, 2):
                    if sz != 0 and not periodic:
                        continue
                    home = ox == 0 and oy == 0 and sz == 0
                    if ox == 0 and oy == 0 and sz < 0:
                        continue
                    a = zmin - hz - sz * lz
                    b = zmax + hz - sz * lz
                    if sz != 0 and (b < zs[c0] or a > zs[c1 - 1]):
                        continue
                    j0 = _lower_bound(zs, c0, c1, a)
                    j1 = _lower_bound(zs, j0, c1, b)
                    if home:
                        j0 = max(j0, i0 + 1)
                    if j1 > j0:
                        if nr == cap:
                            cap *= 2
                            t0 = np.empty(cap, np.uint32)
                            t0[:nr] = rj0[:nr]
                            rj0 = t0
                            t1 = np.empty(cap, np.uint32)
                            t1[:nr] = rj1[:nr]
                            rj1 = t1
                            t2 = np.empty(cap, np.int8)
                            t2[:nr] = rsh[:nr]
                            rsh = t2
                        rj0[nr] = j0
                        rj1[nr] = j1
                        rsh[nr] = HOME if home else (sx + 1) * 9 + (sy + 1) * 3 + (sz + 1)
                        nr += 1
            cl_i0[k] = i0
            cl_n[k] = cnt
            k += 1
            rptr[k] = nr
    return cl_i0, cl_n, rptr, rj0[:nr].copy(), rj1[:nr].copy(), rsh[:nr].copy()


@njit(cache=True, nogil=True)
def build_cluster_ranges_all(n, i0, i1):
    """No cutoff: clusters of 4 of [i0, i1), each paired with every later atom (one home range)."""
    ncl = (i1 - i0 + CL - 1) // CL
    cl_i0 = np.empty(ncl, np.int64)
    cl_n = np.empty(ncl, np.int64)
    rptr = np.arange(ncl + 1).astype(np.int64)
    rj0 = np.empty(ncl, np.uint32)
    rj1 = np.full(ncl, n, np.uint32)
    rsh = np.full(ncl, HOME, np.int8)
    for k in range(ncl):
        a = i0 + CL * k
        cl_i0[k] = a
        cl_n[k] = min(CL, i1 - a)
        rj0[k] = a + 1
    return cl_i0, cl_n, rptr, rj0, rj1, rsh


@njit(nogil=True, inline="always", fastmath=True)
def _pair64(
    mode, dx, dy, dz, m, qi, shi, sei, qj, shj, sej, rc2, krf, crf, alpha, alpha2, c2sp, use_switch, rs, inv_sw
):
    """(coulomb energy, LJ energy, force scalar (force on j = fs * d), counted) of one pair, masked."""
    r2 = dx * dx + dy * dy + dz * dz
    if mode == MODE_NOCUTOFF:
        inside = m
    else:
        inside = m if r2 < rc2 else 0.0
    r2 = r2 + (1.0 - m)  # excluded / absent pairs may coincide: keep 1/r finite (masked anyway)
    inv_r2 = 1.0 / r2
    inv_r = math.sqrt(inv_r2)
    qq = qi * qj
    eps = sei * sej
    sig = shi + shj
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
            fc = qq * (erfc_ar * inv_r + c2sp * ex) * inv_r2
        else:
            ec = qq * inv_r
            fc = qq * inv_r * inv_r2
    return inside * ec, inside * elj, inside * (flj + fc), 1 if inside > 0.0 else 0


@njit(nogil=True, inline="always", fastmath=True)
def _pair32(
    mode, dx, dy, dz, m, qi, shi, sei, qj, shj, sej, rc2, krf, crf, alpha, alpha2, c2sp, use_switch, rs, inv_sw
):
    """float32 arithmetic version of _pair64 (inputs: float64 displacements; parameters float32)."""
    f0 = np.float32(0.0)
    f1 = np.float32(1.0)
    dxf = np.float32(dx)
    dyf = np.float32(dy)
    dzf = np.float32(dz)
    r2 = dxf * dxf + dyf * dyf + dzf * dzf
    if mode == MODE_NOCUTOFF:
        inside = m
    else:
        inside = m if r2 < rc2 else f0
    r2 = r2 + (f1 - m)
    inv_r2 = f1 / r2
    inv_r = math.sqrt(inv_r2)
    qq = qi * np.float32(qj)
    eps = sei * np.float32(sej)
    sig = shi + np.float32(shj)
    s2 = sig * sig * inv_r2
    s6 = s2 * s2 * s2
    if mode == MODE_CG:
        rr = r2 * inv_r
        s12 = s6 * s6
        elj = eps * s12
        flj = np.float32(12.0) * eps * s12 * inv_r2
        ex = crf * qq * exp_neg32(krf * rr) * inv_r
        ec = ex
        fc = ex * (f1 + krf * rr) * inv_r2
    else:
        elj = np.float32(4.0) * eps * (s6 * s6 - s6)
        flj = eps * (np.float32(48.0) * s6 * s6 - np.float32(24.0) * s6) * inv_r2
        if use_switch:
            rr = r2 * inv_r
            x = max(rr - rs, f0) * inv_sw
            x2 = x * x
            x3 = x2 * x
            sw = f1 + x3 * (np.float32(-10.0) + x * (np.float32(15.0) - np.float32(6.0) * x))
            dsw = x2 * (np.float32(-30.0) + x * (np.float32(60.0) - np.float32(30.0) * x)) * inv_sw
            flj = flj * sw - elj * dsw * inv_r
            elj = elj * sw
        if mode == MODE_RF:
            ec = qq * (inv_r + krf * r2 - crf)
            fc = qq * (inv_r * inv_r2 - np.float32(2.0) * krf)
        elif mode == MODE_EWALD:
            rr = r2 * inv_r
            ex = exp_neg32(alpha2 * r2)
            erfc_ar = ex * erfc_r32(alpha * rr)
            ec = qq * erfc_ar * inv_r
            fc = qq * (erfc_ar * inv_r + c2sp * ex) * inv_r2
        else:
            ec = qq * inv_r
            fc = qq * inv_r * inv_r2
    return np.float64(inside * ec), np.float64(inside * elj), np.float64(inside * (flj + fc)), 1 if inside > f0 else 0


def _make_loop(pair, f32):
    """The cluster loop around a pair function (float64 or float32 arithmetic)."""

    @njit(nogil=True, inline="always", fastmath=True)
    def loop(
        mode,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        cl_i0,
        cl_n,
        rptr,
        rj0,
        rj1,
        rsh,
        shifts,
        rc2_,
        krf_,
        crf_,
        alpha_,
        use_switch,
        rs_,
        rc_,
        f,
    ):
        if f32:
            rc2 = np.float32(rc2_)
            krf = np.float32(krf_)
            crf = np.float32(crf_)
            alpha = np.float32(alpha_)
            alpha2 = np.float32(alpha_ * alpha_)
            c2sp = np.float32(alpha_ * 2.0 / math.sqrt(math.pi))
            rs = np.float32(rs_)
            inv_sw = np.float32(1.0 / (rc_ - rs_)) if use_switch else np.float32(0.0)
            one = np.float32(1.0)
            zero = np.float32(0.0)
        else:
            rc2 = rc2_
            krf = krf_
            crf = crf_
            alpha = alpha_
            alpha2 = alpha_ * alpha_
            c2sp = alpha_ * 2.0 / math.sqrt(math.pi)
            rs = rs_
            inv_sw = 1.0 / (rc_ - rs_) if use_switch else 0.0
            one = 1.0
            zero = 0.0
        e_c = 0.0
        e_lj = 0.0
        npairs = 0
        for k in range(cl_i0.shape[0]):
            i0 = cl_i0[k]
            cnt = cl_n[k]
            for c in range(cnt):
                a = order[i0 + c]
                for e in range(excl_ptr[a], excl_ptr[a + 1]):
                    mask[c, inv[excl_idx[e]]] = zero
            ia = i0
            ib = i0 + min(1, cnt - 1)
            ic = i0 + min(2, cnt - 1)
            id_ = i0 + min(3, cnt - 1)
            aa = one
            ab = one if cnt > 1 else zero
            ac = one if cnt > 2 else zero
            ad = one if cnt > 3 else zero
            if f32:
                qa, sha, sea = np.float32(dat[3, ia]), np.float32(dat[4, ia]), np.float32(dat[5, ia])
                qb, shb, seb = np.float32(dat[3, ib]), np.float32(dat[4, ib]), np.float32(dat[5, ib])
                qc, shc, sec = np.float32(dat[3, ic]), np.float32(dat[4, ic]), np.float32(dat[5, ic])
                qd, shd, sed = np.float32(dat[3, id_]), np.float32(dat[4, id_]), np.float32(dat[5, id_])
            else:
                qa, sha, sea = dat[3, ia], dat[4, ia], dat[5, ia]
                qb, shb, seb = dat[3, ib], dat[4, ib], dat[5, ib]
                qc, shc, sec = dat[3, ic], dat[4, ic], dat[5, ic]
                qd, shd, sed = dat[3, id_], dat[4, id_], dat[5, id_]
            fxa = fya = fza = 0.0
            fxb = fyb = fzb = 0.0
            fxc = fyc = fzc = 0.0
            fxd = fyd = fzd = 0.0
            for r in range(rptr[k], rptr[k + 1]):
                s = rsh[r]
                home = s == HOME
                sx, sy, sz = shifts[s, 0], shifts[s, 1], shifts[s, 2]
                xa, ya, za = dat[0, ia] - sx, dat[1, ia] - sy, dat[2, ia] - sz
                xb, yb, zb = dat[0, ib] - sx, dat[1, ib] - sy, dat[2, ib] - sz
                xc, yc, zc = dat[0, ic] - sx, dat[1, ic] - sy, dat[2, ic] - sz
                xd, yd, zd = dat[0, id_] - sx, dat[1, id_] - sy, dat[2, id_] - sz
                loa = np.uint64(ia + 1) if home else np.uint64(0)
                lob = np.uint64(ib + 1) if home else np.uint64(0)
                loc = np.uint64(ic + 1) if home else np.uint64(0)
                lod = np.uint64(id_ + 1) if home else np.uint64(0)
                ec_r = 0.0
                elj_r = 0.0
                np_r = 0
                for j in range(np.uint64(rj0[r]), np.uint64(rj1[r])):
                    xj = dat[0, j]
                    yj = dat[1, j]
                    zj = dat[2, j]
                    qj = dat[3, j]
                    shj = dat[4, j]
                    sej = dat[5, j]
                    ma = mask[0, j] * aa if j >= loa else zero
                    mb = mask[1, j] * ab if j >= lob else zero
                    mc = mask[2, j] * ac if j >= loc else zero
                    md = mask[3, j] * ad if j >= lod else zero
                    dxa, dya, dza = xj - xa, yj - ya, zj - za
                    dxb, dyb, dzb = xj - xb, yj - yb, zj - zb
                    dxc, dyc, dzc = xj - xc, yj - yc, zj - zc
                    dxd, dyd, dzd = xj - xd, yj - yd, zj - zd
                    eca, elja, fsa, na = pair(
                        mode,
                        dxa,
                        dya,
                        dza,
                        ma,
                        qa,
                        sha,
                        sea,
                        qj,
                        shj,
                        sej,
                        rc2,
                        krf,
                        crf,
                        alpha,
                        alpha2,
                        c2sp,
                        use_switch,
                        rs,
                        inv_sw,
                    )
                    ecb, eljb, fsb, nb_ = pair(
                        mode,
                        dxb,
                        dyb,
                        dzb,
                        mb,
                        qb,
                        shb,
                        seb,
                        qj,
                        shj,
                        sej,
                        rc2,
                        krf,
                        crf,
                        alpha,
                        alpha2,
                        c2sp,
                        use_switch,
                        rs,
                        inv_sw,
                    )
                    ecc, eljc, fsc, nc = pair(
                        mode,
                        dxc,
                        dyc,
                        dzc,
                        mc,
                        qc,
                        shc,
                        sec,
                        qj,
                        shj,
                        sej,
                        rc2,
                        krf,
                        crf,
                        alpha,
                        alpha2,
                        c2sp,
                        use_switch,
                        rs,
                        inv_sw,
                    )
                    ecd, eljd, fsd, nd = pair(
                        mode,
                        dxd,
                        dyd,
                        dzd,
                        md,
                        qd,
                        shd,
                        sed,
                        qj,
                        shj,
                        sej,
                        rc2,
                        krf,
                        crf,
                        alpha,
                        alpha2,
                        c2sp,
                        use_switch,
                        rs,
                        inv_sw,
                    )
                    ec_r += (eca + ecb) + (ecc + ecd)
                    elj_r += (elja + eljb) + (eljc + eljd)
                    np_r += na + nb_ + nc + nd
                    fxa -= fsa * dxa
                    fya -= fsa * dya
                    fza -= fsa * dza
                    fxb -= fsb * dxb
                    fyb -= fsb * dyb
                    fzb -= fsb * dzb
                    fxc -= fsc * dxc
                    fyc -= fsc * dyc
                    fzc -= fsc * dzc
                    fxd -= fsd * dxd
                    fyd -= fsd * dyd
                    fzd -= fsd * dzd
                    f[0, j] += (fsa * dxa + fsb * dxb) + (fsc * dxc + fsd * dxd)
                    f[1, j] += (fsa * dya + fsb * dyb) + (fsc * dyc + fsd * dyd)
                    f[2, j] += (fsa * dza + fsb * dzb) + (fsc * dzc + fsd * dzd)
                e_c += ec_r
                e_lj += elj_r
                npairs += np_r
            # absent members (cnt < 4) alias the last one with zero forces: adding them is harmless
            f[0, ia] += fxa
            f[1, ia] += fya
            f[2, ia] += fza
            f[0, ib] += fxb
            f[1, ib] += fyb
            f[2, ib] += fzb
            f[0, ic] += fxc
            f[1, ic] += fyc
            f[2, ic] += fzc
            f[0, id_] += fxd
            f[1, id_] += fyd
            f[2, id_] += fzd
            for c in range(cnt):
                a = order[i0 + c]
                for e in range(excl_ptr[a], excl_ptr[a + 1]):
                    mask[c, inv[excl_idx[e]]] = one
        return e_c, e_lj, npairs

    return loop


_loop64 = _make_loop(_pair64, False)
_loop32 = _make_loop(_pair32, True)


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def cl_nocutoff(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    cl_i0,
    cl_n,
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
    return _loop64(
        MODE_NOCUTOFF,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        cl_i0,
        cl_n,
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
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def cl_nocutoff32(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    cl_i0,
    cl_n,
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
    return _loop32(
        MODE_NOCUTOFF,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        cl_i0,
        cl_n,
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
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def cl_rf(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    cl_i0,
    cl_n,
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
    return _loop64(
        MODE_RF,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        cl_i0,
        cl_n,
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
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def cl_rf32(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    cl_i0,
    cl_n,
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
    return _loop32(
        MODE_RF,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        cl_i0,
        cl_n,
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
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def cl_ewald(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    cl_i0,
    cl_n,
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
    return _loop64(
        MODE_EWALD,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        cl_i0,
        cl_n,
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
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def cl_ewald32(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    cl_i0,
    cl_n,
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
    return _loop32(
        MODE_EWALD,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        cl_i0,
        cl_n,
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
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def cl_cg(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    cl_i0,
    cl_n,
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
    return _loop64(
        MODE_CG,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        cl_i0,
        cl_n,
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
    )


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def cl_cg32(
    dat,
    order,
    inv,
    excl_ptr,
    excl_idx,
    mask,
    cl_i0,
    cl_n,
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
    return _loop32(
        MODE_CG,
        dat,
        order,
        inv,
        excl_ptr,
        excl_idx,
        mask,
        cl_i0,
        cl_n,
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
    )


CL_KERNELS = {MODE_NOCUTOFF: "cl_nocutoff", MODE_RF: "cl_rf", MODE_EWALD: "cl_ewald", MODE_CG: "cl_cg"}
CL_KERNELS_MIXED = {MODE_NOCUTOFF: "cl_nocutoff32", MODE_RF: "cl_rf32", MODE_EWALD: "cl_ewald32", MODE_CG: "cl_cg32"}
