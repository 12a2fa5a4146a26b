"""Stream a Daphnet recording through a trained FoG model and write its freeze episodes.

``python -m sw.fog_detect RECORDING [--model DIR] [--engine python|c] [--out events.csv]``

The model folder (written by ``python -m sw.train_fog``) holds ``model.keras``,
``config.json`` (``kind`` ``"fog"``, ``window``, ``hop``, ``channels`` -- names of
:data:`sw.fog_data.CHANNELS` in input order --, ``normalisation``, ``threshold``) and the
model's C in ``c/fog_detector.c`` + ``.h`` (:func:`sw.c_emit.emit_keras_sequence`).

Windows: ``window`` samples every ``hop`` samples inside each segment of the recording
(:func:`sw.fog_data.make_windows`: no window crosses a label-0 or time gap; the labels are not
used). Normalisation (config ``normalisation``): done by the model itself -- ``"none"``, or
an object ``{"kind": "frozen_batchnorm", ...}`` (the first layer of the models of
``sw.train_fog``, so the input is raw mg) --, or in Python before the model: ``"window"`` or
``"running"`` (:func:`sw.fog_data.normalise`).

Engines: ``python`` runs the Keras model on the windows. ``c`` compiles the model's C with the
host ``cc`` (once: the executable is cached in ``$TMPDIR/wotrack-fog-c/<hash of the C>``) and,
for a model taking raw mg (normalisation none or in the model), runs its streaming API
(``fog_detector_push`` every sample, an output every ``hop`` samples once a window is full),
reset at the start of every segment, so it sees the very windows the Python engine sees; for
``"window"`` / ``"running"`` (the statistics of a window are not known sample by sample to
the generated C) it runs ``fog_detector_predict_window`` on the normalised windows. Both
engines give the same probabilities up to float32 rounding (measured ~5e-7 to 1.4e-6 on raw mg
input; the tests require 1e-5), hence the same episodes unless a probability lies within that
rounding of the threshold (e.g. an untrained model whose outputs all sit near 0.5).

Episodes (:func:`episodes`): maximal runs of windows with ``p >= threshold``, a window joining
the run when it starts no later than :data:`sw.fog_metrics.JOIN_S` after the run's end
(overlapping or touching windows; the windows of a hop of 64 overlap by half), never across a
segment gap. CSV ``start_s,end_s,peak_p``: start of the first window, end of the last window
(time column of the recording, s, 3 decimals) and the largest ``p`` of the run (4 decimals).
Without ``--out`` the CSV goes to stdout.
"""

import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spec.cli import HANDLED, InputError, error_status, parser
from spec.constants import DEFAULT_OUT
from spec.outputs import check_output_file, write_text_atomic
from sw import fog_data
from sw.fog_metrics import JOIN_S

__all__ = ["PROG", "ENGINES", "NORMALISATIONS", "C_NAME", "FogModel", "load_model",
           "recording_windows", "prepare", "predict_python", "predict_c", "c_executable",
           "episodes", "format_csv", "detect", "main"]

PROG = "sw.fog_detect"
ENGINES = ("python", "c")
NORMALISATIONS = ("none", "window", "running")
#: config ``normalisation`` kinds done inside the model (its input is raw mg)
IN_MODEL = ("frozen_batchnorm",)
#: the C model's name (``c/fog_detector.c``)
C_NAME = "fog_detector"
#: default model folder (that of ``python -m sw.train_fog``)
DEFAULT_MODEL = DEFAULT_OUT / "fog"


@dataclass
class FogModel:
    """A trained FoG model folder: its config and (lazily) its Keras model."""
    path: Path
    config: dict
    _keras: object = None

    @property
    def window(self):
        return int(self.config["window"])

    @property
    def hop(self):
        return int(self.config["hop"])

    @property
    def threshold(self):
        return float(self.config["threshold"])

    @property
    def normalisation(self):
        """``"none"`` (raw mg in: nothing, or the model's own layer), ``"window"``,
        ``"running"``."""
        return _normalisation(self.config["normalisation"], self.path / "config.json")

    @property
    def channel_index(self):
        return [fog_data.CHANNELS.index(c) for c in self.config["channels"]]

    @property
    def keras(self):
        if self._keras is None:
            from sw.classifiers import quiet_tensorflow
            keras = quiet_tensorflow()
            f = self.path / "model.keras"
            if not f.is_file():
                raise InputError(f"{f}: no such file (not a trained model folder)")
            try:
                self._keras = keras.models.load_model(f, compile=False)
            except Exception as e:  # noqa: BLE001 -- any load failure is bad input
                raise InputError(f"{f}: cannot load the Keras model "
                                 f"({str(e).splitlines()[0] if str(e) else type(e).__name__})"
                                 ) from None
        return self._keras


