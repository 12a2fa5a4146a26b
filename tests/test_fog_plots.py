"""ROC points and the PNG figures of :mod:`sw.fog_plots`."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from sw import fog_plots
from tests.seeding import seeds


@pytest.mark.parametrize("seed", seeds(4, 5))
def test_roc_points_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(300) < 0.2
    p = np.round(rng.random(300) * 0.6 + 0.4 * y, 2)          # ties on purpose
    fpr, tpr = fog_plots.roc_points(y, p)
    f2, t2, _ = roc_curve(y, p, drop_intermediate=False)
    assert np.allclose(fpr, f2) and np.allclose(tpr, t2)
    assert np.isclose(np.trapezoid(tpr, fpr), roc_auc_score(y, p))


def test_figures_are_png_files(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.random(200) < 0.3
    p = np.clip(0.5 * y + rng.random(200) * 0.6, 0, 1)
    name = fog_plots.roc(str(tmp_path / "roc.png"), [("fold 1", y, p, 0.5), ("pooled", y, p, 0.5)],
                         "ROC", points=[("freeze index", 0.6, 0.8)])
    assert name == "roc.png"
    end = np.arange(200) + 2.0
    name2 = fog_plots.timeline(str(tmp_path / "t.png"), "S01R02", end, y, p, 0.5,
                               episodes=[(10.0, 20.0)])
    for n in (name, name2):
        data = (tmp_path / n).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert sorted(f.name for f in tmp_path.iterdir()) == ["roc.png", "t.png"]
