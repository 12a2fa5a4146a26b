"""Build the ARM-side monitor (``boards/arm/wo_monitor.c``) with an emitted classifier.

``build(model_dir, model, out, arm=False)`` compiles ``wo_monitor.c`` with
``<model_dir>/<model>.c`` (from ``python -m sw.train_dnn``, e.g. ``wo_dnn4_f32``)
for the host (``cc``) or the Cortex-A9 (``arm-linux-gnueabihf-gcc -mcpu=cortex-a9
-mfpu=neon -mfloat-abi=hard``, static so ``qemu-arm`` runs it); ``run(exe, data)``
feeds frame bytes on stdin (``--file -``) and returns the printed text.
``fake_bridge=True`` links ``arm/wo_fake_bridge.c`` instead of ``/dev/mem`` (host
tests of ``--devmem [--replay]``).

``har=MODEL_DIR`` (``--har``, a ``python -m sw.train_har`` folder) also compiles in the activity
context (``arm/wo_activity.c`` and the model's emitted C, ``config.json``'s ``c_int8`` or, with
``har_weights="float32"``, ``c``): wo_monitor then runs the model on the IMU frames and tags every
STRIDE line with ``activity p_activity walking activity_end_s`` (the rule of
:mod:`sw.activity_context`; ``docs/imu-ingress.md``). Without it the build is the plain one.

On the board: copy the static ARM binary and run ``./wo_monitor --devmem`` as root
(``--imu /dev/ttyACM0``: the IMU stream, with ``--har``).

Errors of ``python -m boards.arm_program``: a model header that is not UTF-8 text or lacks its
feature names, a ``--har`` folder that is not a HAR model for the IMU frames (config, channels,
rate, emitted C), one line, exit 2; a missing model or compiler, one line, exit 1; a failed
compilation, one line naming the compiler and its exit status followed by its own messages
(the error lines first, at most :data:`STDERR_LINES` lines), exit 1. ``--out`` is written
atomically, never onto an input (the model's ``.c``/``.h``) or a symlink, FIFO, device or
folder (one line, exit 2).
"""

import json
import os
import re
import shutil
import subprocess
import sys

from spec.cli import InputError, fail, parser
from spec.constants import DEFAULT_OUT
from spec.frames import IMU_CHANNELS, IMU_FS
from spec.outputs import atomic_path, check_output_file
from sw.activity_context import walking_mask
from sw.c_build import ARM_CC, ARM_FLAGS
from sw.c_emit import CFLAGS

__all__ = ["build", "run", "SOURCE", "ACTIVITY_SOURCE", "BuildError", "STDERR_LINES",
           "har_macros"]

PROG = "boards.arm_program"

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "arm")
SOURCE = os.path.join(HERE, "wo_monitor.c")
ACTIVITY_SOURCE = os.path.join(HERE, "wo_activity.c")
#: compiler messages shown on a failed build (the last lines)
STDERR_LINES = 20