def read_config(model_dir):
    """``MODEL_DIR/config.json`` as a dict (InputError naming the file when missing/broken)."""
    f = Path(model_dir) / "config.json"
    if not Path(model_dir).is_dir():
        raise InputError(f"{model_dir}: no such model folder")
    try:
        cfg = json.loads(f.read_text())
    except FileNotFoundError:
        raise InputError(f"{f}: no such file (not a trained model folder)") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"{f}: not a readable JSON file ({str(e).splitlines()[0]})") from None
    if not isinstance(cfg, dict):
        raise InputError(f"{f}: expected a JSON object")
    return cfg


def _normalisation(norm, where):
    kind = norm.get("kind") if isinstance(norm, dict) else norm
    if kind in IN_MODEL:
        return "none"
    if isinstance(norm, str) and norm in NORMALISATIONS:
        return norm
    raise InputError(f"{where}: normalisation {kind!r}, expected one of "
                     f"{', '.join(NORMALISATIONS)} or an object of kind "
                     f"{', '.join(IN_MODEL)}")


def load_model(model_dir):
    """The :class:`FogModel` of a model folder, its config checked (InputError naming it)."""
    cfg = read_config(model_dir)
    f = Path(model_dir) / "config.json"
    if cfg.get("kind") != "fog":
        raise InputError(f"{f}: kind {cfg.get('kind')!r}, expected 'fog'")
    for key in ("window", "hop", "channels", "normalisation", "threshold"):
        if key not in cfg:
            raise InputError(f"{f}: no {key!r}")
    try:
        window, hop, thr = int(cfg["window"]), int(cfg["hop"]), float(cfg["threshold"])
    except (TypeError, ValueError):
        raise InputError(f"{f}: window, hop and threshold must be numbers") from None
    if window < 1 or hop < 1 or not np.isfinite(thr):
        raise InputError(f"{f}: window and hop must be >= 1 and threshold finite")
    chans = cfg["channels"]
    if not isinstance(chans, list) or not chans or \
            any(c not in fog_data.CHANNELS for c in chans):
        raise InputError(f"{f}: channels must be a list of {', '.join(fog_data.CHANNELS)}")
    _normalisation(cfg["normalisation"], f)
    return FogModel(Path(model_dir), cfg)


def recording_windows(rec, model):
    """The model's windows of one recording (:class:`sw.fog_data.Windows`, all 9 channels)."""
    return fog_data.make_windows(rec, model.window, model.hop)


def prepare(windows, model):
    """Model input of ``windows``: normalised as configured, the configured channels."""
    norm = model.normalisation
    X = windows.X if norm == "none" else fog_data.normalise(windows, norm)
    return np.ascontiguousarray(X[:, :, model.channel_index], np.float32)


def predict_python(model, X):
    """Keras probabilities of prepared windows ``X`` (n, window, channels) -> (n,) float64."""
    if not len(X):
        return np.zeros(0)
    import keras
    net = model.keras
    p = [keras.ops.convert_to_numpy(net(X[i:i + 512], training=False))
         for i in range(0, len(X), 512)]
    return np.concatenate(p).astype(np.float64).reshape(len(X), -1)[:, 0]


