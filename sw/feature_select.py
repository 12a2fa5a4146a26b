"""Statistical-significance feature selection, Pre vs Post L-dopa (paper §3.3, Table 1).

Usage::

    python -m sw.feature_select [--cohort DIR] [--train S1,S2,S4] [--alpha 0.05]

Reads ``DIR/cohort.csv`` (default ``out/cohort``, built by ``python -m sw.cohort``),
keeps the training subjects, and runs a paired t-test
(:func:`scipy.stats.ttest_rel`) of Pre vs Post L-dopa for every feature of the
paper's Table 1: stride time, the two co-contractions, the four duty cycles,
and BP / mu / beta at the 7 EEG sites. A feature is *selected* when
``p < alpha`` (default 0.05).

Pairing: a Pre stride is paired with the Post stride of the same subject, walk
number, leg and stride ordinal (``stride`` column, 0-based within walk and leg);
within each (subject, walk, leg) the longer session is truncated to the shorter.
Pairs where either value is NaN (e.g. a stride without an EEG record) are left
out of that feature's test. The means in the table are over the paired strides.

Training subjects: ``--train`` (comma-separated), else -- as the paper's
Table 3 -- 2 mild + 1 severe subjects drawn with ``numpy.random.default_rng(seed)``
from the cohort's seed (``cohort.json``). Without severities for every subject
(user feature files), all subjects are used.

Outputs ``DIR/table1.csv`` and ``DIR/table1.md`` (feature, mean Pre, mean Post,
p, selected, n pairs) and prints the table. They are replaced only in a folder that
``python -m sw.cohort`` wrote (its ``cohort.json``); in any other folder existing files of
those names are refused (one line, exit 2), as are symlinks and other special files.

About the synthetic cohort
--------------------------
On the SYNTHETIC cohort (:mod:`synthetic.emg_gen`, :mod:`synthetic.eeg_gen`) the muscular
features come out significant and the cortical ones not **because the
generators are calibrated that way**: :mod:`synthetic.emg_gen` draws Pre and Post
strides from the paper's different Pre/Post means (e.g. stride time 1092 vs
1044 ms), while :mod:`synthetic.eeg_gen` gives Pre and Post essentially the same
cortical targets. The result reproduces the paper's calibration targets; it is
not independent evidence that cortical features do not track wearing-off.

With the default cohort (seed 2024, 8 walks x 150 strides, training S1, S3, S4,
7190 pairs) all 7 muscular features have p < 0.05 and none of the 21 cortical
ones. Smaller cohorts are noisier both ways: with ``--walks 2 --steps 60``
(718 pairs) the small LG and TA duty-cycle shifts are not significant and one
cortical feature (P3 BP) is -- 21 cortical tests at alpha = 0.05 give about one
false positive by chance; no multiple-comparison correction is applied (the
paper applies none).

Caveat on the statistics: Pre and Post strides are recorded in different
sessions, so pairing them by ordinal is a convention (the paper's paired test),
not a physical pairing, and strides of one subject are not independent; the
p-values therefore overstate the evidence for a per-patient effect.
"""

import json
import os
import sys

import numpy as np
from scipy import stats

from golden.eeg_mrp_model import BANDS
from spec.channels import EEG_CHANNELS
from spec.cli import InputError, fail, os_error_line, parser
from spec.constants import DEFAULT_OUT
from spec.outputs import check_output_file, write_csv_atomic, write_text_atomic
from sw.cohort import TABLE1_MUSCULAR, is_cohort_json, read_cohort

__all__ = ["TABLE1_FEATURES", "paired_ttests", "pair_sessions", "default_train", "main"]

PROG = "sw.feature_select"
TABLE1_FEATURES = TABLE1_MUSCULAR + tuple(f"{s}_{b}_dBu" for s in EEG_CHANNELS for b in BANDS)
KEY = ["subject", "walk", "leg", "stride"]


def default_train(subjects_severity, seed):
    """2 mild + 1 severe subjects drawn from ``seed`` (sorted), or None if impossible."""
    mild = sorted(s for s, v in subjects_severity.items() if v == "mild")
    severe = sorted(s for s, v in subjects_severity.items() if v == "severe")
    if len(mild) < 2 or len(severe) < 1:
        return None
    rng = np.random.default_rng(seed)
    pick = list(rng.choice(mild, 2, replace=False)) + list(rng.choice(severe, 1, replace=False))
    return sorted(str(s) for s in pick)


def pair_sessions(df):
    """Pre and Post strides paired by (subject, walk, leg, stride ordinal).

    Within each (subject, walk, leg) both sessions are cut to the shorter one
    (the ordinals are renumbered 0.. in stride order first, so gaps left by
    skipped strides do not break the pairing). Returns a DataFrame with one row
    per pair and columns ``KEY`` + ``{feature}_pre`` / ``{feature}_post``.
    """
    import pandas as pd
    df = df.sort_values(["subject", "session", "walk", "leg", "stride"]).copy()
    df["stride"] = df.groupby(["subject", "session", "walk", "leg"]).cumcount()
    pre = df[df["session"] == "pre"]
    post = df[df["session"] == "post"]
    feats = [c for c in df.columns if c not in KEY + ["session", "severity", "start", "start_s"]]
    return pd.merge(pre[KEY + feats], post[KEY + feats], on=KEY, suffixes=("_pre", "_post"))


