"""Live monitor of the board's result UART: decode frames, show strides and states, log to CSV.

Usage::

    python -m sw.uart --port /dev/ttyUSB0 --baud 115200 [--log-dir out/uart] [--model out/dnn4]
    python -m sw.uart --port /dev/ttyUSB0 --plot          # also a live plot of p_off per stride

Reads the frame format of :mod:`spec.frames` from a serial port (pyserial; any
``serial_for_url`` URL works too), resynchronising after garbage. Every valid
frame is appended to a CSV in ``--log-dir`` (default ``out/uart``), flushed
per frame:

* ``strides.csv`` -- ``session, received_s, seq`` + the columns of ``python -m sw.extract emg``
  + ``p_off, state`` (from ``--model``, a ``python -m sw.train_dnn`` folder; empty without);
* ``mrp.csv`` -- ``session, received_s, seq`` + the columns of ``python -m sw.extract eeg``;
* ``rejects.csv`` -- ``session, received_s, reason, frame_hex``: every frame that passed the
  CRC but was not accepted (unknown type, wrong payload length, or an impossible record --
  :func:`spec.frames.check_record`: leg > 1, a channel past the fabric's EEG inputs, undefined
  present/flag bits), with its raw bytes; the monitor goes on.

Logs are never truncated: each run appends to them, and every row carries its run's
``session`` (UTC start time, ``YYYYmmddTHHMMSS.mmmZ``), so one file holds every session and a plain
CSV reader (``csv.DictReader``) reads it; the header is written only when the file is new. A log
whose header is not this version's (an older monitor's, or someone else's file) is left
untouched and this session writes ``strides-<session>.csv`` (etc.) beside it instead.

The terminal shows a table of the latest strides and a status line with every counter of the
receiver, named as in :data:`spec.frames.STATS` and in the summary of ``boards/arm/wo_monitor.c``
(``frames crc_errors length_errors unknown_types invalid_frames garbage_bytes seq_gaps
lost_frames``). Ctrl-C (or ``--duration`` seconds, or ``--idle-exit`` seconds without a byte)
ends the run: the logs are closed and a summary printed; exit status 130 after Ctrl-C, else 0.
Errors are one ``sw.uart: error:`` line: a malformed port URL, or a ``--model`` that is missing
or not a readable ``*_weights.npz``, status 2; a port that cannot be opened (absent, busy,
forbidden), the port lost mid-stream or a log that cannot be written, status 1 (the rows
logged so far are kept).
"""

import contextlib
import csv
import os
import sys
import time
import zipfile

from golden.eeg_pipeline import MRP_CSV_COLUMNS, mrp_record_to_row
from golden.stride_indexes_model import CSV_COLUMNS, record_to_row
from spec.cli import InputError, fail, parser
from spec.constants import DEFAULT_OUT, RESULTS_BAUD
from spec.frames import STATS, Decoder
from sw.wo_state import state_line

PROG = "sw.uart"
STRIDE_LOG_COLUMNS = ("session", "received_s", "seq") + CSV_COLUMNS + ("p_off", "state")
MRP_LOG_COLUMNS = ("session", "received_s", "seq") + MRP_CSV_COLUMNS
REJECT_LOG_COLUMNS = ("session", "received_s", "reason", "frame_hex")
#: log kind -> (columns, file name)
LOGS = {"STRIDE": (STRIDE_LOG_COLUMNS, "strides.csv"), "MRP": (MRP_LOG_COLUMNS, "mrp.csv"),
        "REJECT": (REJECT_LOG_COLUMNS, "rejects.csv")}


def _open_log(log_dir, fn, cols, session):
    """Open ``fn`` in ``log_dir`` for appending (header only when new); a file with another
    header (or not a regular file) is left alone and ``<stem>-<session>.csv`` is used instead.
    Returns (file, path)."""
    path = os.path.join(log_dir, fn)
    if os.path.isfile(path) and not os.path.islink(path):
        with open(path, "rb") as f:
            first = f.readline().rstrip(b"\r\n")
            size = f.seek(0, os.SEEK_END)
            f.seek(max(size - 1, 0))
            last = f.read(1)
        if first == ",".join(cols).encode():
            f = open(path, "a", newline="")
            if last not in (b"\n", b""):        # a row cut short by a crash: end it
                f.write("\r\n")
            return f, path
    stem, ext = os.path.splitext(fn)
    k = 0
    while os.path.lexists(path):
        k += 1
        path = os.path.join(log_dir, f"{stem}-{session}{f'-{k}' if k > 1 else ''}{ext}")
    f = open(path, "x", newline="")
    csv.writer(f).writerow(cols)
    f.flush()
    return f, path


def load_model(model):
    """``--model`` (a ``sw.train_dnn`` folder or ``*_weights.npz``) -> DNNState;
    :class:`InputError` (one line) when it is missing, corrupt or incomplete."""
    from sw.wo_state import DNNState
    path = model
    if os.path.isdir(model):
        cands = sorted(f for f in os.listdir(model) if f.endswith("_weights.npz"))
        if not cands:
            raise InputError(f"--model {model}: no *_weights.npz (a python -m sw.train_dnn "
                             "folder?)")
        path = os.path.join(model, cands[0])
    try:
        return DNNState(path)
    except OSError as e:
        raise InputError(f"--model {path}: {e.strerror or e}") from None
    except (ValueError, KeyError, EOFError, IndexError, TypeError, zipfile.BadZipFile) as e:
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"--model {path}: not a complete *_weights.npz of python -m "
                         f"sw.train_dnn ({why})") from None


