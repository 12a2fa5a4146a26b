"""Classifier datasets: cohort table -> selected features, subject-wise train/test split.

The wearing-off (WO) classifiers of the paper (§3.4, §4.1, Table 3) see one row
per stride and predict the session it comes from:

* label ``1`` = **Pre L-dopa** (OFF, wearing-off present) -- the *positive*
  class of every metric, as in the paper's Table 4;
* label ``0`` = Post L-dopa (ON).

Features: the Table 1 features selected by the paired t-test
(:func:`sw.feature_select.paired_ttests`, ``p < alpha``) over the *training*
subjects only, kept in the fixed :data:`sw.feature_select.TABLE1_FEATURES`
order (stride time, co-contractions, duty cycles, then the cortical bands).
The same names are the CSV columns of ``python -m sw.extract emg``, the
``features`` order of the emitted C and the ``FEATURES`` array of its header.

Split (Table 3): train on 3 subjects (by default 2 mild + 1 severe drawn from the
cohort seed, :func:`sw.feature_select.default_train`), test on the others.
Rows with NaN in a selected feature are dropped (and counted). In user feature CSVs a
muscle column that is empty in every row of a file or of one recording (``sw.extract emg``
leaves unmapped muscles empty, e.g. LG and TA of the UCI walks) is *absent*: it is left out
of the selection everywhere, with a one-line note; strides flagged ``overflow`` are left out
and counted. The training rows need at least :data:`FOLDS` strides of each class.

Values are rounded to float32 once, here, because the ARM code receives float32
features: Python models and C then see identical inputs.
"""

import json
import os
from dataclasses import dataclass, field

import numpy as np

from spec.channels import MUSCLES
from sw.cohort import COLUMNS, load_user_features, read_cohort, scan_features
from sw.feature_select import TABLE1_FEATURES, default_train, paired_ttests
from sw.recording import InputError

__all__ = ["Dataset", "load_table", "make_dataset", "POSITIVE"]

#: the positive class (label 1)
POSITIVE = "pre"
#: folds of the validation on the training rows (paper §3.4)
FOLDS = 4


@dataclass
class Dataset:
    """Train/test matrices of one cohort split (float32-rounded float64 arrays)."""
    features: list
    train_subjects: list
    test_subjects: list
    X_train: np.ndarray
    y_train: np.ndarray
    g_train: np.ndarray          # subject of each training row
    X_test: np.ndarray
    y_test: np.ndarray
    g_test: np.ndarray
    table1: list = field(default_factory=list)
    dropped: int = 0
    synthetic: bool = False
    source: str = ""

    def describe(self):
        def counts(y):
            return f"{int(y.sum())} Pre / {int(len(y) - y.sum())} Post"
        return (f"{len(self.features)} features ({', '.join(self.features)}); "
                f"train {', '.join(self.train_subjects)}: {counts(self.y_train)}; "
                f"test {', '.join(self.test_subjects)}: {counts(self.y_test)}"
                + (f"; {self.dropped} rows with NaN features dropped" if self.dropped else ""))


def _absent_note(absent, where, n_files):
    """One line: which muscles are absent where, and the columns dropped."""
    places = {}
    muscles = [m for m in MUSCLES if any(c.startswith(f"{m}_") for c in absent)]
    # columns of no absent muscle (e.g. a co-contraction of two present ones) by name
    names = muscles + [c for c in absent if c.split("_")[0] not in MUSCLES
                       and not any(m in c.split("_") for m in muscles)]
    for m in names:
        cols = [c for c in absent if c == m or c.startswith(f"{m}_")]
        if cols:
            files = sorted({p for c in cols for p in where[c]})
            key = ("every file" if len(files) == n_files
                   else "in " + ", ".join(files[:3]) + (" ..." if len(files) > 3 else ""))
            places.setdefault(key, []).append(m)
    text = "; ".join(f"{', '.join(ms)} ({key})" for key, ms in places.items())
    feats = [c for c in TABLE1_FEATURES if c in absent]
    return (f"note: absent muscles {text}: {len(absent)} column{'s' if len(absent) > 1 else ''} "
            "dropped from the features"
            + (f" ({', '.join(feats)})" if feats else ""))


