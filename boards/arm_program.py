"""Build the ARM-side monitor (``boards/arm/wo_monitor.c``) with an emitted classifier.

``build(model_dir, model, out, arm=False)`` compiles ``wo_monitor.c`` with
``<model_dir>/<model>.c`` (from ``python -m sw.train_dnn``, e.g. ``wo_dnn4_f32``)
for the host (``cc``) or the Cortex-A9 (``arm-linux-gnueabihf-gcc -mcpu=cortex-a9
-mfpu=neon -mfloat-abi=hard``, static so ``qemu-arm`` runs it); ``run(exe, data)``
feeds frame bytes on stdin (``--file -``) and returns the printed text.
``fake_bridge=True`` links ``arm/wo_fake_bridge.c`` instead of ``/dev/mem`` (host
tests of ``--devmem [--replay]``).

On the board: copy the static ARM binary and run ``./wo_monitor --devmem`` as root.

Errors of ``python -m boards.arm_program``: a model header that is not UTF-8 text or lacks its
feature names, one line, exit 2; a missing model or compiler, one line, exit 1; a failed
compilation, one line naming the compiler and its exit status followed by the last
:data:`STDERR_LINES` lines of the compiler's own messages, exit 1.
"""

import os
import re
import shutil
import subprocess
import sys

from spec.cli import InputError, fail, parser
from spec.constants import DEFAULT_OUT
from sw.c_build import ARM_CC, ARM_FLAGS
from sw.c_emit import CFLAGS

__all__ = ["build", "run", "SOURCE", "BuildError", "STDERR_LINES"]

PROG = "boards.arm_program"

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "arm")
SOURCE = os.path.join(HERE, "wo_monitor.c")
#: compiler messages shown on a failed build (the last lines)
STDERR_LINES = 20


class BuildError(RuntimeError):
    """The compiler failed: ``str()`` is the whole command and stderr; ``summary`` one line,
    ``tail`` the last :data:`STDERR_LINES` lines of the compiler's stderr."""

    def __init__(self, cmd, returncode, stderr):
        super().__init__(f"{' '.join(cmd)} failed:\n{stderr}")
        self.summary = f"{cmd[0]} failed (exit {returncode}) building {os.path.basename(cmd[-1])}"
        self.tail = stderr.rstrip("\n").splitlines()[-STDERR_LINES:]


def build(model_dir, model, out, arm=False, fake_bridge=False):
    cc = ARM_CC if arm else os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise RuntimeError(
            f"{cc} not found (apt-get install {'gcc-arm-linux-gnueabihf' if arm else 'gcc'})"
        )
    N = model.upper()
    hpath = os.path.join(model_dir, f"{model}.h")
    try:
        with open(hpath, encoding="utf-8") as f:
            header = f.read()
    except UnicodeDecodeError as e:
        raise InputError(f"{hpath}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset "
                         f"{e.start}); give the header python -m sw.train_dnn emitted") from None
    if not re.search(rf"#define {N}_FEATURE_NAMES", header):
        raise InputError(f"{hpath} has no {N}_FEATURE_NAMES (not a python -m sw.train_dnn "
                         "header?)")
    cmd = [
        cc,
        *CFLAGS,
        *(ARM_FLAGS + ["-static"] if arm else []),
        f"-I{HERE}",
        f"-I{model_dir}",
        f'-DWO_HEADER="{model}.h"',
        f"-DWO_PREDICT={model}_predict",
        f"-DWO_N_FEATURES={N}_N_FEATURES",
        f"-DWO_FEATURE_NAMES={N}_FEATURE_NAMES",
        SOURCE,
        os.path.join(model_dir, f"{model}.c"),
        "-o",
        out,
    ]
    if fake_bridge:     # host tests of --devmem: registers from boards/arm/wo_fake_bridge.c
        cmd[-3:-3] = ["-DWO_FAKE_BRIDGE", os.path.join(HERE, "wo_fake_bridge.c")]
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if r.returncode:
        raise BuildError(cmd, r.returncode, r.stderr)
    return out


def run(exe, data, arm=False):
    cmd = (["qemu-arm"] if arm else []) + [exe, "--file", "-"]
    r = subprocess.run(cmd, input=data, capture_output=True)
    if r.returncode:
        raise RuntimeError(
            f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.decode(errors='replace')}"
        )
    return r.stdout.decode()


def main(argv=None):
    ap = parser(PROG, "Build wo_monitor with an emitted classifier (host or Cortex-A9).")
    ap.add_argument("--model-dir", default=str(DEFAULT_OUT / "dnn4" / "c"),
                    help=f"folder with <model>.c/.h (default {DEFAULT_OUT / 'dnn4' / 'c'}, "
                         "from python -m sw.train_dnn)")
    ap.add_argument(
        "--model", default="wo_dnn4_f32", help="emitted model name (default wo_dnn4_f32)"
    )
    ap.add_argument(
        "--out", default="wo_monitor", help="executable to write (default ./wo_monitor)"
    )
    ap.add_argument(
        "--arm", action="store_true", help="cross-compile for the DE10-Nano's Cortex-A9 (static)"
    )
    a = ap.parse_args(argv)
    for ext in (".c", ".h"):
        if not os.path.isfile(os.path.join(a.model_dir, a.model + ext)):
            return fail(PROG, f"{os.path.join(a.model_dir, a.model + ext)} not found "
                              "(run python -m sw.train_dnn first)")
    try:
        exe = build(a.model_dir, a.model, a.out, a.arm)
    except InputError as e:
        return fail(PROG, e)
    except BuildError as e:
        fail(PROG, e.summary, 1)
        for line in e.tail:
            print(f"  {line}", file=sys.stderr)
        return 1
    except (RuntimeError, OSError) as e:
        return fail(PROG, e, 1)
    print(f"wrote {exe} ({'Cortex-A9, static' if a.arm else 'host'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
