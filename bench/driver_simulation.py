"""Do the driver views find planted effects, and only those? A repeated simulation.

Data: ``analysis.simulate.simulate_survey`` (ordered-logit generating model, planted features
``PLANTED_FEATURES``: five drivers, a hygiene theme, an outage driver with a correlated null
companion, four independent nulls, two small themes). Each repetition draws a fresh survey of
``--n`` comments (seed = repetition number) and runs

* ``compute_drivers`` (n_boot 500): drivers.csv, leave-one-out impact;
* ``theme_regression`` target "detractor" (logistic) and target "score" (ridge), n_boot 200.

Reported:

* false-positive rate: share of (null feature, repetition) pairs flagged ``significant``
  (BH q < 0.05 within each table). Nulls for drivers.csv: the four independent nulls and
  login:positive (their true impact is 0); status_page:negative is *not* null there (its true
  impact is about -2 NPS points, borrowed from outage) and is reported separately. Nulls for the
  regressions: the same five plus status_page:negative (true coefficient exactly 0).
* power: share of repetitions each planted driver is significant; order recovery: share of
  repetitions where sorting the five drivers by |estimate| gives the true order.
* coverage of the 95% bootstrap percentile intervals: share of repetitions whose interval
  contains the true value. True values: detractor logistic coefficient = -β (exact under the
  model); ridge effect on the score and leave-one-out impact by Monte Carlo on one sample of
  ``--truth-n`` comments (``analysis.simulate.true_values``).
* small themes (3 and 2 mentions) flagged small_n / dropped.
* early warnings (``theme_trends``, min_count 5, four (trailing, z) settings, the defaults first):
  share of theme-weeks flagged on stationary weekly counts, and share of planted spikes found.

Run: ``python bench/driver_simulation.py [--reps 200] [--n 4000] [--jobs 2]``; writes
``bench/results/driver_simulation.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# One thread per process: the repetitions run in parallel processes instead (--jobs).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from koe.analysis.drivers import compute_drivers  # noqa: E402
from koe.analysis.regression import theme_regression  # noqa: E402
from koe.analysis.simulate import PLANTED_FEATURES, simulate_survey, true_values  # noqa: E402
from koe.analysis.trends import theme_trends  # noqa: E402

RESULTS = REPO / "bench" / "results" / "driver_simulation.md"
BIG = [f for f in PLANTED_FEATURES if f.count is None]
DRIVERS = [f.feature for f in BIG if f.beta != 0]
NULLS = [f.feature for f in BIG if f.beta == 0 and f.follows is None]
CORRELATED_NULL = [f.feature for f in BIG if f.beta == 0 and f.follows is not None]
SMALL = [f.feature for f in PLANTED_FEATURES if f.count is not None]
N_BOOT_DRIVERS = 500
N_BOOT_REGRESSION = 200


def machine() -> str:
    mem = "?"
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc; {cpu}), {mem} RAM; Python {platform.python_version()}"


def one_rep(rep: int, n: int) -> list[dict]:
    comments, tags = simulate_survey(n, rep)
    rows = []
    d = compute_drivers(comments, tags, n_boot=N_BOOT_DRIVERS, seed=rep)
    d = d.assign(feature=d["theme"] + ":" + d["polarity"]).set_index("feature")
    for feature in DRIVERS + NULLS + CORRELATED_NULL + SMALL:
        r = d.loc[feature]
        rows.append(
            {
                "rep": rep,
                "view": "drivers",
                "feature": feature,
                "estimate": r["impact"],
                "ci_low": r["impact_ci_low"],
                "ci_high": r["impact_ci_high"],
                "significant": bool(r["significant"]),
                "small": bool(r["small_n"]),
            }
        )
    for target in ("detractor", "score"):
        g = theme_regression(comments, tags, target=target, n_boot=N_BOOT_REGRESSION, seed=rep)
        g = g.set_index("feature")
        for feature in DRIVERS + NULLS + CORRELATED_NULL + SMALL:
            r = g.loc[feature]
            rows.append(
                {
                    "rep": rep,
                    "view": f"regression:{target}",
                    "feature": feature,
                    "estimate": r["coef"],
                    "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"],
                    "significant": bool(r["significant"]),
                    "small": bool(r["dropped"]),
                }
            )
    return rows


# (trailing, z); the first is the default
WARNING_SETTINGS = ((4, 2.0), (8, 2.0), (4, 2.5), (4, 3.0), (8, 3.0))


def warning_rates(reps: int) -> list[dict[str, float]]:
    """theme_trends (min_count 5) on stationary weekly counts and on planted spikes.

    Per simulated 20-week series (200 comments a week): "flat3"/"flat10" are mentioned by each
    comment with probability 3/200 and 10/200 (stationary); "spike12" has base 1/200 plus 12
    extra mentions in week 15; "spike8" has base 3/200 plus 8 extra in week 15. Returns one
    dict per ``WARNING_SETTINGS`` entry: the share of flat theme-weeks (after the warm-up) with
    a warning, and the share of series whose spike week is flagged.
    """
    rng = np.random.default_rng(2026)
    weeks, per_week, spike_week = 20, 200, 15
    start = pd.Timestamp("2026-06-01")  # a Monday
    flagged = {k: {"flat3": 0, "flat10": 0} for k in WARNING_SETTINGS}
    total = {k: {"flat3": 0, "flat10": 0} for k in WARNING_SETTINGS}
    detected = {k: {"spike12": 0, "spike8": 0} for k in WARNING_SETTINGS}
    for _ in range(reps):
        n = per_week * weeks
        week = np.repeat(np.arange(weeks), per_week)
        comments = pd.DataFrame(
            {
                "id": [f"c{i}" for i in range(n)],
                "score": pd.array(rng.integers(0, 11, n), dtype="Int64"),
                "date": start + pd.to_timedelta(week * 7 + rng.integers(0, 7, n), unit="D"),
            }
        )
        parts = []
        for theme, rate, extra in (
            ("flat3", 3, 0),
            ("flat10", 10, 0),
            ("spike12", 1, 12),
            ("spike8", 3, 8),
        ):
            hit = rng.random(n) < rate / per_week
            if extra:
                free = np.flatnonzero((week == spike_week) & ~hit)
                hit[rng.choice(free, size=extra, replace=False)] = True
            parts.append(pd.DataFrame({"id": comments["id"][hit], "theme": theme}))
        tags = pd.concat(parts, ignore_index=True).assign(polarity="negative")
        spike_period = start + pd.Timedelta(weeks=spike_week)
        for trailing, z in WARNING_SETTINGS:
            tr = theme_trends(comments, tags, trailing=trailing, z=z, min_count=5)
            for theme in ("flat3", "flat10"):
                flat = tr[(tr["theme"] == theme) & tr["trailing_mean"].notna()]
                flagged[(trailing, z)][theme] += int(flat["warning"].sum())
                total[(trailing, z)][theme] += len(flat)
            for theme in ("spike12", "spike8"):
                hit_row = tr[(tr["theme"] == theme) & (tr["period"] == spike_period)]
                detected[(trailing, z)][theme] += int(hit_row["warning"].iloc[0])
    return [
        {
            "trailing": trailing,
            "z": z,
            "flat3": flagged[(trailing, z)]["flat3"] / total[(trailing, z)]["flat3"],
            "flat10": flagged[(trailing, z)]["flat10"] / total[(trailing, z)]["flat10"],
            "spike12": detected[(trailing, z)]["spike12"] / reps,
            "spike8": detected[(trailing, z)]["spike8"] / reps,
        }
        for trailing, z in WARNING_SETTINGS
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--truth-n", type=int, default=2_000_000)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    t0 = time.perf_counter()
    truth = true_values(n=args.truth_n).set_index("feature")
    t_truth = time.perf_counter() - t0
    rows = []
    t1 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(one_rep, rep, args.n) for rep in range(args.reps)]
        for done, future in enumerate(futures, start=1):
            rows.extend(future.result())
            if done % 20 == 0:
                print(f"{done}/{args.reps} reps, {time.perf_counter() - t1:.0f} s", flush=True)
    t_reps = time.perf_counter() - t1
    res = pd.DataFrame(rows)
    true_col = {
        "drivers": "impact_mc",
        "regression:detractor": "coef_detractor",
        "regression:score": "effect_score_mc",
    }
    big = res[~res["feature"].isin(SMALL)].copy()
    big["truth"] = [
        truth.loc[f, true_col[v]] for f, v in zip(big["feature"], big["view"], strict=True)
    ]
    big["covered"] = (big["ci_low"] <= big["truth"]) & (big["truth"] <= big["ci_high"])
    t2 = time.perf_counter()
    warn = warning_rates(100)
    t_warn = time.perf_counter() - t2

    views = list(true_col)
    lines = [
        "# Driver views on simulated surveys: false positives, power, interval coverage",
        "",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {machine()}  ",
        f"Script: `python bench/driver_simulation.py --reps {args.reps} --n {args.n} "
        f"--truth-n {args.truth_n}`  ",
        f"Runtime: truth {t_truth:.0f} s, {args.reps} repetitions {t_reps:.0f} s "
        f"in {args.jobs} processes, early warnings {t_warn:.0f} s",
        "",
        f"Each repetition: a fresh survey of {args.n} comments (seed = repetition), "
        f"`compute_drivers` (n_boot {N_BOOT_DRIVERS}) and `theme_regression` for target "
        f"detractor (logistic) and score (ridge), n_boot {N_BOOT_REGRESSION} (the defaults; "
        "nothing reduced). BH at q < 0.05 within each table. Generating model and planted "
        "features: `analysis/simulate.py`.",
        "",
        "## True values",
        "",
        "Detractor coefficient = -β exactly (ordered-logit model); ridge effect and leave-one-out "
        f"impact by Monte Carlo on {args.truth_n:,} comments (the logistic MC fit is shown as a "
        "check of the exact value).",
        "",
        "| feature | β | detractor coef (exact) | detractor coef (MC) | score effect (MC) "
        "| impact, NPS pts (MC) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for f, r in truth.iterrows():
        lines.append(
            f"| {f} | {r['beta']:+.1f} | {r['coef_detractor']:+.3f} | "
            f"{r['coef_detractor_mc']:+.3f} | {r['effect_score_mc']:+.3f} | "
            f"{r['impact_mc']:+.2f} |"
        )

    def rate(frame: pd.DataFrame, col: str) -> str:
        return f"{frame[col].mean():.3f} ({int(frame[col].sum())}/{len(frame)})"

    lines += [
        "",
        "## False positives (null features flagged significant)",
        "",
        f"Independent nulls: {', '.join(NULLS)}. Correlated null: {', '.join(CORRELATED_NULL)} "
        "(true regression coefficient 0; true drivers.csv impact not 0, see above).",
        "",
        "| view | FPR, independent nulls | correlated null flagged |",
        "|---|---:|---:|",
    ]
    for v in views:
        nulls = big[(big["view"] == v) & big["feature"].isin(NULLS)]
        corr = big[(big["view"] == v) & big["feature"].isin(CORRELATED_NULL)]
        lines.append(f"| {v} | {rate(nulls, 'significant')} | {rate(corr, 'significant')} |")
    lines += [
        "",
        "In drivers.csv the correlated null is expected to be flagged (its comments really do "
        "have a lower NPS); the regression view is the one that should not flag it.",
        "",
        "## Power and order",
        "",
        "| view | " + " | ".join(DRIVERS) + " | true order recovered |",
        "|---|" + "---:|" * (len(DRIVERS) + 1),
    ]
    for v in views:
        sub = big[big["view"] == v]
        cells = [rate(sub[sub["feature"] == f], "significant") for f in DRIVERS]
        true_order = list(truth.loc[DRIVERS, true_col[v]].abs().sort_values(ascending=False).index)
        drv = sub[sub["feature"].isin(DRIVERS)].assign(abs_est=lambda x: x["estimate"].abs())
        hits = [
            list(g.sort_values("abs_est", ascending=False)["feature"]) == true_order
            for _, g in drv.groupby("rep")
        ]
        cells.append(f"{np.mean(hits):.3f}")
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Coverage of the 95% bootstrap percentile intervals",
        "",
        "| view | all features | drivers | nulls | " + " | ".join(DRIVERS) + " |",
        "|---|---:|---:|---:|" + "---:|" * len(DRIVERS),
    ]
    for v in views:
        sub = big[big["view"] == v]
        cells = [
            f"{sub['covered'].mean():.3f}",
            f"{sub[sub['feature'].isin(DRIVERS)]['covered'].mean():.3f}",
            f"{sub[~sub['feature'].isin(DRIVERS)]['covered'].mean():.3f}",
            *[f"{sub[sub['feature'] == f]['covered'].mean():.3f}" for f in DRIVERS],
        ]
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    bias = big.assign(err=big["estimate"] - big["truth"]).groupby(["view", "feature"])["err"]
    lines += [
        "",
        "Mean estimation error (estimate - truth) of the drivers, per view: "
        + "; ".join(
            f"{v}: " + ", ".join(f"{f} {bias.mean().loc[(v, f)]:+.3f}" for f in DRIVERS)
            for v in views
        ),
        "",
        "## Small themes",
        "",
    ]
    small = res[res["feature"].isin(SMALL)]
    for v in views:
        s = small[small["view"] == v]
        lines.append(f"- {v}: {', '.join(SMALL)} flagged small_n / dropped in {rate(s, 'small')}")
    lines += [
        "",
        "## Early warnings (theme_trends, min_count 5)",
        "",
        "100 simulated 20-week series, 200 comments a week. Stationary themes with on average 3 "
        "and 10 mentions a week (no change at all: every warning is a false alarm; rate per "
        "theme-week after the warm-up), and two planted spikes in week 15: 12 extra mentions "
        "on a base of 1 a week, 8 extra on a base of 3 (share of series where that week warns).",
        "",
        "| trailing | z | false alarms, mean 3/week | false alarms, mean 10/week "
        "| spike +12 on 1 | spike +8 on 3 |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for w in warn:
        default = " (defaults)" if (w["trailing"], w["z"]) == WARNING_SETTINGS[0] else ""
        lines.append(
            f"| {w['trailing']}{default} | {w['z']:g} | {w['flat3']:.3f} | {w['flat10']:.3f} | "
            f"{w['spike12']:.2f} | {w['spike8']:.2f} |"
        )
    cov = big.groupby(["view", "feature"])["covered"].mean()
    worst = cov.idxmin()
    fpr = big[big["feature"].isin(NULLS)].groupby("view")["significant"].mean()
    lines += [
        "",
        "## Reading",
        "",
        f"- Null themes flagged significant after BH: {fpr.min():.3f} to {fpr.max():.3f} of "
        "(null, repetition) pairs across the three views (nominal level 0.05).",
        "- The correlated-but-null theme is flagged by drivers.csv in nearly every repetition "
        "(its comments do have a lower NPS) and by the regression view at about the null rate: "
        "read drivers.csv for *where the NPS is lost*, the regression for *which theme to fix*.",
        f"- Coverage of the 95% intervals is {cov.min():.3f} to {cov.max():.3f} per "
        f"(view, feature), the lowest for {worst[1]} in {worst[0]}. In the logistic view the "
        "L2 penalty pulls the coefficient of a feature with few events towards 0 (e.g. "
        "support:positive: few detractors among its mentions; see the mean errors).",
        "- Regression p-values are coef / bootstrap standard error (normal), so they have no "
        f"1/n_boot floor ({1 / N_BOOT_REGRESSION:g} here): a lone strong driver among many "
        "features can still pass BH.",
        "- Early warnings divide by max(trailing std, sqrt(trailing mean), 1): the standard "
        "deviation of 4 weeks alone is a noisy estimate, and a count's Poisson spread is about "
        "sqrt(mean). Before this floor the defaults (trailing 4, z 2) raised 0.083 and 0.126 "
        "false alarms per theme-week on these flat series; a longer window and/or z 3 trade "
        "sensitivity for fewer alarms (table above).",
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(args.out)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
