"""Emulators for history matching: a KPI as a function of the parameters, with its uncertainty.

Inputs are points in the unit cube of the priors (each parameter's prior distribution function,
so the prior is uniform there); outputs a KPI's mean over the seeds of a parameter set. Two kinds,
each giving a mean and a variance per point (:meth:`Emulator.predict`):

``gp``  scikit-learn's ``GaussianProcessRegressor`` on the target's *active* parameters (the
        :data:`ACTIVE` with the largest rank correlation with the output, as history matching
        does with many inputs and few runs: Vernon, Goldstein and Bower's active variables): a
        constant times an anisotropic RBF kernel (one length scale per active parameter) plus
        white noise, which takes up the replicate noise and the effect of the inactive
        parameters. Its variance is the predictive variance, white noise included.
``gb``  scikit-learn's ``HistGradientBoostingRegressor``. Boosting gives no uncertainty of its
        own; its variance here is the out-of-fold mean squared error of a 5-fold cross-validation
        on the training points (one variance for every point: boosting is as uncertain inside the
        region as it is on average). Quantile boosting was not used: with a hundred or so points
        per wave its quantiles are too rough to be a variance.

:func:`compare` scores both on a held-out quarter of the training points (RMSE, R² and the share
of held-out points within two predicted standard deviations); :func:`fit_emulator` fits the
chosen kind on all points. Both train and predict on one thread (``threadpoolctl``): boosting's
OpenMP threads, spinning on a machine whose cores run the model, made a fit 50 times slower.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

KINDS: tuple[str, ...] = ("gp", "gb")
#: Active parameters of a Gaussian-process emulator (at most; fewer when there are fewer).
ACTIVE = 8


class EmulatorError(ValueError):
    """An emulator that cannot be trained as asked."""


@dataclass
class Emulator:
    """A fitted emulator: :meth:`predict` gives the mean and variance at unit-cube points."""

    kind: str
    model: Any
    y_mean: float = 0.0
    y_scale: float = 1.0
    variance: float = 0.0  # gb: the out-of-fold MSE
    active: tuple[int, ...] | None = None  # gp: the columns it uses

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with threadpool_limits(1):
            return self._predict(np.atleast_2d(np.asarray(x, dtype=float)))

    def _predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "gp":
            if self.active is not None:
                x = x[:, list(self.active)]
            mean, sd = self.model.predict(x, return_std=True)
            return self.y_mean + self.y_scale * mean, (self.y_scale * sd) ** 2
        mean = self.model.predict(x)
        return np.asarray(mean, dtype=float), np.full(len(x), self.variance)


def active_columns(x: np.ndarray, y: np.ndarray, k: int = ACTIVE) -> tuple[int, ...]:
    """The ``k`` columns of ``x`` with the largest absolute Spearman correlation with ``y``."""
    from scipy.stats import rankdata

    if x.shape[1] <= k:
        return tuple(range(x.shape[1]))
    rx = np.apply_along_axis(rankdata, 0, x)
    ry = rankdata(y)
    rx = (rx - rx.mean(0)) / (rx.std(0) + 1e-12)
    ry = (ry - ry.mean()) / (ry.std() + 1e-12)
    corr = np.abs(rx.T @ ry) / len(y)
    return tuple(sorted(int(j) for j in np.argsort(-corr, kind="stable")[:k]))


def _gp(x: np.ndarray, y: np.ndarray, seed: int) -> Emulator:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    active = active_columns(x, y)
    x = x[:, list(active)]
    mu, scale = float(np.mean(y)), float(np.std(y)) or 1.0
    kernel = ConstantKernel(1.0, (1e-2, 1e2)) * RBF(
        length_scale=np.ones(x.shape[1]), length_scale_bounds=(5e-2, 1e3)
    ) + WhiteKernel(0.1, (1e-6, 1.0))
    model = GaussianProcessRegressor(kernel, normalize_y=False, random_state=seed, n_restarts_optimizer=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, (y - mu) / scale)
    return Emulator("gp", model, mu, scale, active=active)


def _gb_model(seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=200, learning_rate=0.05, min_samples_leaf=5, max_leaf_nodes=8, random_state=seed
    )


def _gb(x: np.ndarray, y: np.ndarray, seed: int) -> Emulator:
    from sklearn.model_selection import KFold, cross_val_predict

    folds = KFold(n_splits=min(5, len(y)), shuffle=True, random_state=seed)
    oof = cross_val_predict(_gb_model(seed), x, y, cv=folds)
    model = _gb_model(seed).fit(x, y)
    return Emulator("gb", model, variance=float(np.mean((oof - y) ** 2)))


def fit_emulator(kind: str, x: np.ndarray, y: np.ndarray, seed: int = 0) -> Emulator:
    """An emulator of ``kind`` (``gp`` or ``gb``) fitted to unit-cube points ``x`` and outputs ``y``."""
    if kind not in KINDS:
        raise EmulatorError(f"emulator: kind {kind!r} is not allowed: expected one of {', '.join(KINDS)}")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(y)
    if keep.sum() < 8:
        raise EmulatorError(f"emulator: {int(keep.sum())} finite training points; at least 8 are needed")
    with threadpool_limits(1):
        return (_gp if kind == "gp" else _gb)(x[keep], y[keep], seed)


def compare(
    x: np.ndarray, y: np.ndarray, seed: int = 0, test_share: float = 0.25
) -> dict[str, dict[str, float]]:
    """Both kinds trained on a random ``1 - test_share`` of the points, scored on the rest.

    Per kind: ``rmse``, ``r2`` (1 - MSE / variance of the held-out outputs) and ``coverage2``
    (share of held-out points within two predicted standard deviations; about 0.95 if the
    variance is honest).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.flatnonzero(np.isfinite(y))
    rng = np.random.default_rng(seed)
    order = rng.permutation(keep)
    n_test = max(2, int(round(test_share * len(order))))
    test, train = order[:n_test], order[n_test:]
    out = {}
    for kind in KINDS:
        em = fit_emulator(kind, x[train], y[train], seed)
        mean, var = em.predict(x[test])
        err = mean - y[test]
        var_y = float(np.var(y[test]))
        out[kind] = {
            "rmse": float(np.sqrt(np.mean(err**2))),
            "r2": float(1.0 - np.mean(err**2) / var_y) if var_y > 0 else math.nan,
            "coverage2": float(np.mean(np.abs(err) <= 2.0 * np.sqrt(np.maximum(var, 0.0)))),
        }
    return out
