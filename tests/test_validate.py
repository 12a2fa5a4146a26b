"""The real-recording validation (bench.validate) on ../shared/data: the stride rule pays off."""

import json

import numpy as np
import pytest

from bench import validate
from spec.cli import json_default

pytestmark = pytest.mark.skipif(not (validate.DATA / "emg-lower-limb-uci").is_dir(),
                                reason=f"real recordings not found in {validate.DATA} "
                                       "(see ../shared/data/README.md)")


@pytest.fixture(scope="module")
def uci(tmp_path_factory):
    return validate.uci_validation(sim="none", plot_dir=tmp_path_factory.mktemp("plots"),
                                   progress=lambda m: None)


def test_stride_onset_rule_matches_the_goniometer_better_than_bare_edges(uci):
    new, old, _ = (uci["summary"][v[0]] for v in validate.VARIANTS)
    # before the rule, hamstring bursts split nearly every gait cycle
    assert old["split"] > 0.7 * old["strides"]
    assert new["matched_pct"] > 50 and new["matched_pct"] > 3 * old["matched_pct"]
    assert new["abs_err_median_ms"] < 100
    assert sum(f["gonio_cycles"] for f in uci["files"]) > 150


def test_every_walk_is_scored_and_plots_written(uci):
    assert len(uci["files"]) == 16
    assert all(f["gonio_cycles"] >= 3 for f in uci["files"])
    signs = {f["file"]: f["knee_sign"] for f in uci["files"]}
    assert signs["1Amar.txt"] == -1 and signs["1Nmar.txt"] == 1   # mixed signs in the real files
    for p in uci["plots"].values():
        assert p.endswith(".png")
    json.dumps(uci, default=json_default)


def test_physionet_golden_within_documented_bound_of_float():
    r = validate.physionet_validation(sim="none", progress=lambda m: None)
    g = r["golden_minus_float"]
    assert g["n"] > 3000 and g["max_abs_db"] < 0.25
    assert {f["file"] for f in r["files"]} == {"S001R03.edf", "S001R07.edf"}
    assert all(f["move_events"] == 15 and f["rest_events"] >= 14 for f in r["files"])
    c = {(x["offset_s"], x["site"], x["band"]): x for x in r["contrast"]}
    assert np.isfinite(c[(1.0, "C3", "mu")]["change_db"])


def test_cli_refuses_missing_data_folder(tmp_path, capsys):
    assert validate.main(["--data", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err
    assert not (tmp_path / "VALIDATION.md").exists()
