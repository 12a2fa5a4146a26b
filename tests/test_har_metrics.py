"""Scores of :mod:`sw.har_metrics` against scikit-learn on random labels (seeded)."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from sw.har_metrics import classification_metrics
from tests.seeding import seeds


@pytest.mark.parametrize("seed", seeds(1, 2, 3))
def test_against_sklearn(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 13))
    y = rng.integers(0, k, 300)
    pred = np.where(rng.random(300) < 0.7, y, rng.integers(0, k, 300))
    names = [f"c{i}" for i in range(k)]
    m = classification_metrics(y, pred, names)
    present = sorted(set(y.tolist()) | set(pred.tolist()))
    print(f"[seed={seed}] k={k}: accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}")
    assert np.isclose(m["accuracy"], accuracy_score(y, pred))
    assert np.isclose(m["macro_f1"], f1_score(y, pred, average="macro", labels=present))
    per = f1_score(y, pred, average=None, labels=list(range(k)), zero_division=0)
    for i, n in enumerate(names):
        if i in present:
            assert np.isclose(m["per_class_f1"][n], per[i])
        else:
            assert m["per_class_f1"][n] is None
    assert m["confusion"] == confusion_matrix(y, pred, labels=list(range(k))).tolist()


def test_bad_input():
    with pytest.raises(ValueError, match="shape"):
        classification_metrics([0, 1], [0], ["a", "b"])
    with pytest.raises(ValueError, match="0..1"):
        classification_metrics([0, 2], [0, 1], ["a", "b"])
