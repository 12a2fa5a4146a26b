"""Run emitted sequence-model C on windows and hold it against Keras (host and qemu-arm).

Used by the trainers (:mod:`sw.train_har`, :mod:`sw.train_stress`): :func:`c_check` builds
every model of a folder once per target, runs each on its windows and compares with the Keras
outputs; :func:`violations` turns the checks into one line per broken bound. Labels are the
class of the largest output, or ``p >= 0.5`` for a single output.
"""

import os
import sys

import numpy as np

__all__ = ["c_check", "violations", "labels", "arm_index"]


def labels(p):
    """Class labels of outputs ``p`` (n, k): argmax, or ``p[:, 0] >= 0.5`` when k = 1."""
    p = np.asarray(p)
    return (p[:, 0] >= 0.5).astype(np.int64) if p.shape[1] == 1 else p.argmax(axis=1)


def arm_index(n, count):
    """``count`` window indexes evenly spaced over ``n`` (all when ``count`` < 0 or >= n)."""
    if count < 0 or count >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, count).round().astype(np.int64))


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def c_check(entries, tmp, arm_idx=None, name="check"):
    """Build once, run every C model on its windows; compare with Keras.

    ``entries``: cname -> (X, keras outputs (n, k), weights); X is (n, ...) with the inputs of
    a several-input model flattened one after the other per row; the sources
    ``tmp/<cname>.c/.h`` exist. Host ``cc`` on every window; with ``arm_idx`` (window indexes)
    also the Cortex-A9 build under ``qemu-arm`` on those windows, whose printed output must
    equal the host's. Returns ({cname: check dict}, {cname: C outputs (host)}).
    """
    from sw import c_build
    names = list(entries)
    exe = c_build.build_sequence(tmp, names, os.path.join(tmp, name))
    exe_arm = None
    if arm_idx is not None:
        exe_arm = c_build.build_sequence(tmp, names, os.path.join(tmp, name + "_arm"), arm=True)
    checks, outputs = {}, {}
    for cname, (X, p, weights) in entries.items():
        X = np.asarray(X, np.float32).reshape(len(X), -1)
        p = np.asarray(p, np.float64).reshape(len(X), -1)
        yc, _ = c_build.run_sequence(exe, cname, X)
        outputs[cname] = yc
        same_arm, n_arm = None, 0
        if exe_arm is not None and len(X):
            sub = X[np.asarray(arm_idx)[np.asarray(arm_idx) < len(X)]]
            n_arm = len(sub)
            _say(f"C check: {cname} ({weights}) on {n_arm} windows under qemu-arm")
            same_arm = (c_build.run_sequence(exe_arm, cname, sub, arm=True)[1]
                        == c_build.run_sequence(exe, cname, sub)[1])
        d = float(np.max(np.abs(yc - p))) if len(X) else 0.0
        agree = float(np.mean(labels(yc) == labels(p))) if len(X) else 1.0
        checks[cname] = {"windows": int(len(X)), "weights": weights, "max_abs_dp": d,
                         "class_agreement": agree, "classes_identical": agree == 1.0,
                         "arm_windows": n_arm, "arm_identical": same_arm}
    return checks, outputs


def violations(checks, tol, int8_agreement):
    """One line per check outside its bound: float32 C within ``tol`` of Keras with the same
    labels; int8 labels equal to float Keras' on at least ``int8_agreement`` of the windows;
    the ARM output identical to the host's."""
    bad = []
    for n, c in checks.items():
        if c["weights"] == "float32":
            if c["max_abs_dp"] > tol:
                bad.append(f"{n}: max |C - Keras| {c['max_abs_dp']:.3g} > {tol:g}")
            elif not c["classes_identical"]:
                bad.append(f"{n}: classes differ from Keras")
        elif c["class_agreement"] < int8_agreement:
            bad.append(f"{n}: int8 classes equal to Keras on {100 * c['class_agreement']:.2f}% "
                       f"< {100 * int8_agreement:g}%")
        if c["arm_identical"] is False:
            bad.append(f"{n}: qemu-arm output differs from the host build")
    return bad
