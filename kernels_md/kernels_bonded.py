"""Numba kernels of the bond engine: harmonic bonds and angles, periodic and Ryckaert-Bellemans
torsions, non-bonded exceptions (scaled 1-4 pairs) with the Ewald exclusion correction, and the
12-10 native contacts of the coarse-grained Go model.  Each kernel takes a slice of terms (one
task), adds forces to a per-worker float64 buffer and returns its energy.  Functional forms follow
OpenMM's documented ones so energies match the Reference platform."""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _delta(pos, i, j, box, periodic):
    dx = pos[j, 0] - pos[i, 0]
    dy = pos[j, 1] - pos[i, 1]
    dz = pos[j, 2] - pos[i, 2]
    if periodic:
        dx -= box[0] * math.floor(dx / box[0] + 0.5)
        dy -= box[1] * math.floor(dy / box[1] + 0.5)
        dz -= box[2] * math.floor(dz / box[2] + 0.5)
    return dx, dy, dz


@njit(cache=True, nogil=True)
def bonds(pos, box, periodic, idx, prm, f_out):
    """E = k/2 (r - r0)^2; prm[:, 0] = r0, prm[:, 1] = k."""
    e = 0.0
    for t in range(idx.shape[0]):
        i, j = idx[t, 0], idx[t, 1]
        dx, dy, dz = _delta(pos, i, j, box, periodic)
        r = math.sqrt(dx * dx + dy * dy + dz * dz)
        dr = r - prm[t, 0]
        e += 0.5 * prm[t, 1] * dr * dr
        fs = -prm[t, 1] * dr / r if r > 0.0 else 0.0  # force on j along d
        f_out[j, 0] += fs * dx
        f_out[j, 1] += fs * dy
        f_out[j, 2] += fs * dz
        f_out[i, 0] -= fs * dx
        f_out[i, 1] -= fs * dy
        f_out[i, 2] -= fs * dz
    return e


@njit(cache=True, nogil=True)
def angles(pos, box, periodic, idx, prm, f_out):
    """E = k/2 (theta - theta0)^2; prm[:, 0] = theta0, prm[:, 1] = k."""
    e = 0.0
    for t in range(idx.shape[0]):
        i, j, k = idx[t, 0], idx[t, 1], idx[t, 2]
        ax, ay, az = _delta(pos, j, i, box, periodic)  # a = x_i - x_j
        bx, by, bz = _delta(pos, j, k, box, periodic)  # b = x_k - x_j
        ra = math.sqrt(ax * ax + ay * ay + az * az)
        rb = math.sqrt(bx * bx + by * by + bz * bz)
        ax, ay, az = ax / ra, ay / ra, az / ra
        bx, by, bz = bx / rb, by / rb, bz / rb
        c = ax * bx + ay * by + az * bz
        if c > 1.0:
            c = 1.0
        elif c < -1.0:
            c = -1.0
        theta = math.acos(c)
        d = theta - prm[t, 0]
        e += 0.5 * prm[t, 1] * d * d
        s = math.sqrt(max(1.0 - c * c, 1e-24))
        de = prm[t, 1] * d
        # dtheta/dx_i = -(b - c a)/(ra s); dtheta/dx_k = -(a - c b)/(rb s); F = -dE/dtheta * grad
        gi = de / (ra * s)
        gk = de / (rb * s)
        fix = gi * (bx - c * ax)
        fiy = gi * (by - c * ay)
        fiz = gi * (bz - c * az)
        fkx = gk * (ax - c * bx)
        fky = gk * (ay - c * by)
        fkz = gk * (az - c * bz)
        f_out[i, 0] += fix
        f_out[i, 1] += fiy
        f_out[i, 2] += fiz
        f_out[k, 0] += fkx
        f_out[k, 1] += fky
        f_out[k, 2] += fkz
        f_out[j, 0] -= fix + fkx
        f_out[j, 1] -= fiy + fky
        f_out[j, 2] -= fiz + fkz
    return e


