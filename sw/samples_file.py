"""SAMPLES frames from a recording or the synthetic generators: a replay file for the ARM
(``wo_monitor --devmem --replay FILE``) or a live 500 Hz stream to the sensor UART.

Usage::

    python -m sw.samples_file --synthetic 30 -o samples.bin
    python -m sw.samples_file --emg walk.csv [--fs HZ] [--map SLOT=COL,...] [--full-scale X] \\
                              [--eeg run.edf [--eeg-fs HZ] [--eeg-map SITE=LABEL,...] \\
                               [--unit uV]] -o samples.bin
    python -m sw.samples_file --synthetic 60 --port /dev/ttyUSB1 [--baud 921600]

Each 500 Hz sample becomes one ``SAMPLES`` frame of :mod:`spec.frames` (emg i16 x 8
in :data:`spec.channels.EMG_CHANNELS` order, eeg i16 x 8, flags), ``seq`` counting
up modulo 256. EMG is mapped, resampled and scaled as by ``python -m sw.extract
emg``, EEG as by ``sw.extract eeg``; a missing modality is sent as zeros; with both,
the shorter length is used. ``--port`` paces the frames at 500 Hz (a sensor
emulator for bench tests of the board; Ctrl-C stops it and reports the frames sent). The file
is written atomically; ``-o`` onto an input, a symlink, FIFO, device or folder is refused.
"""

import math
import signal
import sys
import time

import numpy as np

from spec.cli import InputError, fail, os_error_line, parser
from spec.constants import FS, SENSOR_BAUD
from spec.frames import encode
from spec.outputs import check_output_file, write_bytes_atomic

PROG = "sw.samples_file"
MAX_SECONDS = 86400                            # one day of frames (about 1.7 GB)

__all__ = ["samples_bytes", "main"]


def samples_bytes(emg, eeg=None, ext_trigger=None, seq0=0):
    """Frames (bytes) of ``emg`` int16 (n, 8), ``eeg`` int16 (n, <= 8), ``ext_trigger`` (n,)."""
    emg = np.asarray(emg)
    n = len(emg)
    if emg.ndim != 2 or emg.shape[1] != 8:
        raise InputError(f"EMG must have 8 channels, not shape {emg.shape}")
    payload = np.zeros(n, dtype=[("emg", "<i2", 8), ("eeg", "<i2", 8), ("flags", "u1")])
    payload["emg"] = emg
    if eeg is not None:
        eeg = np.asarray(eeg)
        if len(eeg) != n or eeg.shape[1] > 8:
            raise InputError(f"EEG shape {eeg.shape} does not fit {n} samples x <= 8 channels")
        payload["eeg"][:, :eeg.shape[1]] = eeg
    if ext_trigger is not None:
        payload["flags"] = np.asarray(ext_trigger, np.uint8) & 1
    return b"".join(encode("SAMPLES", (seq0 + k) % 256, payload[k].tobytes()) for k in range(n))


