"""Replay speed of the fast HDL engine (Verilator harness) vs the bit-exact golden models.

``python -m bench.sim_speed [SECONDS]`` prints a markdown table; :func:`measure_speed`
returns the numbers. The recording is synthetic (EMG of :func:`synthetic.emg_gen.generate_walk`,
7 EEG sites of :func:`synthetic.eeg_gen.generate_eeg`), ``SECONDS`` long at
:data:`spec.constants.FS`. Each engine runs on a short prefix (a tenth) and on the whole
recording; the rate is the marginal one, ``(n_long - n_short) / (t_long - t_short)``, so
that process start-up and the one-time Verilator build (reported as ``build_s``) are
excluded. The pair is timed :data:`REPEATS` times and the fastest short and long runs give
the rate (as ``timeit`` does: on a shared machine noise only ever adds time -- here the same
run's CPU time varied by 1.4x between repeats), with the median and every repeat's own rate
beside it.
"""

import resource
import sys
import time

import numpy as np

from spec.constants import FS

__all__ = ["measure_speed", "speed_table", "recording", "REPEATS", "SHORT_FRAC"]

#: timed repeats of each engine's (short, long) pair
REPEATS = 3
#: the short run: this fraction of the recording
SHORT_FRAC = 0.1


def recording(seconds, seed=1):
    """``(emg, eeg)`` int16 arrays, ``seconds * FS`` frames (8 EMG, 7 EEG channels)."""
    from synthetic.eeg_gen import generate_eeg
    from synthetic.emg_gen import generate_walk
    n = int(round(seconds * FS))
    strides = 20
    while True:
        w = generate_walk(seed, "post", n_strides=strides)
        if len(w.emg) >= n:
            break
        strides = int(strides * n / max(len(w.emg), 1) * 1.1) + 1
    emg = np.ascontiguousarray(w.emg[:n])
    eeg = generate_eeg(seed, n_samples=n).eeg[:n]
    return emg, eeg


def _cpu():
    """CPU seconds of this process and its finished children (the harness executables)."""
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ch.ru_utime + ch.ru_stime


def _marginal(run, n, short_frac=SHORT_FRAC, repeats=REPEATS):
    """Time ``run(k)`` on ``k = n * short_frac`` then ``n`` frames, ``repeats`` times. The
    rates come from the fastest short and the fastest long run (each minimum is the least
    disturbed measurement; a maximum of per-repeat marginal rates would reward a disturbed
    short run); the median and every repeat's own marginal rate are returned beside them."""
    k = max(1, int(n * short_frac))
    shorts, longs = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), _cpu()
        run(k)
        shorts.append((time.perf_counter() - t0, _cpu() - c0))
        t0, c0 = time.perf_counter(), _cpu()
        run(n)
        longs.append((time.perf_counter() - t0, _cpu() - c0))
    t_short, c_short = min(t for t, _ in shorts), min(c for _, c in shorts)
    t_long, c_long = min(t for t, _ in longs), min(c for _, c in longs)
    rate = (n - k) / max(t_long - t_short, 1e-9)
    cpu_rate = (n - k) / max(c_long - c_short, 1e-9)
    runs = [(n - k) / max(tl - ts, 1e-9) / FS for (ts, _), (tl, _) in zip(shorts, longs)]
    return {"samples": n, "seconds": n / rate, "samples_per_s": rate,
            "x_real_time": rate / FS, "wall_s": t_long, "cpu_samples_per_s": cpu_rate,
            "cpu_x_real_time": cpu_rate / FS, "repeats": repeats,
            "x_real_time_median": float(np.median(runs)),
            "x_real_time_runs": [round(x, 1) for x in runs]}


def measure_speed(seconds=600.0, seed=1, engines=("fabric_fast", "emg_fast", "fabric_golden",
                                                   "emg_golden")):
    """Measure replay rates on one synthetic recording of ``seconds`` seconds.

    Parameters
    ----------
    seconds : float
        Length of the recording (600 s = 300 000 frames at 500 Hz).
    seed : int
        Seed of the synthetic recording.
    engines : sequence of str
        Which of ``fabric_fast``, ``emg_fast``, ``fabric_golden``, ``emg_golden`` to run.

    Returns
    -------
    dict
        ``{engine: {"samples", "seconds", "samples_per_s", "x_real_time", "wall_s",
        "cpu_samples_per_s", "cpu_x_real_time", "repeats", "x_real_time_median",
        "x_real_time_runs", "build_s"}}``: ``seconds`` is the marginal wall time for
        ``samples`` frames (start-up excluded) from the fastest short and long runs,
        ``wall_s`` the fastest whole-recording run, ``cpu_*`` the same in CPU time,
        ``x_real_time_median`` / ``x_real_time_runs`` the median and every repeat,
        ``build_s`` the one-time Verilator build (0 when cached; golden engines: 0).
    """
    from golden.emg_pipeline import run_golden
    from golden.fabric_pipeline import run_golden_fabric
    emg, eeg = recording(seconds, seed)
    n = len(emg)
    results = {}
    for name in engines:
        build_s = 0.0
        if name == "fabric_fast":
            from sim.fabric_hdl_engine import FabricTaps, run_hdl_fabric
            from sim.fast_engine import build_fast
            _, build_s = build_fast(FabricTaps(n_eeg=eeg.shape[1]), "fabric_taps", "fabric_top")

            def run(k):
                run_hdl_fabric(emg[:k], eeg[:k])
        elif name == "emg_fast":
            from hdl.emg_branch import EMGBranch
            from sim.emg_hdl_engine import run_hdl
            from sim.fast_engine import build_fast
            _, build_s = build_fast(EMGBranch(16, None), "emg_branch", "emg_branch")

            def run(k):
                run_hdl(emg[:k], sim="fast")
        elif name == "fabric_golden":
            def run(k):
                run_golden_fabric(emg[:k], eeg[:k])
        elif name == "emg_golden":
            def run(k):
                run_golden(emg[:k])
        else:
            raise ValueError(f"unknown engine {name!r}")
        results[name] = {**_marginal(run, n), "build_s": build_s}
    return results


def speed_table(results):
    """Markdown table of :func:`measure_speed` results."""
    lines = ["| engine | frames | marginal s | frames/s | x real time (best) | median | repeats "
             "| CPU x real time | wall s | build s |",
             "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for name, r in results.items():
        runs = ", ".join(f"{x:.0f}" for x in r["x_real_time_runs"])
        lines.append(f"| {name} | {r['samples']} | {r['seconds']:.2f} | {r['samples_per_s']:,.0f} "
                     f"| {r['x_real_time']:,.0f} | {r['x_real_time_median']:,.0f} | {runs} "
                     f"| {r['cpu_x_real_time']:,.0f} | {r['wall_s']:.2f} | {r['build_s']:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    seconds = float(argv[0]) if argv else 600.0
    print(speed_table(measure_speed(seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
