"""KerasTuner Hyperband over the paper's DNN search space (§3.4), scored by 4-fold validation.

Search space (paper §3.4): 1-3 hidden layers (``layers``); per layer
``units{i}`` in 8, 16, 32, 64 and ``act{i}`` in ReLU, SELU, tanh; optimizer
Nadam or RMSProp; always BatchNorm input and a Dense(1, sigmoid) output,
binary cross-entropy. Objective: the mean over 4 stratified folds of the
training rows of each fold's best validation loss (``val_loss``, minimised).

Hyperband (``max_epochs``, factor 3) decides the epoch budget of each trial;
every fold trains from scratch for that budget (weights are not carried over
between Hyperband rounds). With ``max_epochs = 30`` this is about 90 trials x 4
folds; expect tens of minutes on 2 cores for the default cohort.
"""

import sys
import tempfile
import warnings

import numpy as np

from sw.classifiers import BATCH, _cv_folds, make_dnn, quiet_tensorflow

__all__ = ["tune", "UNITS", "ACTIVATIONS", "OPTIMIZERS"]

UNITS = (8, 16, 32, 64)
ACTIVATIONS = ("relu", "selu", "tanh")
OPTIMIZERS = ("nadam", "rmsprop")


def _layers_of(hp):
    return [(int(hp.get(f"units{i}")), hp.get(f"act{i}")) for i in range(hp.get("layers"))]


def tune(X, y, seed=0, max_epochs=30, progress=None, factor=3):
    """Run the search; returns ``(layers, optimizer, info)`` of the best trial."""
    say = progress or (lambda m: print(m, file=sys.stderr, flush=True))
    keras = quiet_tensorflow()
    import keras_tuner as kt
    n_features = X.shape[1]
    X32 = X.astype(np.float32)
    folds = _cv_folds(y, seed)

    def build(hp):
        n = hp.Int("layers", 1, 3)
        for i in range(3):
            # declared for every layer so each trial has the same hyperparameter set
            hp.Choice(f"units{i}", list(UNITS), parent_name="layers",
                      parent_values=list(range(i + 1, 4)))
            hp.Choice(f"act{i}", list(ACTIVATIONS), parent_name="layers",
                      parent_values=list(range(i + 1, 4)))
        opt = hp.Choice("optimizer", list(OPTIMIZERS))
        return make_dnn([(hp.get(f"units{i}"), hp.get(f"act{i}")) for i in range(n)],
                        n_features, opt)

    count = [0]

    class CVHyperband(kt.Hyperband):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            epochs = int(hp.values.get("tuner/epochs", max_epochs))
            losses = []
            for a, b in folds:
                model = build(hp)
                h = model.fit(X32[a], y[a], validation_data=(X32[b], y[b]), epochs=epochs,
                              batch_size=BATCH, verbose=0)
                losses.append(float(np.min(h.history["val_loss"])))
            count[0] += 1
            mean = float(np.mean(losses))
            say(f"tune trial {count[0]}: {_layers_of(hp)} {hp.get('optimizer')}, {epochs} epochs: "
                f"mean validation loss {mean:.4f}")
            return {"val_loss": mean}

    keras.utils.set_random_seed(seed)
    # keras-tuner 1.4.8 calls threading.currentThread()/getName(): deprecated, harmless
    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        tuner = CVHyperband(hypermodel=build, objective=kt.Objective("val_loss", "min"),
                            max_epochs=max_epochs, factor=factor, seed=seed, directory=d,
                            project_name="wo_dnn", overwrite=True)
        tuner.search()
        best = tuner.oracle.get_best_trials(1)[0]
        hp = best.hyperparameters
        layers = _layers_of(hp)
        info = {"best_val_loss": float(best.score), "trials": count[0], "max_epochs": max_epochs,
                "best": {"layers": [[u, a] for u, a in layers], "optimizer": hp.get("optimizer")}}
    say(f"tune: best {layers} {hp.get('optimizer')}, "
        f"mean validation loss {info['best_val_loss']:.4f} "
        f"after {count[0]} trials")
    return layers, hp.get("optimizer"), info
