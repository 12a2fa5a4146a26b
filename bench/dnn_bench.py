"""Instructions per inference of the emitted classifier C (host build, valgrind callgrind).

Usage::

    python -m bench.dnn_bench [--dir out/dnn4/c] [--rows 200]

For every ``wo_*.c`` in ``--dir`` (default ``out/dnn4/c``, written by
``python -m sw.train_dnn``): builds the test driver with the host ``cc``
(``sw.c_build.CFLAGS``), runs ``valgrind --tool=callgrind
--toggle-collect=<model>_predict`` over ``--rows`` random feature rows and
prints the instructions counted inside ``predict`` per call (x86-64 host
instructions: repeatable, machine-load independent; not Cortex-A9 cycles) and, for
models with a decision-only entry point (the DNNs), inside ``decide``; plus, when
``arm-linux-gnueabihf-gcc`` and ``qemu-arm`` are installed, the ARM instructions per call
of the Cortex-A9 build (:func:`sw.c_build.arm_instructions_per_call`: ``qemu-arm
-singlestep -d nochain,exec``, one pass over the rows minus none) and the ARM Flash/RAM
of :func:`sw.c_build.arm_footprint`. The comparison with emlearn and TFLite Micro is
``python -m bench.dnn_compare``.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from spec.cli import fail, parser
from spec.constants import DEFAULT_OUT
from sw import c_build

PROG = "bench.dnn_bench"


def callgrind_per_call(exe, rows_text, fn, n):
    """x86-64 instructions inside ``fn`` per call: ``exe`` (a path, or a command list) over
    ``rows_text`` under ``valgrind --tool=callgrind --toggle-collect=fn``, divided by ``n``."""
    cmd = [exe] if isinstance(exe, str) else list(exe)
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        f"--toggle-collect={fn}", *cmd], input=rows_text, capture_output=True,
                       text=True, check=True)
        with open(out) as f:
            m = re.search(r"^(?:summary|totals):\s*(\d+)", f.read(), re.M)
    return int(m.group(1)) / n


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--dir", default=str(DEFAULT_OUT / "dnn4" / "c"))
    ap.add_argument("--rows", type=int, default=200)
    a = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        return fail(PROG, "valgrind not found (apt-get install valgrind)")
    srcs = sorted(glob.glob(os.path.join(a.dir, "wo_*.c")))
    srcs = [s for s in srcs if not s.endswith("wo_predict_main.c")]
    if not srcs:
        return fail(PROG, f"no wo_*.c in {a.dir} (run python -m sw.train_dnn first)")
    print("| C model | instructions / inference (x86-64, callgrind) | decide only (x86-64) | "
          "ARM instructions / inference (qemu-arm) | decide only (ARM) | ARM Flash B | "
          "ARM RAM B |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    arm = c_build.have_arm()
    with tempfile.TemporaryDirectory() as work:
        for src in srcs:
            name = os.path.basename(src)[:-2]
            hdr = open(os.path.join(a.dir, name + ".h")).read()
            n = int(re.search(r"_N_FEATURES (\d+)", hdr).group(1))
            decide = f"int {name}_decide(" in hdr
            rng = np.random.default_rng(0)
            X = rng.normal(size=(a.rows, n)) * 10 + 50
            text = c_build.format_rows(X)
            exe = c_build.build(a.dir, name, os.path.join(work, name))
            ipc = callgrind_per_call(exe, text, f"{name}_predict", a.rows)
            ipc_d = (callgrind_per_call([exe, "--decide"], text, f"{name}_decide", a.rows)
                     if decide else None)
            arm_p = arm_d = None
            if arm:
                exe = c_build.build(a.dir, name, os.path.join(work, name + ".arm"), arm=True)
                arm_p = c_build.arm_instructions_per_call(exe, text, a.rows)
                if decide:
                    arm_d = c_build.arm_instructions_per_call(exe, text, a.rows, ["--decide"])
            fp = c_build.arm_footprint(a.dir, name, work) if shutil.which(c_build.ARM_CC) else None
            print(
                f"| {name} | {ipc:.0f} | {_fmt(ipc_d)} | {_fmt(arm_p)} | {_fmt(arm_d)} | "
                f"{fp['flash'] if fp else '-'} | {fp['ram'] if fp else '-'} |"
            )
    return 0


def _fmt(v):
    return "-" if v is None else f"{v:.0f}"


if __name__ == "__main__":
    sys.exit(main())
