"""Compile and run emitted classifier C on the host and for the Cortex-A9; measure Flash/RAM.

* :func:`build` -- host ``cc`` or ``arm-linux-gnueabihf-gcc -mcpu=cortex-a9
  -mfpu=neon -mfloat-abi=hard`` (static, so ``qemu-arm`` runs it without a
  sysroot), with the test driver ``sw/c/wo_predict_main.c``.
* :func:`run` -- feed feature rows, parse ``label,score`` lines (under
  ``qemu-arm`` for an ARM build).
* :func:`arm_footprint` -- compile the model alone for the Cortex-A9 with
  ``-fstack-usage`` and read ``arm-linux-gnueabihf-size -A``:
  Flash = ``.text + .rodata* + .data``, RAM = ``.data + .bss`` + the stack of
  every function of the file summed (an upper bound of the deepest call
  chain: the generated code calls each helper at most once per level; no
  libm or libc call is made).

Install on Debian: ``apt-get install gcc-arm-linux-gnueabihf qemu-user``
(``make setup`` does it).
"""

import os
import re
import shutil
import subprocess

import numpy as np

from sw.c_emit import CFLAGS

__all__ = ["ARM_CC", "ARM_FLAGS", "build", "run", "arm_footprint", "have_arm", "DRIVER"]

ARM_CC = "arm-linux-gnueabihf-gcc"
ARM_SIZE = "arm-linux-gnueabihf-size"
ARM_FLAGS = ["-mcpu=cortex-a9", "-mfpu=neon", "-mfloat-abi=hard"]
DRIVER = os.path.join(os.path.dirname(__file__), "c", "wo_predict_main.c")


def have_arm():
    return shutil.which(ARM_CC) is not None and shutil.which("qemu-arm") is not None


def _model_macros(name):
    N = name.upper()
    return [f'-DWO_HEADER="{name}.h"', f"-DWO_PREDICT={name}_predict",
            f"-DWO_N_FEATURES={N}_N_FEATURES"]


def build(src_dir, name, out, arm=False, extra=()):
    """Compile driver + ``src_dir/name.c`` into executable ``out``; returns ``out``."""
    cc = ARM_CC if arm else os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise RuntimeError(f"{cc} not found (apt-get install "
                           f"{'gcc-arm-linux-gnueabihf qemu-user' if arm else 'gcc'})")
    cmd = [cc, *CFLAGS, *(ARM_FLAGS + ["-static"] if arm else []), *extra, f"-I{src_dir}",
           *_model_macros(name), DRIVER, os.path.join(src_dir, f"{name}.c"), "-o", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return out


def format_rows(X):
    """Feature rows -> driver input text (shortest float32 repr, round-trips through strtof)."""
    X = np.asarray(X, np.float32)
    return "".join(",".join(np.format_float_positional(v, unique=True, trim="0") if abs(v) < 1e7
                            else np.format_float_scientific(v, unique=True) for v in row) + "\n"
                   for row in X)


def run(exe, X, arm=False, text=None):
    """Run an executable from :func:`build` over rows ``X``; returns (labels, scores, stdout)."""
    cmd = (["qemu-arm", exe] if arm else [exe])
    r = subprocess.run(cmd, input=text if text is not None else format_rows(X),
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()}")
    rows = [ln.split(",") for ln in r.stdout.splitlines()]
    return (np.array([int(a) for a, _ in rows], np.int64),
            np.array([float(b) for _, b in rows]), r.stdout)


def arm_footprint(src_dir, name, workdir):
    """Flash/RAM bytes of ``name.c`` compiled for the Cortex-A9 (see module docstring)."""
    if shutil.which(ARM_CC) is None:
        raise RuntimeError(f"{ARM_CC} not found (apt-get install gcc-arm-linux-gnueabihf)")
    src_dir, workdir = os.path.abspath(src_dir), os.path.abspath(workdir)
    obj = os.path.join(workdir, f"{name}.o")
    cmd = [ARM_CC, *CFLAGS, *ARM_FLAGS, "-fstack-usage", f"-I{src_dir}", "-c",
           os.path.join(src_dir, f"{name}.c"), "-o", obj]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr}")
    size = subprocess.run([ARM_SIZE, "-A", obj], capture_output=True, text=True, check=True).stdout
    sec = {}
    for ln in size.splitlines():
        m = re.match(r"^(\.\S+)\s+(\d+)\s+\d+", ln)
        if m:
            sec[m.group(1)] = int(m.group(2))
    text_ = sec.get(".text", 0)
    rodata = sum(v for k, v in sec.items() if k.startswith(".rodata"))
    data = sec.get(".data", 0)
    bss = sec.get(".bss", 0)
    su = os.path.join(workdir, f"{name}.su")
    stack = 0
    with open(su) as f:
        for ln in f:
            parts = ln.rstrip("\n").split("\t")
            if len(parts) >= 2:
                stack += int(parts[1])
    return {"text": text_, "rodata": rodata, "data": data, "bss": bss, "stack": stack,
            "flash": text_ + rodata + data, "ram": data + bss + stack}