class BuildError(RuntimeError):
    """The compiler failed: ``str()`` is the whole command and stderr; ``summary`` one line,
    ``tail`` at most :data:`STDERR_LINES` lines of the compiler's stderr: its error lines first
    (up to half of them), then the last of the others."""

    def __init__(self, cmd, returncode, stderr):
        super().__init__(f"{' '.join(cmd)} failed:\n{stderr}")
        self.summary = f"{cmd[0]} failed (exit {returncode}) building {os.path.basename(cmd[-1])}"
        lines = stderr.rstrip("\n").splitlines()
        errors = [ln for ln in lines if re.search(r"\b(error|Error)\b", ln)][:STDERR_LINES // 2]
        rest = [ln for ln in lines if ln not in errors][-(STDERR_LINES - len(errors)):]
        self.tail = errors + rest


def _read_text(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file ({what})") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset "
                         f"{e.start}); {what}") from None


def har_macros(har, weights="int8"):
    """``(c_source, compiler flags)`` of the activity context for the HAR model folder ``har``.

    :class:`InputError` (one line) when ``config.json`` is not a HAR model of the IMU frames
    (channels :data:`spec.frames.IMU_CHANNELS` at :data:`spec.frames.IMU_FS` Hz) or its emitted
    C is missing or has no streaming API."""
    cpath = os.path.join(har, "config.json")
    try:
        cfg = json.loads(_read_text(cpath, "a python -m sw.train_har folder"))
    except json.JSONDecodeError as e:
        raise InputError(f"{cpath}: not JSON ({e.msg}, line {e.lineno})") from None
    key = {"int8": "c_int8", "float32": "c"}[weights]
    if not isinstance(cfg, dict) or cfg.get("kind") != "har" or key not in cfg:
        raise InputError(f"{cpath}: not a python -m sw.train_har config (kind 'har' and {key!r})")
    names = cfg.get("class_names")
    if list(cfg.get("channels", ())) != list(IMU_CHANNELS) or cfg.get("fs") != IMU_FS:
        raise InputError(f"{cpath}: channels {cfg.get('channels')} at {cfg.get('fs')} Hz; the "
                         f"IMU frames carry {', '.join(IMU_CHANNELS)} at {IMU_FS} Hz")
    if not (isinstance(names, list) and names
            and all(isinstance(n, str) and re.fullmatch(r"\w+", n) for n in names)):
        raise InputError(f"{cpath}: class_names must be a list of identifiers")
    src = os.path.join(har, cfg[key])
    name = os.path.splitext(os.path.basename(src))[0]
    N = name.upper()
    header = _read_text(os.path.join(os.path.dirname(src), name + ".h"),
                        f"the header of {cfg[key]}, from python -m sw.train_har")
    if not os.path.isfile(src):
        raise InputError(f"{src}: no such file (named by {cpath})")
    n_out = re.search(rf"#define {N}_N_OUT (\d+)", header)
    if not re.search(rf"\bint {name}_push\(", header) or not n_out:
        raise InputError(f"{src[:-2]}.h has no {name}_push (not emitted by "
                         "sw.c_emit.emit_keras_sequence with a streaming API?)")
    if int(n_out[1]) != len(names):
        raise InputError(f"{cpath}: {len(names)} class names for {n_out[1]} model outputs")
    flags = [f"-I{os.path.dirname(src)}", f"-DWO_HAR_MODEL={name}",
             f'-DWO_HAR_HEADER="{name}.h"', f"-DWO_HAR_T={N}_T", f"-DWO_HAR_C={N}_C",
             f"-DWO_HAR_N_OUT={N}_N_OUT",
             "-DWO_HAR_CLASS_NAMES=" + ",".join(f'"{n}"' for n in names),
             f"-DWO_HAR_WALKING_MASK=0x{walking_mask(names):X}u"]
    return src, flags


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def build(model_dir, model, out, arm=False, fake_bridge=False, har=None, har_weights="int8"):
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
    if har is not None:  # the activity context: wo_activity.c and the HAR model's C
        src, flags = har_macros(har, har_weights)
        cmd[-3:-3] = [*flags, ACTIVITY_SOURCE, src]
    out = check_output_file(out, [cmd[-3], SOURCE, hpath] + ([src] if har is not None else []),
                            option="--out")
    with atomic_path(out) as tmp:       # the linker writes aside; a failed build leaves out as is
        cmd[-1] = tmp
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        if r.returncode:
            raise BuildError(cmd[:-1] + [out], r.returncode, r.stderr)
        os.chmod(tmp, os.stat(tmp).st_mode | 0o111 & ~_umask())
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
    ap.add_argument("--har", metavar="MODEL_DIR",
                    help="also run this python -m sw.train_har model on the IMU frames and tag "
                         "each stride with its activity (docs/imu-ingress.md)")
    ap.add_argument("--har-weights", choices=("int8", "float32"), default="int8",
                    help="which emitted C of --har (default int8, the deployed one)")
    a = ap.parse_args(argv)
    for ext in (".c", ".h"):
        if not os.path.isfile(os.path.join(a.model_dir, a.model + ext)):
            return fail(PROG, f"{os.path.join(a.model_dir, a.model + ext)} not found "
                              "(run python -m sw.train_dnn first)")
    try:
        exe = build(a.model_dir, a.model, a.out, a.arm, har=a.har, har_weights=a.har_weights)
    except InputError as e:
        return fail(PROG, e)
    except BuildError as e:
        fail(PROG, e.summary, 1)
        for line in e.tail:
            print(f"  {line}", file=sys.stderr)
        return 1
    except (RuntimeError, OSError) as e:
        return fail(PROG, e, 1)
    print(f"wrote {exe} ({'Cortex-A9, static' if a.arm else 'host'}"
          f"{', activity context ' + a.har if a.har else ''})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
