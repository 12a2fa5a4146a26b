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

* :func:`build_sequence` / :func:`run_sequence` -- the same for sequence models of
  :func:`sw.c_emit.emit_keras_sequence`: any number of models in one executable (one
  compile), driver ``sw/c/wo_seq_main.c``, windows or a stream of samples.

Install on Debian: ``apt-get install gcc-arm-linux-gnueabihf qemu-user``
(``make setup`` does it).
"""

import os
import re
import shutil
import subprocess

import numpy as np

from sw.c_emit import CFLAGS

__all__ = ["ARM_CC", "ARM_FLAGS", "build", "run", "arm_footprint", "have_arm", "DRIVER",
           "SEQ_DRIVER", "build_sequence", "run_sequence", "qemu_instructions",
           "arm_instructions_per_call"]

ARM_CC = "arm-linux-gnueabihf-gcc"
ARM_SIZE = "arm-linux-gnueabihf-size"
ARM_FLAGS = ["-mcpu=cortex-a9", "-mfpu=neon", "-mfloat-abi=hard"]
DRIVER = os.path.join(os.path.dirname(__file__), "c", "wo_predict_main.c")
SEQ_DRIVER = os.path.join(os.path.dirname(__file__), "c", "wo_seq_main.c")


def have_arm():
    return shutil.which(ARM_CC) is not None and shutil.which("qemu-arm") is not None


def _model_macros(src_dir, name):
    N = name.upper()
    macros = [f'-DWO_HEADER="{name}.h"', f"-DWO_PREDICT={name}_predict",
              f"-DWO_N_FEATURES={N}_N_FEATURES"]
    try:
        with open(os.path.join(src_dir, f"{name}.h")) as f:
            if f"int {name}_decide(const float *features);" in f.read():
                macros.append(f"-DWO_DECIDE={name}_decide")
    except OSError:
        pass                                     # the compiler names the missing header
    return macros


def build(src_dir, name, out, arm=False, extra=()):
    """Compile driver + ``src_dir/name.c`` into executable ``out``; returns ``out``.

    The driver gets ``-DWO_DECIDE=<name>_decide`` when the header declares that entry point
    (the emitted DNNs), so ``out --decide`` runs it.
    """
    cc = ARM_CC if arm else os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise RuntimeError(f"{cc} not found (apt-get install "
                           f"{'gcc-arm-linux-gnueabihf qemu-user' if arm else 'gcc'})")
    cmd = [cc, *CFLAGS, *(ARM_FLAGS + ["-static"] if arm else []), *extra, f"-I{src_dir}",
           *_model_macros(src_dir, name), DRIVER, os.path.join(src_dir, f"{name}.c"), "-o", out]
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


def run(exe, X, arm=False, text=None, args=()):
    """Run an executable from :func:`build` over rows ``X``; returns (labels, scores, stdout).

    ``args``: driver options (``--decide``, ``--repeat R``; see ``sw/c/wo_predict_main.c``).
    """
    cmd = (["qemu-arm", exe] if arm else [exe]) + list(args)
    r = subprocess.run(cmd, input=text if text is not None else format_rows(X),
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()}")
    rows = [ln.split(",") for ln in r.stdout.splitlines()]
    return (np.array([int(a) for a, _ in rows], np.int64),
            np.array([float(b) for _, b in rows]), r.stdout)


def qemu_instructions(cmd, stdin=None):
    """Instructions executed by the static ARM program ``cmd`` (a list) under ``qemu-arm``.

    ``qemu-arm -singlestep -d nochain,exec`` translates one guest instruction per block and
    logs one ``Trace`` line each time a block runs: one line per executed instruction
    (checked against a loop of known length on qemu 7.2). Deterministic for a given program
    and input.
    """
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "exec.log")
        r = subprocess.run(["qemu-arm", "-singlestep", "-d", "nochain,exec", "-D", log, *cmd],
                           input=stdin, capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"qemu-arm {' '.join(cmd)} exited {r.returncode}: "
                               f"{r.stderr.strip()[-500:]}")
        with open(log, "rb") as f:
            return sum(1 for ln in f if ln.startswith(b"Trace "))


def arm_instructions_per_call(exe, rows_text, n_rows, args=()):
    """ARM instructions per model call of a :func:`build` ``arm=True`` executable.

    The driver's ``--repeat`` mode runs the model over the ``n_rows`` rows R times after
    reading them; ``(count(R = 2) - count(R = 1)) / n_rows`` is one call plus the driver's
    loop around it (a handful of instructions).
    """
    one = qemu_instructions([exe, *args, "--repeat", "1"], rows_text)
    two = qemu_instructions([exe, *args, "--repeat", "2"], rows_text)
    return (two - one) / n_rows


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


def _seq_table(src_dir, names):
    """Header listing ``names`` for the sequence driver (streaming where the model has it)."""
    lines = ["/* wo_seq_table.h -- generated by sw.c_build.build_sequence; do not edit. */"]
    rows, max_in, max_out = [], 1, 1
    for name in names:
        N = name.upper()
        with open(os.path.join(src_dir, f"{name}.h")) as f:
            text = f.read()
        # the driver streams one-input models only (several inputs: NAME_push_in<k>)
        stream = f"}} {name}_stream;" in text and f"int {name}_push(" in text
        sizes = {k: int(v) for k, v in re.findall(rf"#define {N}_(N_IN|N_OUT) (\d+)", text)}
        max_in, max_out = max(max_in, sizes["N_IN"]), max(max_out, sizes["N_OUT"])
        lines.append(f'#include "{name}.h"')
        if stream:
            lines += [f"static {name}_stream {name}_s;",
                      f"static void {name}_sreset(void) {{ {name}_reset(&{name}_s); }}",
                      f"static int {name}_spush(const float *x, float *p) "
                      f"{{ return {name}_push(&{name}_s, x, p); }}"]
            rows.append(f'    {{"{name}", {N}_N_IN, {N}_N_OUT, {N}_C, {name}_predict_window, '
                        f"{name}_sreset, {name}_spush}}")
        else:
            rows.append(f'    {{"{name}", {N}_N_IN, {N}_N_OUT, 0, {name}_predict_window, '
                        "NULL, NULL}")
    lines += [f"#define WO_SEQ_MAX_IN {max_in}", f"#define WO_SEQ_MAX_OUT {max_out}",
              "static const wo_seq_model WO_SEQ_MODELS[] = {", ",\n".join(rows), "};", ""]
    return "\n".join(lines)


def build_sequence(src_dir, names, out, arm=False, extra=()):
    """One executable ``out`` running the sequence models ``names`` (``src_dir/NAME.c/.h``
    from :func:`sw.c_emit.emit_keras_sequence`) with ``sw/c/wo_seq_main.c``: one compile for
    all of them; writes ``src_dir/<out name>_table.h``. Returns ``out``."""
    cc = ARM_CC if arm else os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise RuntimeError(f"{cc} not found (apt-get install "
                           f"{'gcc-arm-linux-gnueabihf qemu-user' if arm else 'gcc'})")
    names = list(names)
    if not names:
        raise ValueError("no model to build")
    table = os.path.join(src_dir, os.path.basename(out) + "_table.h")
    with open(table, "w") as f:
        f.write(_seq_table(src_dir, names))
    cmd = [cc, *CFLAGS, *(ARM_FLAGS + ["-static"] if arm else []), *extra, f"-I{src_dir}",
           f'-DWO_SEQ_TABLE="{os.path.basename(table)}"', SEQ_DRIVER,
           *(os.path.join(src_dir, f"{n}.c") for n in names), "-o", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return out


def run_sequence(exe, name, X, arm=False, stream=False):
    """Run model ``name`` of a :func:`build_sequence` executable.

    Windows (``stream=False``): ``X`` of shape (n, ...) -> (outputs (n, N_OUT) float64,
    stdout). Stream: ``X`` of shape (samples, C) fed to ``NAME_push`` -> (sample counts at
    which a window was done, outputs (m, N_OUT), stdout).
    """
    X = np.asarray(X, np.float32)
    cmd = (["qemu-arm", exe] if arm else [exe]) + [name] + (["--stream"] if stream else [])
    r = subprocess.run(cmd, input=format_rows(X.reshape(len(X), -1)), capture_output=True,
                       text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()}")
    vals = [[float(v) for v in ln.split(",")] for ln in r.stdout.splitlines()]
    if stream:
        return (np.array([int(v[0]) for v in vals], np.int64),
                np.array([v[1:] for v in vals], np.float64), r.stdout)
    return np.array(vals, np.float64), r.stdout