@njit(cache=True, nogil=True)
def torsions(pos, box, periodic, idx, prm, rb, f_out):
    """Periodic torsions E = k (1 + cos(n phi - phi0)) with prm = (k, n, phi0), or, when rb is
    True, Ryckaert-Bellemans E = sum_n C_n cos(psi)^n, psi = phi - pi, with prm = (C0..C5)."""
    e = 0.0
    for t in range(idx.shape[0]):
        i0, i1, i2, i3 = idx[t, 0], idx[t, 1], idx[t, 2], idx[t, 3]
        b1x, b1y, b1z = _delta(pos, i0, i1, box, periodic)
        b2x, b2y, b2z = _delta(pos, i1, i2, box, periodic)
        b3x, b3y, b3z = _delta(pos, i2, i3, box, periodic)
        # n1 = b1 x b2, n2 = b2 x b3
        n1x = b1y * b2z - b1z * b2y
        n1y = b1z * b2x - b1x * b2z
        n1z = b1x * b2y - b1y * b2x
        n2x = b2y * b3z - b2z * b3y
        n2y = b2z * b3x - b2x * b3z
        n2z = b2x * b3y - b2y * b3x
        nb2 = math.sqrt(b2x * b2x + b2y * b2y + b2z * b2z)
        n1sq = n1x * n1x + n1y * n1y + n1z * n1z
        n2sq = n2x * n2x + n2y * n2y + n2z * n2z
        if n1sq < 1e-30 or n2sq < 1e-30:
            continue
        y = nb2 * (b1x * n2x + b1y * n2y + b1z * n2z)
        x = n1x * n2x + n1y * n2y + n1z * n2z
        phi = math.atan2(y, x)
        if rb:
            cpsi = -math.cos(phi)
            cp = 1.0
            dedc = 0.0
            et = prm[t, 0]
            for n in range(1, 6):
                dedc += n * prm[t, n] * cp
                cp *= cpsi
                et += prm[t, n] * cp
            e += et
            dedphi = dedc * math.sin(phi)  # d cos(psi)/d phi = sin(phi)
        else:
            kk, nn, ph0 = prm[t, 0], prm[t, 1], prm[t, 2]
            arg = nn * phi - ph0
            e += kk * (1.0 + math.cos(arg))
            dedphi = -kk * nn * math.sin(arg)
        # gradient of phi (Blondel & Karplus)
        g0 = -nb2 / n1sq
        g3 = nb2 / n2sq
        g0x, g0y, g0z = g0 * n1x, g0 * n1y, g0 * n1z
        g3x, g3y, g3z = g3 * n2x, g3 * n2y, g3 * n2z
        b22 = nb2 * nb2
        p = -(b1x * b2x + b1y * b2y + b1z * b2z) / b22
        q = -(b3x * b2x + b3y * b2y + b3z * b2z) / b22
        g1x = (p - 1.0) * g0x - q * g3x
        g1y = (p - 1.0) * g0y - q * g3y
        g1z = (p - 1.0) * g0z - q * g3z
        g2x = (q - 1.0) * g3x - p * g0x
        g2y = (q - 1.0) * g3y - p * g0y
        g2z = (q - 1.0) * g3z - p * g0z
        f_out[i0, 0] -= dedphi * g0x
        f_out[i0, 1] -= dedphi * g0y
        f_out[i0, 2] -= dedphi * g0z
        f_out[i1, 0] -= dedphi * g1x
        f_out[i1, 1] -= dedphi * g1y
        f_out[i1, 2] -= dedphi * g1z
        f_out[i2, 0] -= dedphi * g2x
        f_out[i2, 1] -= dedphi * g2y
        f_out[i2, 2] -= dedphi * g2z
        f_out[i3, 0] -= dedphi * g3x
        f_out[i3, 1] -= dedphi * g3y
        f_out[i3, 2] -= dedphi * g3z
    return e


