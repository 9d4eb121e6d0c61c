"""The calibration part of a design's variance: the influence values replaced by their residuals from the
calibration model that made the weights (R's ``qr.resid`` in ``svyrecvar`` with ``postStrata``).

For a calibration with model matrix ``X`` (n × p), base weights ``d`` and factors ``g``, the residual of the
influence ``z`` is ``z - (w ∘ X) B`` with ``B = (X' D X)⁺ (X / g)' z``; several calibrations, applied in turn,
each take the earlier ones' fitted parts out of their right-hand side. Everything but ``z`` belongs to the
design, so it is computed once per design (a national fieldwork's estimates ask for it once per criterion and
used to rebuild it every time).

The pseudo-inverse of ``X' D X`` is taken block by block: a calibration within units (post-strata or margins
crossed with the unit, as the service weights) has a Gram matrix that falls apart into one block per unit, and
the pseudo-inverse of such a matrix is the block-diagonal of its blocks' pseudo-inverses. Kept sparse, ``B`` then
has exact zeros wherever an estimate's domain and a calibration block do not meet, so that the fitted part
``(w ∘ X) B`` is as sparse as the influence values instead of an n × k dense block (a million rows by 63
provinces).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components


def block_pseudo_inverse(gram: sparse.spmatrix) -> sparse.csr_matrix:
    """The pseudo-inverse of a symmetric matrix, computed over the blocks its zeros separate.

    Singular values are cut at ``p · eps`` times the largest of the whole matrix (not of each block), the
    tolerance of ``np.linalg.matrix_rank``: a model of every margin's dummies has exact linear dependencies
    (each margin's dummies add up to the same intercept), whose singular values are zero but for rounding, and
    numpy's ``pinv`` default (``1e-15``) could keep one of those and blow the residuals up.
    """
    gram = sparse.csr_matrix(gram)
    size = gram.shape[0]
    if size == 0:
        return sparse.csr_matrix((0, 0))
    count, block_of = connected_components(gram, directed=False)
    blocks = []
    for block in range(count):
        members = np.flatnonzero(block_of == block)
        left, singular, right = np.linalg.svd(gram[members][:, members].toarray())
        blocks.append((members, left, singular, right))
    largest = max(float(singular[0]) if singular.size else 0.0 for _, _, singular, _ in blocks)
    cutoff = size * np.finfo(float).eps * largest
    rows, columns, values = [], [], []
    for members, left, singular, right in blocks:
        kept = singular > cutoff
        inverse = (right[kept].T / singular[kept]) @ left[:, kept].T
        rows.append(np.repeat(members, len(members)))
        columns.append(np.tile(members, len(members)))
        values.append(inverse.ravel())
    result = sparse.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))), shape=(size, size)
    )
    result.eliminate_zeros()
    return result


@dataclass(frozen=True)
class _Adjustment:
    """One calibration's part of the residuals that does not depend on the influence values."""

    weighted_model: sparse.csr_matrix  # w ∘ X, n × p
    model_over_factors: sparse.csr_matrix  # (X / g)', p × n
    inverse_gram: sparse.csr_matrix  # (X' D X)⁺, p × p
    crosses: tuple[sparse.csr_matrix, ...]  # X' ((w ∘ X_e) / g) for each earlier calibration e


class CalibrationResiduals:
    """The calibrations of a design, ready to give the terms of any influence values' residuals."""

    def __init__(self, calibrations) -> None:
        adjustments: list[_Adjustment] = []
        for calibration in calibrations:
            model = sparse.csr_matrix(calibration.model_matrix)
            d, g = calibration.base_weights, calibration.factors
            over_g = 1 / np.where(g != 0, g, 1.0)
            weighted_model = model.multiply((g * d)[:, None]).tocsr()
            gram = model.T @ model.multiply(d[:, None])
            crosses = tuple(
                (model.T @ earlier.weighted_model.multiply(over_g[:, None])).tocsr() for earlier in adjustments
            )
            adjustments.append(
                _Adjustment(
                    weighted_model,
                    model.multiply(over_g[:, None]).T.tocsr(),
                    block_pseudo_inverse(gram),
                    crosses,
                )
            )
        self.adjustments = adjustments

    def terms(self, influence: sparse.spmatrix) -> list[tuple[sparse.csr_matrix, sparse.csr_matrix]]:
        """For every calibration, ``w ∘ X`` and the coefficients ``B`` (sparse, p × k) such that the residual
        influence is ``influence - Σ (w ∘ X) B``."""
        terms: list[tuple[sparse.csr_matrix, sparse.csr_matrix]] = []
        for adjustment in self.adjustments:
            right = sparse.csr_matrix(adjustment.model_over_factors @ influence)
            for cross, (_, earlier_coefficients) in zip(adjustment.crosses, terms):
                right = right - cross @ earlier_coefficients
            coefficients = sparse.csr_matrix(adjustment.inverse_gram @ right)
            coefficients.eliminate_zeros()
            terms.append((adjustment.weighted_model, coefficients))
        return terms
