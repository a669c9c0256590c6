"""Benchmark: BG/NBD and Gamma-Gamma fits against lifetimes' fitters.

Fits ``models.clv.BetaGeoModel`` and ``GammaGammaModel`` and lifetimes'
``BetaGeoFitter`` and ``GammaGammaFitter`` on the same data in the same run:

* the CDNOW sample (2,357 customers; 946 repeat buyers), ``tests/data``;
* a synthetic summary of ``--n-customers`` customers (default 1,000,000)
  simulated from the BG/NBD and Gamma-Gamma stories with known parameters
  (seeded, ``numpy.random.default_rng``).

Each fit is timed as the median of ``--repeats`` (default 3) wall-clock runs;
the script prints a Markdown table of fitted parameters side by side and the
speed ratio.

lifetimes is a benchmark-only peer, never a dependency of the workbench: it
does not import with numpy 2 / pandas 3, so it runs in another interpreter
(a throwaway virtualenv with old numpy/pandas/scipy, autograd and lifetimes)
given by ``--lifetimes-python`` or the ``LIFETIMES_PYTHON`` environment
variable; this same file is its worker (``--worker``), which imports only
numpy and lifetimes. Without one, only our fits are timed.

Latest results (2 shared cores, other jobs running; lifetimes 0.11.3 on
numpy 1.26 / pandas 1.5 / scipy 1.11 / autograd 1.6): fitted parameters agree
to 4 decimals on both data sets (CDNOW: r 0.2426, alpha 4.4135, a 0.7929,
b 2.4258; p 6.2488, q 3.7446, v 15.4477).

| data | customers fitted | model | ours (s) | lifetimes (s) | speed-up |
| --- | --- | --- | --- | --- | --- |
| cdnow | 2,357 | bgnbd | 0.0320 | 0.0558 | 1.7x |
| cdnow | 946 | gamma_gamma | 0.0110 | 0.0432 | 3.9x |
| synthetic | 1,000,000 | bgnbd | 1.2915 | 16.7334 | 13.0x |
| synthetic | 382,178 | gamma_gamma | 0.2803 | 2.8641 | 10.2x |

Usage::

    LIFETIMES_PYTHON=/path/to/venv/bin/python python benchmarks/bench_clv.py
    python benchmarks/bench_clv.py --n-customers 200000 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
TRUE_BGNBD = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
TRUE_GG = {"p": 6.0, "q": 4.0, "v": 15.0}


def simulate(n: int, seed: int) -> dict[str, np.ndarray]:
    """Exact vectorised draws from the BG/NBD and Gamma-Gamma stories.

    Ages T ~ U(4, 52) weeks. Per customer: lambda ~ Gamma(r, alpha), p ~
    Beta(a, b); K ~ Geometric(p) repeat purchases until dropout; N ~
    Poisson(lambda T) arrivals in (0, T]. x = min(N, K); the last purchase
    time is the x-th order statistic of N uniform arrival times,
    T * Beta(x, N - x + 1). Spend: nu ~ Gamma(q, gamma) and the mean of x
    Gamma(p, nu) values is Gamma(p x, nu) / x.
    """
    rng = np.random.default_rng(seed)
    g = TRUE_BGNBD
    T = rng.uniform(4.0, 52.0, n)
    lam = rng.gamma(g["r"], 1.0 / g["alpha"], n)
    p = rng.beta(g["a"], g["b"], n)
    k = rng.geometric(p)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(arrivals, k)
    t_x = np.zeros(n)
    pos = x > 0
    t_x[pos] = T[pos] * rng.beta(x[pos], arrivals[pos] - x[pos] + 1)
    s = TRUE_GG
    nu = rng.gamma(s["q"], 1.0 / s["v"], n)
    m = np.zeros(n)
    m[pos] = rng.gamma(s["p"] * x[pos], 1.0 / nu[pos]) / x[pos]
    return {"frequency": x.astype(float), "recency": t_x, "T": T, "monetary_value": m}


def load_cdnow() -> dict[str, np.ndarray]:
    import pandas as pd

    frame = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    return {
        "frequency": frame["x"].to_numpy(float),
        "recency": frame["t_x"].to_numpy(float),
        "T": frame["T"].to_numpy(float),
        "monetary_value": frame["zbar"].to_numpy(float),
    }


def _median_time(fit, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def run_ours(data: dict[str, np.ndarray], repeats: int) -> dict:
    from models.clv import BetaGeoModel, GammaGammaModel

    rfm = np.column_stack([data["frequency"], data["recency"], data["T"]])
    repeat = data["frequency"] > 0
    spend = np.column_stack([data["frequency"][repeat], data["monetary_value"][repeat]])
    t_bg, bg = _median_time(lambda: BetaGeoModel().fit(rfm), repeats)
    t_gg, gg = _median_time(lambda: GammaGammaModel().fit(spend), repeats)
    return {
        "bgnbd": {"seconds": t_bg, "params": bg.params_, "ll": bg.log_likelihood_},
        "gamma_gamma": {"seconds": t_gg, "params": gg.params_, "ll": gg.log_likelihood_},
    }


def worker(folder: str, repeats: int) -> None:
    """Run in the lifetimes interpreter: fit every dataset in ``folder``, print JSON."""
    import warnings

    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    out = {}
    for path in sorted(Path(folder).glob("*.npz")):
        d = np.load(path)
        f, r, T, m = d["frequency"], d["recency"], d["T"], d["monetary_value"]
        t_bg, bg = _median_time(lambda: BetaGeoFitter().fit(f, r, T), repeats)
        rep = f > 0
        t_gg, gg = _median_time(lambda: GammaGammaFitter().fit(f[rep], m[rep]), repeats)
        out[path.stem] = {
            "bgnbd": {"seconds": t_bg, "params": {k: float(v) for k, v in bg.params_.items()}},
            "gamma_gamma": {"seconds": t_gg, "params": {k: float(v) for k, v in gg.params_.items()}},
        }
    print(json.dumps(out))


def run_lifetimes(python: str, datasets: dict[str, dict[str, np.ndarray]], repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        for name, data in datasets.items():
            np.savez(Path(folder) / f"{name}.npz", **data)
        proc = subprocess.run(
            [python, str(Path(__file__).resolve()), "--worker", folder, "--repeats", str(repeats)],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        raise SystemExit(f"lifetimes worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def markdown(datasets, ours, theirs, n_rows) -> str:
    lines = [
        "| data | model | parameter | truth | ours | lifetimes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in datasets:
        for model, truth in (("bgnbd", TRUE_BGNBD), ("gamma_gamma", TRUE_GG)):
            for k, v in ours[name][model]["params"].items():
                lk = k
                other = theirs.get(name, {}).get(model, {}).get("params", {}).get(lk)
                t = truth.get(k, "") if name != "cdnow" else ""
                lines.append(
                    f"| {name} | {model} | {k} | {t} | {v:.4f} | {'' if other is None else f'{other:.4f}'} |"
                )
    lines += [
        "",
        "| data | customers fitted | model | ours (s, median) | lifetimes (s, median) | speed-up |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in datasets:
        for model in ("bgnbd", "gamma_gamma"):
            ours_s = ours[name][model]["seconds"]
            other = theirs.get(name, {}).get(model, {}).get("seconds")
            ratio = "" if other is None else f"{other / ours_s:.1f}x"
            lines.append(
                f"| {name} | {n_rows[name][model]:,} | {model} | {ours_s:.4f} | "
                f"{'' if other is None else f'{other:.4f}'} | {ratio} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2005)
    parser.add_argument("--lifetimes-python", default=os.environ.get("LIFETIMES_PYTHON"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.repeats)
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    datasets = {"cdnow": load_cdnow(), f"synthetic_{args.n_customers}": simulate(args.n_customers, args.seed)}
    n_rows = {
        k: {"bgnbd": int(v["frequency"].size), "gamma_gamma": int((v["frequency"] > 0).sum())}
        for k, v in datasets.items()
    }
    ours = {name: run_ours(data, args.repeats) for name, data in datasets.items()}
    theirs = run_lifetimes(args.lifetimes_python, datasets, args.repeats) if args.lifetimes_python else {}
    print(markdown(datasets, ours, theirs, n_rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