@njit(cache=True, nogil=True)
def exceptions(pos, box, periodic, idx, prm, alpha, f_out):
    """NonbondedForce exceptions: plain Coulomb + LJ with the exception's own parameters, no cutoff,
    plus (alpha > 0) the Ewald exclusion correction -q_i q_j erf(alpha r)/r that removes what
    reciprocal space added for the pair.  prm = (qq_exc*K, sigma, epsilon, q_i q_j*K)."""
    e = 0.0
    two_over_sqrtpi = 2.0 / math.sqrt(math.pi)
    for t in range(idx.shape[0]):
        i, j = idx[t, 0], idx[t, 1]
        dx, dy, dz = _delta(pos, i, j, box, periodic)
        r2 = dx * dx + dy * dy + dz * dz
        qq, sig, eps, qfull = prm[t, 0], prm[t, 1], prm[t, 2], prm[t, 3]
        if r2 == 0.0:
            # coincident pair (e.g. a virtual site on its parent): OpenMM's finite limit of the
            # Ewald correction, -q_i q_j k 2 alpha / sqrt(pi), and no force
            if alpha > 0.0:
                e -= qfull * alpha * two_over_sqrtpi
            continue
        inv_r2 = 1.0 / r2
        inv_r = math.sqrt(inv_r2)
        fs = 0.0
        if qq != 0.0:
            e += qq * inv_r
            fs += qq * inv_r * inv_r2
        if eps != 0.0:
            s2 = sig * sig * inv_r2
            s6 = s2 * s2 * s2
            e += 4.0 * eps * (s6 * s6 - s6)
            fs += eps * (48.0 * s6 * s6 - 24.0 * s6) * inv_r2
        if alpha > 0.0 and qfull != 0.0:
            r = r2 * inv_r
            ar = alpha * r
            erf_ar = math.erf(ar)
            e -= qfull * erf_ar * inv_r
            fs -= qfull * (erf_ar * inv_r - alpha * two_over_sqrtpi * math.exp(-ar * ar)) * inv_r2
        f_out[j, 0] += fs * dx
        f_out[j, 1] += fs * dy
        f_out[j, 2] += fs * dz
        f_out[i, 0] -= fs * dx
        f_out[i, 1] -= fs * dy
        f_out[i, 2] -= fs * dz
    return e


@njit(cache=True, nogil=True)
def contacts_1210(pos, box, periodic, idx, prm, f_out):
    """Go-model native contacts E = eps (5 (r0/r)^12 - 6 (r0/r)^10); prm = (eps, r0)."""
    e = 0.0
    for t in range(idx.shape[0]):
        i, j = idx[t, 0], idx[t, 1]
        dx, dy, dz = _delta(pos, i, j, box, periodic)
        r2 = dx * dx + dy * dy + dz * dz
        inv_r2 = 1.0 / r2
        eps, r0 = prm[t, 0], prm[t, 1]
        s2 = r0 * r0 * inv_r2
        s10 = s2 * s2 * s2 * s2 * s2
        s12 = s10 * s2
        e += eps * (5.0 * s12 - 6.0 * s10)
        fs = eps * 60.0 * (s12 - s10) * inv_r2
        f_out[j, 0] += fs * dx
        f_out[j, 1] += fs * dy
        f_out[j, 2] += fs * dz
        f_out[i, 0] -= fs * dx
        f_out[i, 1] -= fs * dy
        f_out[i, 2] -= fs * dz
    return e


