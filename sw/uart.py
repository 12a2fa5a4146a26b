"""Live monitor of the board's result UART: decode frames, show strides and states, log to CSV.

Usage::

    python -m sw.uart --port /dev/ttyUSB0 --baud 115200 [--log-dir out/uart] [--model out/dnn4]
    python -m sw.uart --port /dev/ttyUSB0 --plot          # also a live plot of p_off per stride

Reads the frame format of :mod:`spec.frames` from a serial port (pyserial; any
``serial_for_url`` URL works too), resynchronising after garbage. Every valid
frame is appended to a CSV in ``--log-dir`` (default ``out/uart``), flushed
per frame:

* ``strides.csv`` -- ``received_s, seq`` + the columns of ``python -m sw.extract emg``
  + ``p_off, state`` (from ``--model``, a ``python -m sw.train_dnn`` folder; empty without);
* ``mrp.csv`` -- ``received_s, seq`` + the columns of ``python -m sw.extract eeg``.

The terminal shows a table of the latest strides and a status line (frames,
CRC errors, sequence gaps / lost frames, garbage bytes). Ctrl-C (or
``--duration`` seconds, or ``--idle-exit`` seconds without a byte) ends the run:
the logs are closed and a summary printed; exit status 0. A port that cannot be
opened gives one ``sw.uart: error:`` line and status 2.
"""

import csv
import os
import sys
import time

from golden.eeg_pipeline import MRP_CSV_COLUMNS, mrp_record_to_row
from golden.stride_indexes_model import CSV_COLUMNS, record_to_row
from spec.cli import fail, parser
from spec.constants import DEFAULT_OUT, RESULTS_BAUD
from spec.frames import Decoder
from sw.wo_state import state_line

PROG = "sw.uart"
STRIDE_LOG_COLUMNS = ("received_s", "seq") + CSV_COLUMNS + ("p_off", "state")
MRP_LOG_COLUMNS = ("received_s", "seq") + MRP_CSV_COLUMNS


class Monitor:
    """Frame sink: CSV logs + latest-stride table; independent of where bytes come from."""

    def __init__(self, log_dir, model=None, show=print, table_rows=8):
        os.makedirs(log_dir, exist_ok=True)
        self.decoder = Decoder()
        self.state = None
        if model:
            from sw.wo_state import DNNState
            path = model
            if os.path.isdir(model):
                cands = sorted(f for f in os.listdir(model) if f.endswith("_weights.npz"))
                if not cands:
                    raise FileNotFoundError(
                        f"{model}: no *_weights.npz (a python -m sw.train_dnn folder?)"
                    )
                path = os.path.join(model, cands[0])
            self.state = DNNState(path)
        self.files, self.writers = {}, {}
        for kind, cols, fn in (
            ("STRIDE", STRIDE_LOG_COLUMNS, "strides.csv"),
            ("MRP", MRP_LOG_COLUMNS, "mrp.csv"),
        ):
            f = open(os.path.join(log_dir, fn), "w", newline="")
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            f.flush()
            self.files[kind], self.writers[kind] = f, w
        self.t0 = time.monotonic()
        self.show = show
        self.latest = []
        self.table_rows = table_rows
        self.p_history = []

    def feed(self, data):
        frames = self.decoder.feed(data)
        for fr in frames:
            t = f"{time.monotonic() - self.t0:.3f}"
            if fr.kind == "STRIDE":
                rec = fr.record
                p, st = self.state.state(rec) if self.state else (float("nan"), "")
                row = {"received_s": t, "seq": fr.seq, **record_to_row(rec),
                       "p_off": "" if p != p else f"{p:.4f}", "state": st}
                self.latest = (self.latest + [state_line(fr.seq, rec, p, st or "NA")])[
                    -self.table_rows :
                ]
                self.p_history.append(p)
            elif fr.kind == "MRP":
                row = {"received_s": t, "seq": fr.seq, **mrp_record_to_row(fr.record)}
            else:
                continue
            self.writers[fr.kind].writerow(row)
            self.files[fr.kind].flush()
        return frames

    def status(self):
        s = self.decoder.stats()
        return (f"frames {s['frames']}  crc errors {s['crc_errors']}  seq gaps {s['seq_gaps']} "
                f"(lost {s['lost_frames']})  garbage bytes {s['garbage_bytes']}")

    def render(self):
        lines = ["latest strides:"] + [f"  {ln}" for ln in self.latest] + [self.status()]
        self.show("\n".join(lines))

    def close(self):
        for f in self.files.values():
            f.close()


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--port", required=True, help="serial device or pyserial URL")
    ap.add_argument(
        "--baud", type=int, default=RESULTS_BAUD, help=f"baud rate (default {RESULTS_BAUD})"
    )
    ap.add_argument("--log-dir", default=str(DEFAULT_OUT / "uart"),
                    help=f"CSV log folder (default {DEFAULT_OUT / 'uart'})")
    ap.add_argument(
        "--model", help="sw.train_dnn output folder (or *_weights.npz) for the wearing-off state"
    )
    ap.add_argument("--duration", type=float, help="stop after this many seconds")
    ap.add_argument("--idle-exit", type=float, help="stop after this many seconds without a byte")
    ap.add_argument(
        "--plot", action="store_true", help="live plot of p_off per stride (matplotlib window)"
    )
    ap.add_argument("--quiet", action="store_true", help="no live table (summary only)")
    a = ap.parse_args(argv)
    import serial
    try:
        port = serial.serial_for_url(a.port, baudrate=a.baud, timeout=0.1)
    except (serial.SerialException, ValueError, OSError) as e:
        return fail(PROG, f"cannot open {a.port}: {e}")
    try:
        mon = Monitor(
            a.log_dir,
            a.model,
            show=(lambda s: None)
            if a.quiet
            else (lambda s: print("\x1b[H\x1b[J" + s if sys.stdout.isatty() else s, flush=True)),
        )
    except (OSError, ValueError) as e:
        return fail(PROG, e)
    plot = None
    if a.plot:
        import matplotlib.pyplot as plt
        plt.ion()
        fig, ax = plt.subplots()
        line, = ax.plot([], [], ".")
        ax.set_xlabel("stride")
        ax.set_ylabel("p_off")
        ax.set_ylim(0, 1)
        plot = (plt, ax, line)
    t0 = last_byte = time.monotonic()
    last_render = 0.0
    try:
        while True:
            data = port.read(4096)
            now = time.monotonic()
            if data:
                last_byte = now
                if mon.feed(data) and now - last_render > 0.2:
                    mon.render()
                    last_render = now
                    if plot:
                        plt, ax, line = plot
                        line.set_data(range(len(mon.p_history)), mon.p_history)
                        ax.set_xlim(0, max(10, len(mon.p_history)))
                        plt.pause(0.001)
            if a.duration is not None and now - t0 >= a.duration:
                break
            if a.idle_exit is not None and now - last_byte >= a.idle_exit:
                break
    except KeyboardInterrupt:
        pass
    except serial.SerialException as e:
        mon.close()
        return fail(PROG, f"{a.port}: {e}")
    finally:
        port.close()
    mon.close()
    if not a.quiet:
        mon.render()
    print(f"{PROG}: stopped; {mon.status()}; logs in {a.log_dir}/", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