def paired_ttests(df, features=TABLE1_FEATURES, alpha=0.05):
    """Paired t-test per feature; returns a list of dict rows."""
    pairs = pair_sessions(df)
    out = []
    for f in features:
        if f + "_pre" not in pairs:
            continue
        a = pairs[f + "_pre"].to_numpy(float)
        b = pairs[f + "_post"].to_numpy(float)
        ok = np.isfinite(a) & np.isfinite(b)
        a, b = a[ok], b[ok]
        if len(a) >= 2 and np.any(a - b != a[0] - b[0]):
            p = float(stats.ttest_rel(a, b).pvalue)
        else:
            p = float("nan")                       # too few pairs / constant difference
        out.append({"feature": f, "mean_pre": float(a.mean()) if len(a) else float("nan"),
                    "mean_post": float(b.mean()) if len(b) else float("nan"),
                    "p": p, "selected": bool(p < alpha), "n_pairs": int(len(a))})
    return out


def _p_text(p):
    if np.isnan(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--cohort", default=str(DEFAULT_OUT / "cohort"),
                    help="cohort folder from python -m sw.cohort (default out/cohort)")
    ap.add_argument("--train", help="training subjects, e.g. S1,S2,S4 "
                                    "(default: 2 mild + 1 severe drawn from the cohort seed)")
    ap.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    a = ap.parse_args(argv)
    try:
        if not 0 < a.alpha < 1:
            raise InputError("--alpha must be between 0 and 1")
        csv_path = os.path.join(a.cohort, "cohort.csv")
        if not os.path.isfile(csv_path):
            raise InputError(
                f"{csv_path} not found; build it with python -m sw.cohort --out {a.cohort}"
            )
        try:
            with open(os.path.join(a.cohort, "cohort.json")) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = {}
        outputs = [os.path.join(a.cohort, n) for n in ("table1.csv", "table1.md")]
        for o in outputs:
            check_output_file(o, [csv_path], "--cohort")
            if os.path.lexists(o) and not is_cohort_json(meta):
                raise InputError(f"--cohort {a.cohort}: {os.path.basename(o)} exists and the "
                                 "folder is not one sw.cohort wrote (no cohort.json of it); "
                                 "nothing replaced")
        df = read_cohort(csv_path)
        sev = df.groupby("subject")["severity"].first().fillna("").to_dict()
        if a.train:
            train = sorted({s.strip() for s in a.train.split(",") if s.strip()})
            unknown = [s for s in train if s not in sev]
            if unknown:
                raise InputError(f"--train: unknown subject {unknown[0]!r} "
                                 f"(cohort has {', '.join(sorted(sev))})")
            how = "--train"
        else:
            train = default_train(sev, meta.get("seed", 0))
            how = f"2 mild + 1 severe drawn from seed {meta.get('seed', 0)}"
            if train is None:
                train, how = sorted(sev), "all subjects (severities do not allow 2 mild + 1 severe)"
        rows = paired_ttests(df[df["subject"].isin(train)], alpha=a.alpha)
        if not rows or all(r["n_pairs"] == 0 for r in rows):
            raise InputError(f"no Pre/Post stride pairs for subjects {', '.join(train)}")
    except InputError as e:
        return fail(PROG, e)
    try:
        _write(a, rows, meta, train, how, outputs)
    except OSError as e:
        return fail(PROG, os_error_line(e), 1)
    return 0


def _write(a, rows, meta, train, how, outputs):
    write_csv_atomic(
        outputs[0],
        ["feature", "mean_pre", "mean_post", "p", "selected", "n_pairs"],
        [
            {
                **r,
                "mean_pre": f"{r['mean_pre']:.6g}",
                "mean_post": f"{r['mean_post']:.6g}",
                "p": f"{r['p']:.6g}",
                "selected": "yes" if r["selected"] else "no",
            }
            for r in rows
        ],
    )
    synthetic = meta.get("source") == "synthetic"
    lines = [f"Table 1 -- paired t-test Pre vs Post L-dopa, alpha = {a.alpha:g}"
             + (" (SYNTHETIC cohort)" if synthetic else ""),
             f"training subjects: {', '.join(train)} ({how})", "",
             "| feature | mean Pre | mean Post | p | selected | pairs |",
             "|---|---:|---:|---:|:---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['feature']} | {r['mean_pre']:.2f} | {r['mean_post']:.2f} | {_p_text(r['p'])} "
            f"| {'yes' if r['selected'] else 'no'} | {r['n_pairs']} |"
        )
    if synthetic:
        lines += [
            "",
            "SYNTHETIC data: the generators are calibrated so that the muscular means differ "
            "Pre vs Post and the cortical ones do not; significance here reflects that "
            "calibration and the number of strides (see the sw.feature_select docstring).",
        ]
    text = "\n".join(lines) + "\n"
    write_text_atomic(outputs[1], text)
    print(text, end="")
    print(f"wrote {outputs[0]} and {outputs[1]}")


if __name__ == "__main__":
    sys.exit(main())