class Monitor:
    """Frame sink: CSV logs + latest-stride table; independent of where bytes come from.

    ``model``: a path for :func:`load_model` or a loaded ``DNNState``. The model is loaded
    before anything is written (:class:`InputError` for a bad one); the
    logs are appended to (see the module docstring). ``decoder`` is a
    ``spec.frames.Decoder(check=True)``: impossible records are rejected into ``rejects.csv``.
    """

    def __init__(self, log_dir, model=None, show=print, table_rows=8):
        if isinstance(model, (str, os.PathLike)):
            model = load_model(os.fspath(model))
        self.state = model or None
        now = time.time()
        self.session = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) \
            + f".{int(now * 1000) % 1000:03d}Z"
        self.decoder = Decoder(check=True, on_reject=self._on_reject)
        os.makedirs(log_dir, exist_ok=True)
        self.files, self.writers, self.paths = {}, {}, {}
        try:
            for kind, (cols, fn) in LOGS.items():
                f, self.paths[kind] = _open_log(log_dir, fn, cols, self.session)
                self.files[kind] = f
                self.writers[kind] = csv.DictWriter(f, fieldnames=cols)
        except BaseException:
            self.close()
            raise
        self.t0 = time.monotonic()
        self.show = show
        self.latest = []
        self.table_rows = table_rows
        self.p_history = []

    def _now(self):
        return f"{time.monotonic() - self.t0:.3f}"

    def _on_reject(self, raw, reason):
        self.writers["REJECT"].writerow({"session": self.session, "received_s": self._now(),
                                         "reason": reason, "frame_hex": raw.hex()})
        self.files["REJECT"].flush()

    def feed(self, data):
        frames = self.decoder.feed(data)
        for fr in frames:
            t = self._now()
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
            self.writers[fr.kind].writerow({"session": self.session, **row})
            self.files[fr.kind].flush()
        return frames

    def stats(self):
        """Every counter of the receiver (:data:`spec.frames.STATS` order)."""
        return self.decoder.stats()

    def status(self):
        """``frames=N crc_errors=N ... lost_frames=N``: the names of wo_monitor.c's summary."""
        s = self.stats()
        return " ".join(f"{k}={s[k]}" for k in STATS)

    def render(self):
        lines = ["latest strides:"] + [f"  {ln}" for ln in self.latest] + [self.status()]
        self.show("\n".join(lines))

    def close(self):
        """End of stream (an incomplete frame left counts as garbage); close the logs."""
        self.decoder.finish()
        errors = []
        for f in self.files.values():
            try:
                f.close()
            except OSError as e:
                errors.append(e)
        self.files = {}
        if errors:
            raise errors[0]


class _PortLost(Exception):
    pass


def _line(e):
    """One line for an exception."""
    text = (getattr(e, "strerror", None) or str(e) or type(e).__name__).splitlines()
    return text[0] if text else type(e).__name__


def _close_quietly(mon):
    with contextlib.suppress(OSError):
        mon.close()


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
    try:
        model = load_model(a.model) if a.model else None
    except InputError as e:
        return fail(PROG, e)
    import serial
    try:
        port = serial.serial_for_url(a.port, baudrate=a.baud, timeout=0.1)
    except ValueError as e:                   # a malformed port URL or setting: the user's
        return fail(PROG, f"cannot open {a.port}: {e}")
    except (serial.SerialException, OSError) as e:  # absent, busy or forbidden: environment
        return fail(PROG, f"cannot open {a.port}: {e}", 1)
    try:
        mon = Monitor(
            a.log_dir,
            model,
            show=(lambda s: None)
            if a.quiet
            else (lambda s: print("\x1b[H\x1b[J" + s if sys.stdout.isatty() else s, flush=True)),
        )
    except OSError as e:
        port.close()
        return fail(PROG, f"log folder {a.log_dir}: {e.strerror or e}", 1)
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
    interrupted = False
    try:
        while True:
            try:
                data = port.read(4096)
            except (serial.SerialException, OSError) as e:
                raise _PortLost(e) from None
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
    except KeyboardInterrupt:               # the usual stop: logs closed, summary, status 130
        interrupted = True
    except _PortLost as e:
        _close_quietly(mon)
        return fail(PROG, f"{a.port} lost mid-stream: {_line(e.args[0])}; {mon.status()}; "
                          f"rows so far kept in {a.log_dir}/", 1)
    except OSError as e:
        _close_quietly(mon)
        return fail(PROG, f"cannot write the logs in {a.log_dir}: {_line(e)}", 1)
    finally:
        with contextlib.suppress(Exception):
            port.close()
    try:
        mon.close()
    except OSError as e:
        return fail(PROG, f"cannot write the logs in {a.log_dir}: {_line(e)}", 1)
    if not a.quiet:
        mon.render()
    print(f"{PROG}: {'interrupted' if interrupted else 'stopped'}; {mon.status()}; logs in "
          f"{a.log_dir}/", flush=True)
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