def c_executable(model):
    """Host executable of the model's C (built once, cached under ``$TMPDIR``)."""
    from sw import c_build
    src = model.path / "c"
    files = [src / f"{C_NAME}.c", src / f"{C_NAME}.h"]
    for f in files:
        if not f.is_file():
            raise InputError(f"{f}: no such file (the model folder has no C)")
    h = hashlib.sha256()
    for f in [*files, Path(c_build.SEQ_DRIVER), Path(c_build.__file__)]:
        h.update(f.read_bytes())
    h.update(os.environ.get("CC", "cc").encode())
    cache = Path(tempfile.gettempdir()) / "wotrack-fog-c" / h.hexdigest()[:20]
    exe = cache / "fog_seq"
    if exe.is_file() and os.access(exe, os.X_OK):
        return str(exe)
    cache.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=cache.parent))
    try:
        for f in files:
            (work / f.name).write_bytes(f.read_bytes())
        try:
            c_build.build_sequence(str(work), [C_NAME], str(work / "fog_seq"))
        except RuntimeError as e:
            raise OSError(f"cannot compile {files[0]}: {str(e).splitlines()[0]}") from None
        cache.mkdir(exist_ok=True)
        os.replace(work / "fog_seq", exe)      # atomic: a concurrent build gives the same file
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return str(exe)


def predict_c(model, rec, windows):
    """C probabilities of the windows of ``rec`` (:func:`recording_windows`) -> (n,) float64."""
    from sw import c_build
    if not len(windows):
        return np.zeros(0)
    exe = c_executable(model)
    if model.normalisation != "none":
        out, _ = c_build.run_sequence(exe, C_NAME, prepare(windows, model))
        return out[:, 0]
    idx = model.channel_index
    parts = []
    for k, (a, b) in enumerate(rec.segments):
        if b - a < model.window:
            continue
        at, out, _ = c_build.run_sequence(exe, C_NAME, rec.acc[a:b, idx], stream=True)
        start = a + at - model.window                     # first sample of each window
        want = windows.start[windows.segment == k]
        if not np.array_equal(rec.sample[start], want):
            raise RuntimeError(f"{rec.path}: segment {k}: the C stream's windows are not the "
                               "model's windows")
        parts.append(out[:, 0])
    return np.concatenate(parts)


def episodes(windows, p, threshold, join_s=JOIN_S):
    """Runs of windows with ``p >= threshold`` -> list of (start_s, end_s, peak_p)."""
    out = []
    prev_seg = None
    for s, e, seg, q in zip(windows.start_s, windows.end_s, windows.segment, p):
        if q < threshold:
            continue
        if out and seg == prev_seg and s <= out[-1][1] + join_s:
            out[-1][1] = max(out[-1][1], float(e))
            out[-1][2] = max(out[-1][2], float(q))
        else:
            out.append([float(s), float(e), float(q)])
        prev_seg = seg
    return [tuple(r) for r in out]


def format_csv(events):
    """CSV text ``start_s,end_s,peak_p`` of :func:`episodes`."""
    return "start_s,end_s,peak_p\n" + "".join(f"{s:.3f},{e:.3f},{q:.4f}\n"
                                              for s, e, q in events)


def detect(recording, model, engine="python"):
    """(windows, probabilities, episodes) of one recording file."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    rec = fog_data.read_recording(recording)
    w = recording_windows(rec, model)
    p = predict_python(model, prepare(w, model)) if engine == "python" else \
        predict_c(model, rec, w)
    return w, p, episodes(w, p, model.threshold)


def main(argv=None):
    """``python -m sw.fog_detect RECORDING [options]``; returns the exit status."""
    ap = parser(PROG, "Freeze-of-gait episodes of one Daphnet recording, from a trained model "
                "run every hop (CSV start_s,end_s,peak_p).")
    ap.add_argument("recording", help="Daphnet recording (.txt or .txt.gz)")
    ap.add_argument("--model", default=str(DEFAULT_MODEL),
                    help=f"trained FoG model folder (default {DEFAULT_MODEL})")
    ap.add_argument("--engine", choices=ENGINES, default="python",
                    help="python: Keras; c: the model's C, compiled for the host (default "
                    "python)")
    ap.add_argument("--out", help="write the CSV to this file (default: stdout)")
    a = ap.parse_args(argv)
    try:
        if a.out is not None:
            model_files = [Path(a.model) / n for n in ("model.keras", "config.json")]
            check_output_file(a.out, [a.recording, *model_files], "--out")
        model = load_model(a.model)
        _, _, ev = detect(a.recording, model, a.engine)
        text = format_csv(ev)
        if a.out is None:
            sys.stdout.write(text)
        else:
            write_text_atomic(a.out, text)
            print(f"{len(ev)} episodes -> {a.out}", file=sys.stderr)
    except HANDLED as e:
        return error_status(PROG, e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