def _load(a):
    emg = eeg = None
    if a.synthetic is not None:
        from synthetic.eeg_gen import generate_eeg
        from synthetic.emg_gen import generate_walk
        n = int(a.synthetic * FS)
        walk = generate_walk(a.seed, a.session, n_strides=int(a.synthetic / 1.0) + 2)
        emg = walk.emg[:n]
        eeg = generate_eeg(a.seed, n_samples=len(emg)).eeg
        return emg, eeg
    if a.emg:
        from sw.recording import prepare_emg
        emg, _, _ = prepare_emg(a.emg, a.fs, a.map, a.full_scale)
    if a.eeg:
        from sw.eeg_input import load_eeg
        eeg = load_eeg(a.eeg, a.eeg_fs, a.eeg_map, a.unit).samples
    if emg is None and eeg is None:
        raise InputError("give --synthetic SECONDS, --emg FILE and/or --eeg FILE")
    if emg is None:
        emg = np.zeros((len(eeg), 8), np.int16)
    if eeg is not None:
        n = min(len(emg), len(eeg))
        if len(emg) != len(eeg):
            longer, m = ("EEG", len(eeg)) if len(eeg) > n else ("EMG", len(emg))
            print(f"{PROG}: warning: {longer} cut from {m / FS:.1f} s to the other's "
                  f"{n / FS:.1f} s ({m - n} samples dropped)", file=sys.stderr)
        emg, eeg = emg[:n], eeg[:n]
    return emg, eeg


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument(
        "--synthetic", type=float, metavar="SECONDS", help="synthetic walk + EEG (SYNTHETIC data)"
    )
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument(
        "--session", choices=("pre", "post"), default="pre", help="synthetic L-dopa session"
    )
    ap.add_argument("--emg", help="EMG recording (as python -m sw.extract emg)")
    ap.add_argument("--fs", type=float, help="EMG sample rate (no time column)")
    ap.add_argument("--map", help="EMG SLOT=COLUMN pairs")
    ap.add_argument("--full-scale", type=float, help="EMG value mapped to full scale")
    ap.add_argument("--eeg", help="EEG recording, EDF or CSV (as python -m sw.extract eeg)")
    ap.add_argument("--eeg-fs", type=float, help="EEG sample rate (CSV without a time column)")
    ap.add_argument("--eeg-map", help="EEG SITE=LABEL pairs")
    ap.add_argument("--unit", help="EEG CSV unit: uV, mV or V")
    out = ap.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", help="write the frames to this file")
    out.add_argument("--port", help=f"stream the frames at {FS} Hz to this serial port (pyserial)")
    ap.add_argument(
        "--baud",
        type=int,
        default=SENSOR_BAUD,
        help=f"baud rate for --port (default {SENSOR_BAUD})",
    )
    a = ap.parse_args(argv)
    if a.synthetic is not None:
        given = [o for o, v in (("--emg", a.emg), ("--fs", a.fs), ("--map", a.map),
                                ("--full-scale", a.full_scale), ("--eeg", a.eeg),
                                ("--eeg-fs", a.eeg_fs), ("--eeg-map", a.eeg_map),
                                ("--unit", a.unit)) if v is not None]
        if given:
            ap.error(f"{given[0]} cannot be used with --synthetic (the generators make both)")
    else:
        for opt, v, needs, base in (("--fs", a.fs, "--emg", a.emg),
                                    ("--map", a.map, "--emg", a.emg),
                                    ("--full-scale", a.full_scale, "--emg", a.emg),
                                    ("--eeg-fs", a.eeg_fs, "--eeg", a.eeg),
                                    ("--eeg-map", a.eeg_map, "--eeg", a.eeg),
                                    ("--unit", a.unit, "--eeg", a.eeg)):
            if v is not None and base is None:
                ap.error(f"{opt} needs {needs}")
    if a.synthetic is not None and not (math.isfinite(a.synthetic)
                                        and MAX_SECONDS >= a.synthetic >= 2):
        return fail(PROG, f"--synthetic needs at least 2 seconds and at most {MAX_SECONDS} "
                          f"(a positive number of seconds, one stride), not {a.synthetic:g}")
    try:
        if a.output is not None:
            check_output_file(a.output, [a.emg, a.eeg], "-o")
        emg, eeg = _load(a)
        data = samples_bytes(emg, eeg)
    except ValueError as e:                    # InputError included
        return fail(PROG, e)
    except OSError as e:
        return fail(PROG, os_error_line(e), 1)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted, nothing written", file=sys.stderr)
        return 130
    n = len(emg)
    if a.output is not None:
        try:
            write_bytes_atomic(a.output, data)
        except InputError as e:
            return fail(PROG, e)
        except OSError as e:
            return fail(PROG, os_error_line(e), 1)
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted, nothing written", file=sys.stderr)
            return 130
        print(f"wrote {a.output}: {n} SAMPLES frames ({n / FS:.1f} s, {len(data)} bytes)"
              + (" -- SYNTHETIC data" if a.synthetic is not None else ""))
        return 0
    import serial
    try:
        port = serial.serial_for_url(a.port, baudrate=a.baud)
    except (serial.SerialException, ValueError) as e:
        return fail(PROG, f"{a.port}: {e}", 1)
    frame = len(data) // n
    t0 = time.monotonic()
    sent, status, lost = 0, 0, None
    stop = []                                  # Ctrl-C between writes: the count stays exact
    try:
        old = signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    except ValueError:                         # not the main thread: Ctrl-C raises as usual
        old = None
    try:
        for k in range(0, n, 50):              # 50 frames = 100 ms per write
            if stop:
                raise KeyboardInterrupt
            port.write(data[k * frame:(k + 50) * frame])
            sent = min(k + 50, n)
            wait = t0 + (k + 50) / FS - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if k % 2500 == 0:
                print(f"\r{k / FS:7.1f} / {n / FS:.1f} s", end="", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        status = 130
    except (serial.SerialException, OSError) as e:
        lost, status = e, 1
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)
        port.close()
    if stop and status == 0:
        status = 130
    if lost is not None:                    # one line: what failed and how far it got
        why = str(lost).splitlines()[0] if str(lost) else type(lost).__name__
        print(f"\n{PROG}: error: {a.port} lost mid-stream ({why}); sent {sent} of {n} SAMPLES "
              "frames", file=sys.stderr)
    elif sent == n and status == 0:
        print(f"\nsent {n} SAMPLES frames to {a.port}", file=sys.stderr)
    else:
        print(f"\n{'interrupted: ' if status == 130 else ''}sent {sent} of {n} SAMPLES frames "
              f"to {a.port}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
