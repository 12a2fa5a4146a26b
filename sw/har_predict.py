"""A trained activity-recognition folder (``python -m sw.train_har``): load it, score windows.

``MODEL_DIR/config.json`` (kind ``"har"``) names the window, the channels and units, the class
names and the Keras file of the deployed model; :func:`load` returns a :class:`HarModel`,
:meth:`HarModel.predict` the class probabilities of windows of raw samples (g, rad/s; the
normalisation is the model's first layer). A missing or malformed folder is an
:class:`spec.cli.InputError` naming the file.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spec.cli import InputError

__all__ = ["HarModel", "load", "read_config", "CONFIG_KEYS"]

#: keys config.json must have
CONFIG_KEYS = ("kind", "classes", "class_names", "window", "hop", "fs", "channels", "model_file")


def read_config(model_dir):
    """``MODEL_DIR/config.json`` as a dict (kind ``"har"`` and :data:`CONFIG_KEYS` checked)."""
    path = Path(model_dir) / "config.json"
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file (not a trained model folder)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: unreadable ({e})") from None
    if not isinstance(cfg, dict):
        raise InputError(f"{path}: not a JSON object")
    missing = [k for k in CONFIG_KEYS if k not in cfg]
    if cfg.get("kind") != "har" or missing:
        raise InputError(f"{path}: not a HAR model config (kind {cfg.get('kind')!r}"
                         + (f", missing {', '.join(missing)})" if missing else ")"))
    if len(cfg["class_names"]) != cfg["classes"]:
        raise InputError(f"{path}: {len(cfg['class_names'])} class names for "
                         f"{cfg['classes']} classes")
    return cfg


@dataclass
class HarModel:
    """A loaded HAR model: ``keras`` model and its ``config``."""
    keras: object
    config: dict
    folder: str

    @property
    def names(self):
        return list(self.config["class_names"])

    def predict(self, X):
        """Class probabilities (n, classes) of windows ``X`` (n, window, channels)."""
        X = np.asarray(X, np.float32)
        want = (self.config["window"], len(self.config["channels"]))
        if X.ndim != 3 or X.shape[1:] != want:
            raise ValueError(f"windows must have shape (n, {want[0]}, {want[1]}), got {X.shape}")
        if not len(X):
            return np.zeros((0, self.config["classes"]), np.float64)
        return self.keras.predict(X, batch_size=256, verbose=0).astype(np.float64)


def load(model_dir):
    """The :class:`HarModel` of a ``sw.train_har`` output folder."""
    cfg = read_config(model_dir)
    path = Path(model_dir) / cfg["model_file"]
    if not path.is_file():
        raise InputError(f"{path}: no such file (named by {Path(model_dir) / 'config.json'})")
    from sw import har_model
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    try:
        m = keras.models.load_model(path, custom_objects=har_model.custom_objects(),
                                    compile=False)
    except Exception as e:  # noqa: BLE001 -- keras raises many types on a bad file
        raise InputError(f"{path}: cannot load the Keras model ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else ''})") from None
    return HarModel(m, cfg, str(model_dir))