def load_table(cohort=None, features=None, progress=None):
    """Cohort folder or user feature CSVs -> (DataFrame, meta dict).

    With user ``features``, absent muscle columns (see :func:`sw.cohort.scan_features`) are set
    to NaN, listed in ``meta["absent"]`` and left out of the feature selection; a one-line
    note goes to ``progress``. Raises :class:`InputError` with a one-line message on bad
    input.
    """
    import pandas as pd
    if features:
        absent, where, overflow = scan_features(features)
        rows = load_user_features(features, absent)
        df = pd.DataFrame(rows, columns=COLUMNS)
        for c in COLUMNS[6:]:
            df[c] = pd.to_numeric(df[c].replace("", np.nan), errors="coerce")
        df[absent] = np.nan
        df["walk"] = df["walk"].astype(int)
        df["stride"] = df["stride"].astype(int)
        if progress and absent:
            progress(_absent_note(absent, where, len(features)))
        if progress and overflow:
            progress(f"note: {overflow} stride{'s' if overflow > 1 else ''} flagged overflow "
                     "left out")
        return df, {"source": "features", "paths": [os.path.abspath(p) for p in features],
                    "absent": absent, "overflow_dropped": overflow}
    csv_path = os.path.join(cohort, "cohort.csv")
    if not os.path.isfile(csv_path):
        raise InputError(f"{csv_path} not found; build it with python -m sw.cohort --out {cohort}")
    try:
        with open(os.path.join(cohort, "cohort.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        raise InputError(f"{cohort}/cohort.json missing or unreadable: the cohort build did not "
                         f"finish; rerun python -m sw.cohort --out {cohort}") from None
    df = read_cohort(csv_path)
    missing = [c for c in TABLE1_FEATURES[:7] + ("subject", "session") if c not in df.columns]
    if missing:
        raise InputError(f"{csv_path}: missing column {missing[0]}")
    return df, meta


def _check_folds(train, y, when=""):
    n_pre, n_post = int(y.sum()), int(len(y) - y.sum())
    if min(n_pre, n_post) < FOLDS:
        raise InputError(f"training subjects {', '.join(train)} have {n_pre} Pre and {n_post} "
                         f"Post strides{when}: {FOLDS}-fold validation needs at least {FOLDS} of "
                         "each (more strides or other --train subjects)")


def make_dataset(df, meta, train=None, alpha=0.05, select=None):
    """Select features and split by subject.

    Parameters
    ----------
    df, meta : from :func:`load_table`.
    train : list of str, optional
        Training subjects; default 2 mild + 1 severe from the cohort seed, or,
        without severities, the first ``ceil(n/2)+`` subjects in sorted order
        (at least one subject is left for testing).
    alpha : float
        Significance level of the Table 1 selection.
    select : list of str, optional
        Use these features instead of the t-test selection.
    """
    subjects = sorted(df["subject"].unique())
    if len(subjects) < 2:
        raise InputError(f"need at least 2 subjects for a subject-wise split, got {len(subjects)}")
    sev = df.groupby("subject")["severity"].first().fillna("").to_dict()
    if train:
        train = sorted(set(train))
        unknown = [s for s in train if s not in sev]
        if unknown:
            raise InputError(f"--train: unknown subject {unknown[0]!r} "
                             f"(have {', '.join(subjects)})")
    else:
        train = (default_train(sev, meta.get("seed", 0))
                 or subjects[:max(1, (len(subjects) + 1) // 2)])
    test = [s for s in subjects if s not in train]
    if not test:
        raise InputError("no test subjects left: --train lists every subject")
    for name, group in (("training", train), ("test", test)):
        sessions = set(df[df["subject"].isin(group)]["session"])
        if sessions != {"pre", "post"}:
            raise InputError(f"{name} subjects {', '.join(group)} have only session "
                             f"{', '.join(sorted(sessions)) or 'none'}: a classifier needs both "
                             "Pre and Post strides (a single class)")
    _check_folds(train, (df[df["subject"].isin(train)]["session"] == POSITIVE).to_numpy())
    absent = set(meta.get("absent", ()))
    table1 = paired_ttests(df[df["subject"].isin(train)],
                           features=[f for f in TABLE1_FEATURES if f not in absent], alpha=alpha)
    if select:
        unknown = [f for f in select if f not in df.columns]
        if unknown:
            raise InputError(f"--select: unknown feature {unknown[0]!r}")
        gone = [f for f in select if f in absent]
        if gone:
            raise InputError(f"--select: feature {gone[0]!r} is absent (empty in the input)")
        feats = list(select)
    else:
        feats = [r["feature"] for r in table1 if r["selected"]]
        if not feats:
            raise InputError(f"no feature has p < {alpha:g} over training subjects "
                             f"{', '.join(train)}; "
                             "nothing to classify on (see python -m sw.feature_select)")
    X = df[feats].to_numpy(dtype=float)
    ok = np.all(np.isfinite(X), axis=1)
    X = X.astype(np.float32).astype(np.float64)
    y = (df["session"].to_numpy() == POSITIVE).astype(np.int64)
    g = df["subject"].to_numpy()
    tr = ok & np.isin(g, train)
    te = ok & np.isin(g, test)
    for name, m in (("training", tr), ("test", te)):
        if len(set(y[m])) < 2:
            raise InputError(f"{name} rows hold a single class after dropping NaN features")
    _check_folds(train, y[tr], " after dropping NaN features")
    return Dataset(features=feats, train_subjects=list(train), test_subjects=test,
                   X_train=X[tr], y_train=y[tr], g_train=g[tr],
                   X_test=X[te], y_test=y[te], g_test=g[te], table1=table1,
                   dropped=int((~ok).sum()), synthetic=meta.get("source") == "synthetic",
                   source=meta.get("source", ""))
