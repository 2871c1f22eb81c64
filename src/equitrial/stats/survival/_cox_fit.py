"""The numerical core of :func:`equitrial.stats.survival.cox_ph` (private).

Three parts, each a transcription of R's ``survival`` 3.5-3 into array operations:

- :func:`prepare` sorts the data once with the package's shared tied-time aggregation
  (:func:`~equitrial.stats.survival._counting.risk_table`: by stratum, then time, with
  ``coxph``'s ``timefix`` merge of near-equal times) and records where each event time's rows
  and events are;
- :func:`evaluate` returns the partial log-likelihood, its score vector and information matrix
  at one coefficient vector (``coxfit6_iter`` in ``src/coxfit6.c``): per-time sums by
  ``np.add.reduceat``, risk-set sums by reverse cumulative sums within strata, Efron's correction
  over per-event arrays (no Python loop over subjects or over distinct times);
- :func:`newton` runs R's Newton–Raphson iteration with step halving (``coxfit6``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import solve_triangular

from equitrial.stats.survival._counting import risk_set_sums, risk_table

__all__ = [
    "CHOL_TOL",
    "FitOutcome",
    "RiskSets",
    "SingularInformation",
    "evaluate",
    "newton",
    "prepare",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

#: ``coxph.control``'s ``toler.chol``: a pivot below this times the largest diagonal is singular.
CHOL_TOL = float(np.finfo(np.float64).eps ** 0.75)
#: Linear predictors above this are shifted down before ``exp`` (R would overflow to ``inf``).
_EXP_GUARD = 700.0


class SingularInformation(ArithmeticError):
    """The information matrix at the start is singular; ``columns`` are the offending ones."""

    def __init__(self, columns: list[int]) -> None:
        super().__init__(f"singular information matrix in columns {columns}")
        self.columns = columns


@dataclass(frozen=True, slots=True)
class RiskSets:
    """The sorted data and the index arrays that delimit every risk set.

    Rows are the distinct (stratum, time) pairs sorted by stratum then time; ``E`` of them have
    events, ``k`` events in all. Risk-set sums are needed only at the rows with events, so the
    sorted subjects are cut into segments, each starting at a row with events or at a stratum's
    first subject: a risk set is then a reverse cumulative sum of segment totals.
    """

    x: FloatArray  # (p, n) centred, scaled covariates, sorted by row
    x_ev: FloatArray  # (p, k) the same for the events, grouped by row
    x_ev_sum: FloatArray  # (p,) sum of x over the events
    seg_start: IntArray  # first sorted position of each segment (see prepare)
    seg_strata: IntArray  # (strata + 1,) segment offsets of the strata
    ev_seg: IntArray  # (E,) the segment that starts at each row with events
    ev_pos: IntArray  # (k,) sorted positions of the events
    first: IntArray  # (E,) offset of each such row's first event in ev_pos
    d: FloatArray  # (E,) number of events in each such row
    rep: IntArray | None  # (k,) index into ev_row of each event (Efron only)
    frac: FloatArray | None  # (k,) Efron's j/d for j = 0..d-1 within each row

    @property
    def n_events(self) -> int:
        return int(self.ev_pos.size)


def prepare(
    time: FloatArray,
    event: BoolArray,
    x: FloatArray,
    strata: IntArray | None,
    n_strata: int,
    *,
    efron: bool,
) -> RiskSets:
    """Sort once and build the index arrays used at every iteration.

    ``x`` is ``(p, n)`` (centring and scaling are the caller's); ``strata`` holds codes
    ``0..n_strata-1``, each occurring.
    """
    table = risk_table(time, event, strata=strata, n_strata=n_strata, timefix=True)
    order = table.order
    row_start = np.searchsorted(table.row[order], np.arange(table.time.size))
    deaths = table.n_event[:, 0]
    ev_row = np.flatnonzero(deaths > 0)
    stratum_first = row_start[table.stratum_start[:-1]]
    seg_start = np.union1d(row_start[ev_row], stratum_first).astype(np.intp)
    seg_strata = np.append(np.searchsorted(seg_start, stratum_first), seg_start.size)
    ev_seg = np.searchsorted(seg_start, row_start[ev_row]).astype(np.intp)
    ev_pos = np.flatnonzero(event[order])
    d = deaths[ev_row].astype(np.intp)
    first = np.concatenate(([0], np.cumsum(d)[:-1])).astype(np.intp)
    xs = np.ascontiguousarray(x[:, order])
    x_ev = np.ascontiguousarray(xs[:, ev_pos])
    rep: IntArray | None = None
    frac: FloatArray | None = None
    if efron:
        rep = np.repeat(np.arange(d.size), d)
        frac = (np.arange(ev_pos.size) - first[rep]) / d[rep]
    return RiskSets(
        x=xs,
        x_ev=x_ev,
        x_ev_sum=x_ev.sum(axis=1),
        seg_start=seg_start,
        seg_strata=seg_strata.astype(np.intp),
        ev_seg=ev_seg,
        ev_pos=ev_pos,
        first=first,
        d=d.astype(np.float64),
        rep=rep,
        frac=frac,
    )


def _risk_sums(
    rs: RiskSets, r: FloatArray, r_ev: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Sums of exp(eta) (0), x exp(eta) (1), x x' exp(eta) (2) over risk sets (s) and events (d).

    Shapes: ``s0, d0`` (E,); ``s1, d1`` (p, E); ``s2, d2`` (p, p, E).
    """
    p = rs.x.shape[0]
    pairs = [(i, j) for i in range(p) for j in range(i + 1)]
    rx, rx_ev = r * rs.x, r_ev * rs.x_ev
    per_seg = np.empty((rs.seg_start.size, 1 + p + len(pairs)))
    per_seg[:, 0] = np.add.reduceat(r, rs.seg_start)
    for i in range(p):
        per_seg[:, 1 + i] = np.add.reduceat(rx[i], rs.seg_start)
    for c, (i, j) in enumerate(pairs):
        per_seg[:, 1 + p + c] = np.add.reduceat(rx[i] * rs.x[j], rs.seg_start)
    at_risk = risk_set_sums(per_seg, rs.seg_strata)[rs.ev_seg]
    s0, s1 = at_risk[:, 0], at_risk[:, 1 : 1 + p].T
    d0 = np.add.reduceat(r_ev, rs.first)
    d1 = np.add.reduceat(rx_ev, rs.first, axis=1)
    s2 = np.empty((p, p, s0.size))
    d2 = np.empty((p, p, s0.size))
    for c, (i, j) in enumerate(pairs):
        s2[i, j] = s2[j, i] = at_risk[:, 1 + p + c]
        d2[i, j] = d2[j, i] = np.add.reduceat(rx_ev[i] * rs.x_ev[j], rs.first)
    return s0, s1, s2, d0, d1, d2


def evaluate(rs: RiskSets, beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """Partial log-likelihood, score vector and information matrix at ``beta``.

    For an event time with ``d`` events, risk-set sums ``S`` (of exp(eta), x exp(eta),
    x x' exp(eta)) and sums ``D`` over its events, Efron's terms are, for ``j = 0..d-1``,
    ``S - (j/d) D``; Breslow's are ``d`` copies of ``S`` (Therneau & Grambsch 2000, sec. 3.3).
    """
    p = rs.x.shape[0]
    eta = rs.x[0] * beta[0] if p == 1 else beta @ rs.x
    top = float(eta.max())
    shift = top if top > _EXP_GUARD else 0.0  # the log-likelihood is invariant to the shift
    with np.errstate(all="ignore"):
        r = np.exp(eta - shift) if shift else np.exp(eta)
        s0, s1, s2, d0, d1, d2 = _risk_sums(rs, r, r[rs.ev_pos])
        if rs.frac is None or rs.rep is None:  # Breslow
            log_terms = float(rs.d @ np.log(s0))
            m1 = s1 / s0  # risk-set means: divide before multiplying, as coxfit6.c does
            u = rs.x_ev_sum - m1 @ rs.d
            imat = (s2 / s0) @ rs.d - (m1 * rs.d) @ m1.T
        else:  # Efron: one term per event, S - (j/d) D over S0 - (j/d) D0
            den = s0[rs.rep] - rs.frac * d0[rs.rep]
            log_terms = float(np.log(den).sum())
            m1 = (s1[:, rs.rep] - rs.frac * d1[:, rs.rep]) / den
            m2 = (s2[:, :, rs.rep] - rs.frac * d2[:, :, rs.rep]) / den
            u = rs.x_ev_sum - m1.sum(axis=1)
            imat = m2.sum(axis=2) - m1 @ m1.T
        loglik = float(beta @ rs.x_ev_sum) - log_terms - shift * rs.n_events
    return loglik, u, imat


@dataclass(frozen=True, slots=True)
class _Cholesky:
    """R's ``cholesky2``: ``A = L D L'`` with pivots below tolerance marked singular."""

    lower: FloatArray  # unit lower triangular; singular columns are unit vectors
    diag: FloatArray
    ok: BoolArray

    @classmethod
    def of(cls, matrix: FloatArray, toler: float = CHOL_TOL) -> _Cholesky:
        a = np.array(matrix, dtype=np.float64)
        p = a.shape[0]
        diag = np.diag(a)
        positive = diag[diag > 0]
        eps = toler * float(positive.max()) if positive.size else toler
        ok = np.zeros(p, dtype=bool)
        for i in range(p):
            pivot = a[i, i]
            if not np.isfinite(pivot) or pivot < eps:
                a[i, i] = 0.0
                a[i + 1 :, i] = 0.0
                continue
            ok[i] = True
            col = a[i + 1 :, i].copy()
            a[i + 1 :, i + 1 :] -= np.outer(col, col) / pivot
            a[i + 1 :, i] = col / pivot
        lower = np.tril(a, -1) + np.eye(p)
        return cls(lower, np.where(ok, np.diag(a), 0.0), ok)

    def solve(self, b: FloatArray) -> FloatArray:
        """``A^- b``, with zeros in the singular positions (R's ``chsolve2``)."""
        y = solve_triangular(self.lower, b, lower=True, unit_diagonal=True)
        z = np.where(self.ok, y / np.where(self.ok, self.diag, 1.0), 0.0)
        return np.asarray(solve_triangular(self.lower.T, z, lower=False, unit_diagonal=True))

    def inverse(self) -> FloatArray:
        """The generalized inverse with singular rows and columns zero (R's ``chinv2``)."""
        p = self.diag.size
        linv = solve_triangular(self.lower, np.eye(p), lower=True, unit_diagonal=True)
        dinv = np.where(self.ok, 1.0 / np.where(self.ok, self.diag, 1.0), 0.0)
        inv = (linv.T * dinv) @ linv
        inv[~self.ok, :] = 0.0
        inv[:, ~self.ok] = 0.0
        return np.asarray(inv)


@dataclass(frozen=True, slots=True)
class FitOutcome:
    """Where the iteration stopped, in the centred and scaled parametrization."""

    beta: FloatArray
    loglik0: float
    loglik: float
    score: float
    u: FloatArray
    var: FloatArray
    singular: BoolArray
    iterations: int
    converged: bool


def newton(rs: RiskSets, *, max_iter: int, eps: float) -> FitOutcome:
    """Newton–Raphson from beta = 0 with R's step halving and convergence rule (``coxfit6``).

    The iteration stops when ``|1 - l_best / l_new| <= eps``. A step that lowers the
    log-likelihood (or gives a non-finite one) is pulled back toward the best point so far,
    more strongly each consecutive time (``(new + k*best) / (k + 1)``).
    """
    p = rs.x.shape[0]
    beta = np.zeros(p)
    loglik0, u, imat = evaluate(rs, beta)
    chol = _Cholesky.of(imat)
    if not chol.ok.all():
        raise SingularInformation([int(i) for i in np.flatnonzero(~chol.ok)])
    step = chol.solve(u)
    score = float(u @ step)
    best = loglik0
    new_beta = beta + step
    halving = 0
    for iteration in range(1, max_iter + 1):
        new_loglik, u, imat = evaluate(rs, new_beta)
        chol = _Cholesky.of(imat)
        finite = bool(np.isfinite(new_loglik) and np.isfinite(u).all() and np.isfinite(imat).all())
        if finite and abs(1.0 - best / new_loglik) <= eps:
            return FitOutcome(
                new_beta, loglik0, new_loglik, score, u, chol.inverse(), ~chol.ok, iteration, True
            )
        if not finite or new_loglik < best:
            halving += 1
            new_beta = (new_beta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = new_loglik
            beta = new_beta
            new_beta = beta + chol.solve(u)
    # Out of iterations: report the best point. R 3.5-3 returns 1/diag(information) here
    # (it inverts an unfactored matrix); we return the proper inverse.
    loglik, u, imat = evaluate(rs, beta)
    chol = _Cholesky.of(imat)
    return FitOutcome(beta, loglik0, loglik, score, u, chol.inverse(), ~chol.ok, max_iter, False)