@njit(cache=True, nogil=True, inline="always")
def _dihedral_and_gradient(pos, i0, i1, i2, i3, box, periodic):
    """phi (same convention as torsions()) and d phi / d x for the four atoms (12 numbers)."""
    b1x, b1y, b1z = _delta(pos, i0, i1, box, periodic)
    b2x, b2y, b2z = _delta(pos, i1, i2, box, periodic)
    b3x, b3y, b3z = _delta(pos, i2, i3, box, periodic)
    n1x = b1y * b2z - b1z * b2y
    n1y = b1z * b2x - b1x * b2z
    n1z = b1x * b2y - b1y * b2x
    n2x = b2y * b3z - b2z * b3y
    n2y = b2z * b3x - b2x * b3z
    n2z = b2x * b3y - b2y * b3x
    nb2 = math.sqrt(b2x * b2x + b2y * b2y + b2z * b2z)
    n1sq = max(n1x * n1x + n1y * n1y + n1z * n1z, 1e-30)
    n2sq = max(n2x * n2x + n2y * n2y + n2z * n2z, 1e-30)
    phi = math.atan2(nb2 * (b1x * n2x + b1y * n2y + b1z * n2z), n1x * n2x + n1y * n2y + n1z * n2z)
    g0 = -nb2 / n1sq
    g3 = nb2 / n2sq
    g0x, g0y, g0z = g0 * n1x, g0 * n1y, g0 * n1z
    g3x, g3y, g3z = g3 * n2x, g3 * n2y, g3 * n2z
    b22 = nb2 * nb2
    p = -(b1x * b2x + b1y * b2y + b1z * b2z) / b22
    q = -(b3x * b2x + b3y * b2y + b3z * b2z) / b22
    return (
        phi,
        g0x,
        g0y,
        g0z,
        (p - 1.0) * g0x - q * g3x,
        (p - 1.0) * g0y - q * g3y,
        (p - 1.0) * g0z - q * g3z,
        (q - 1.0) * g3x - p * g0x,
        (q - 1.0) * g3y - p * g0y,
        (q - 1.0) * g3z - p * g0z,
        g3x,
        g3y,
        g3z,
    )


@njit(cache=True, nogil=True)
def cmap(pos, box, periodic, idx, prm, coeff, map_offset, map_size, f_out):
    """CMAP torsion pairs: bicubic patches over (phi, psi) in [0, 2 pi)^2 (angles taken modulo
    2 pi); idx = 8 atoms, prm[:, 0] = map index; coeff[patch, k, l] multiplies a^k b^l in the
    patch's unit square."""
    e = 0.0
    two_pi = 2.0 * math.pi
    for t in range(idx.shape[0]):
        m = int(prm[t, 0])
        size = map_size[m]
        delta = two_pi / size
        ra = _dihedral_and_gradient(pos, idx[t, 0], idx[t, 1], idx[t, 2], idx[t, 3], box, periodic)
        rb = _dihedral_and_gradient(pos, idx[t, 4], idx[t, 5], idx[t, 6], idx[t, 7], box, periodic)
        a = ra[0] % two_pi
        b = rb[0] % two_pi
        s = min(int(a / delta), size - 1)
        u = min(int(b / delta), size - 1)
        da = a / delta - s
        db = b / delta - u
        c = coeff[map_offset[m] + s + size * u]
        en = 0.0
        dea = 0.0
        deb = 0.0
        for k in range(3, -1, -1):
            row = ((c[k, 3] * db + c[k, 2]) * db + c[k, 1]) * db + c[k, 0]
            drow = (3.0 * c[k, 3] * db + 2.0 * c[k, 2]) * db + c[k, 1]
            en = en * da + row
            deb = deb * da + drow
        for k in range(3, 0, -1):
            row = ((c[k, 3] * db + c[k, 2]) * db + c[k, 1]) * db + c[k, 0]
            dea = dea * da + k * row
        dea /= delta
        deb /= delta
        e += en
        for n in range(4):
            ia = idx[t, n]
            ib = idx[t, 4 + n]
            for d in range(3):
                f_out[ia, d] -= dea * ra[1 + 3 * n + d]
                f_out[ib, d] -= deb * rb[1 + 3 * n + d]
    return e
