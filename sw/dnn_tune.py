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

Distributed search (KerasTuner's own chief/worker mode, :func:`distributed_role`): run the
same command, with the same data options, once as the chief and once per worker, each with
the environment variables ``KERASTUNER_TUNER_ID`` (``chief`` for the chief, ``tuner0``,
``tuner1``, ... for the workers), ``KERASTUNER_ORACLE_IP`` (the chief's address, reachable
by every worker; the chief listens there) and ``KERASTUNER_ORACLE_PORT`` (a free port on the
chief). The chief runs the Hyperband oracle (it trains nothing itself) and, once the workers
have finished every trial, returns the best trial; a worker runs trials and returns
``(None, None, info)``. Trials are handed out in the order workers ask for them, so the best
trial can differ from a one-process search with the same seed. See
``docs/many-recordings.md`` for the commands.
"""

import os
import sys
import tempfile
import warnings

import numpy as np

from sw.classifiers import BATCH, _cv_folds, make_dnn, quiet_tensorflow

__all__ = ["tune", "distributed_role", "UNITS", "ACTIVATIONS", "OPTIMIZERS", "TUNER_ENV"]

UNITS = (8, 16, 32, 64)
ACTIVATIONS = ("relu", "selu", "tanh")
OPTIMIZERS = ("nadam", "rmsprop")


#: KerasTuner's distributed-mode environment variables
TUNER_ENV = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


def distributed_role(environ=None):
    """This process's part in a distributed search: None (not distributed), ``"chief"`` or
    the worker's ``KERASTUNER_TUNER_ID``.

    Raises :class:`spec.cli.InputError` (one line) when only some of :data:`TUNER_ENV` are
    set, or the port is not a number in 1..65535.
    """
    from spec.cli import InputError
    env = os.environ if environ is None else environ
    given = [k for k in TUNER_ENV if env.get(k)]
    if not given:
        return None
    if len(given) < len(TUNER_ENV):
        missing = [k for k in TUNER_ENV if k not in given]
        raise InputError(f"distributed tuning: {', '.join(given)} set but not "
                         f"{', '.join(missing)} (set all three, or none)")
    port = env["KERASTUNER_ORACLE_PORT"]
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"KERASTUNER_ORACLE_PORT={port!r} is not a port number (1..65535)")
    tid = env["KERASTUNER_TUNER_ID"]
    return "chief" if "chief" in tid else tid


def _layers_of(hp):
    return [(int(hp.get(f"units{i}")), hp.get(f"act{i}")) for i in range(hp.get("layers"))]


def tune(X, y, seed=0, max_epochs=30, progress=None, factor=3):
    """Run the search; returns ``(layers, optimizer, info)`` of the best trial.

    In a distributed search (:func:`distributed_role`) the chief returns the best trial of
    all workers and a worker returns ``(None, None, info)`` after its share of the trials.
    """
    say = progress or (lambda m: print(m, file=sys.stderr, flush=True))
    role = distributed_role()
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
        if role == "chief":
            say(f"tune chief: Hyperband oracle on {os.environ['KERASTUNER_ORACLE_IP']}:"
                f"{os.environ['KERASTUNER_ORACLE_PORT']}, waiting for workers")
        tuner.search()
        if role not in (None, "chief"):
            say(f"tune worker {role}: {count[0]} trials run; the chief has the result")
            return None, None, {"role": role, "trials": count[0], "max_epochs": max_epochs}
        best = tuner.oracle.get_best_trials(1)[0]
        hp = best.hyperparameters
        layers = _layers_of(hp)
        trials = count[0] if role is None else sum(
            1 for t in tuner.oracle.trials.values() if t.score is not None)
        info = {"best_val_loss": float(best.score), "trials": trials, "max_epochs": max_epochs,
                "best": {"layers": [[u, a] for u, a in layers], "optimizer": hp.get("optimizer")}}
        if role:
            info["distributed"] = "chief"
    say(f"tune: best {layers} {hp.get('optimizer')}, "
        f"mean validation loss {info['best_val_loss']:.4f} "
        f"after {trials} trials")
    return layers, hp.get("optimizer"), info
