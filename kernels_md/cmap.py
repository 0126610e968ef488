"""CMAP support for the bond engine: turn a CMAPTorsionForce's energy grids into bicubic patch
coefficients exactly as OpenMM defines the interpolant (grid node (i, j) at phi = i*2pi/size,
psi = j*2pi/size; first derivatives and the cross derivative at the nodes from periodic cubic
splines; a bicubic Hermite patch per grid cell).  The interpolant is unique, so energies and forces
agree with OpenMM's to round-off."""

from __future__ import annotations

import math

import numpy as np


def _hermite_inverse():
    """Matrix that maps the 16 corner data of a unit patch (values, d/da, d/db, d2/dadb at
    corners (0,0), (1,0), (1,1), (0,1)) to the coefficients C[k, l] of sum C[k,l] a^k b^l."""
    corners = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    rows = []
    for kind in range(4):
        for a, b in corners:
            row = np.zeros(16)
            for k in range(4):
                for m in range(4):
                    if kind == 0:
                        v = a**k * b**m
                    elif kind == 1:
                        v = k * a ** max(k - 1, 0) * b**m if k else 0.0
                    elif kind == 2:
                        v = m * b ** max(m - 1, 0) * a**k if m else 0.0
                    else:
                        v = k * m * a ** max(k - 1, 0) * b ** max(m - 1, 0) if k and m else 0.0
                    row[4 * k + m] = v
            rows.append(row)
    return np.linalg.inv(np.array(rows))


def periodic_spline_slopes(y: np.ndarray, h: float) -> np.ndarray:
    """First derivatives at the nodes of the periodic cubic spline through y (along axis 0,
    uniform spacing h): solve the cyclic system M[i-1] + 4 M[i] + M[i+1] = 6 (y[i+1] - 2 y[i] +
    y[i-1]) / h^2 for the second derivatives, then y'[i] = (y[i+1] - y[i])/h - h (2 M[i] + M[i+1])/6."""
    n = y.shape[0]
    a = 4.0 * np.eye(n) + np.roll(np.eye(n), 1, axis=1) + np.roll(np.eye(n), -1, axis=1)
    if n == 2:
        a = np.array([[4.0, 2.0], [2.0, 4.0]])
    yp, ym = np.roll(y, -1, axis=0), np.roll(y, 1, axis=0)
    m = np.linalg.solve(a, 6.0 * (yp - 2.0 * y + ym) / (h * h))
    return (yp - y) / h - h * (2.0 * m + np.roll(m, -1, axis=0)) / 6.0


def map_coefficients(size: int, energy) -> np.ndarray:
    """(size*size, 4, 4) patch coefficients for one map; patch index s + size*t."""
    e = np.asarray(energy, np.float64).reshape(size, size).T  # e[i, j]: phi index i, psi index j
    h = 2 * math.pi / size

    def dspline(values, axis):
        return np.moveaxis(periodic_spline_slopes(np.moveaxis(values, axis, 0), h), 0, axis)

    d1 = dspline(e, 0)
    d2 = dspline(e, 1)
    d12 = dspline(d2, 0)
    delta = 2 * math.pi / size
    inv = _hermite_inverse()
    i = np.arange(size)[:, None]
    j = np.arange(size)[None, :]
    ni, nj = (i + 1) % size, (j + 1) % size
    corners = [(i, j), (ni, j), (ni, nj), (i, nj)]
    rhs = np.zeros((size, size, 16))
    for c, (ci, cj) in enumerate(corners):
        rhs[:, :, c] = e[ci, cj]
        rhs[:, :, 4 + c] = d1[ci, cj] * delta
        rhs[:, :, 8 + c] = d2[ci, cj] * delta
        rhs[:, :, 12 + c] = d12[ci, cj] * delta * delta
    coef = rhs @ inv.T  # (size_i, size_j, 16)
    # patch index s + size*t with s the phi cell, t the psi cell
    return np.ascontiguousarray(coef.transpose(1, 0, 2).reshape(size * size, 4, 4))


def cmap_terms(force):
    """(idx (n, 8) int32, prm (n, 1), coeff, map_offset, map_size) for a CMAPTorsionForce."""
    coeffs, offsets, sizes = [], [], []
    off = 0
    for m in range(force.getNumMaps()):
        size, energy = force.getMapParameters(m)
        energy = [v._value if hasattr(v, "_value") else v for v in energy]
        coeffs.append(map_coefficients(size, energy))
        offsets.append(off)
        sizes.append(size)
        off += size * size
    n = force.getNumTorsions()
    idx = np.zeros((n, 8), np.int32)
    prm = np.zeros((n, 1))
    for t in range(n):
        m, *atoms = force.getTorsionParameters(t)
        idx[t] = atoms
        prm[t, 0] = m
    coeff = np.concatenate(coeffs) if coeffs else np.zeros((0, 4, 4))
    return idx, prm, coeff, np.array(offsets, np.int64), np.array(sizes, np.int64)
