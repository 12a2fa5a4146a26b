"""The eight wearing-off classifiers of the paper's Table 2, trained and scored as in §3.4/§4.2.

========  =====================================================================
name      model (paper Table 2 -> here)
========  =====================================================================
``tree``  decision tree, Gini, at most 129 splits
          -> ``DecisionTreeClassifier(criterion="gini", max_leaf_nodes=130)``
``qda``   quadratic discriminant -> ``QuadraticDiscriminantAnalysis()``
``svm``   SVM, linear kernel, MATLAB defaults (box constraint 1)
          -> ``StandardScaler`` + ``LinearSVC(C=1, loss="hinge")`` (the same
          hinge-loss linear SVM; features standardised so the solver converges
          on millisecond and percent scales alike)
``knn``   21 neighbours, city-block distance, equal weights
          -> ``StandardScaler`` + ``KNeighborsClassifier(21, metric="manhattan",
          weights="uniform", algorithm="brute")``, the standardised training
          points held as float32 (what the C stores)
``dnn1``  BatchNorm input, 3 x Dense(32, ReLU), Dense(1, sigmoid)
``dnn2``  BatchNorm input, 2 x Dense(32, ReLU), Dense(1, sigmoid)
``dnn3``  BatchNorm input, Dense(32, ReLU), 2 x Dense(32, tanh), Dense(1, sigmoid)
``dnn4``  BatchNorm input, Dense(32, ReLU), Dense(1, sigmoid); RMSProp
========  =====================================================================

Reading of Table 2 where the extracted text is garbled: DNN3 has the same
Flash as DNN1 in Table 6 (9.30 kB), hence three 32-unit layers; its rows list
tanh for "layer 2,3", so layer 1 is ReLU. Only DNN4's optimizer is given
(RMSProp); DNN1-3 use Nadam, the other optimizer of the paper's tuning range.
All DNNs: binary cross-entropy, learning rate 1e-3, batch 256 (the paper gives
neither; 256 keeps a full training under two minutes on 2 cores).

Validation as in the paper: 4-fold cross-validation on the training subjects
(stratified, shuffled from the seed) reports the validation accuracy of each
fold; the model that is then scored on the test subjects is refit on all the
training rows. For the DNNs each fold trains with early stopping on its
validation loss (patience 8, at most ``epochs``, default 60), and the final fit runs for
the median of the folds' best epoch counts.

Every model exposes ``label`` (1 = Pre L-dopa / OFF) and a ``score`` for the
ROC: tree leaf fraction, QDA posterior, SVM decision value, KNN vote
fraction, DNN sigmoid output.
"""

import os
import time

import numpy as np

__all__ = ["one_thread", "MODELS", "SHALLOW", "DNNS", "DNN_SPECS", "make_shallow", "make_dnn",
           "Trained", "train_model", "predict", "dnn_layers", "quiet_tensorflow"]

SHALLOW = ("tree", "qda", "svm", "knn")
DNNS = ("dnn1", "dnn2", "dnn3", "dnn4")
MODELS = SHALLOW + DNNS

#: hidden layers (units, activation) and optimizer of each DNN (module docstring)
DNN_SPECS = {
    "dnn1": dict(layers=((32, "relu"), (32, "relu"), (32, "relu")), optimizer="nadam"),
    "dnn2": dict(layers=((32, "relu"), (32, "relu")), optimizer="nadam"),
    "dnn3": dict(layers=((32, "relu"), (32, "tanh"), (32, "tanh")), optimizer="nadam"),
    "dnn4": dict(layers=((32, "relu"),), optimizer="rmsprop"),
}
LEARNING_RATE = 1e-3
BATCH = 256
PATIENCE = 8


def quiet_tensorflow():
    """Import keras with TensorFlow's start-up chatter silenced; returns keras."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import keras
        import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    return keras


def one_thread():
    """TensorFlow on one thread (call before any model is built)."""
    for k in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(k, "1")
    quiet_tensorflow()
    import tensorflow as tf
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:                  # already initialised: keep what it has
        pass


class _Float32KNN:
    """StandardScaler -> float32 -> brute-force KNN (what the emitted C computes)."""

    def __init__(self, k=21):
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.preprocessing import StandardScaler
        self.scaler = StandardScaler()
        self.knn = KNeighborsClassifier(k, metric="manhattan", weights="uniform", algorithm="brute")

    def _z(self, X):
        return self.scaler.transform(X).astype(np.float32)

    def fit(self, X, y):
        self.scaler.fit(X)
        self.knn.fit(self.scaler.transform(X).astype(np.float32), y)
        return self

    def predict(self, X):
        return self.knn.predict(self._z(X))

    def predict_proba(self, X):
        return self.knn.predict_proba(self._z(X))


def make_shallow(name, seed=0):
    """A fresh scikit-learn estimator for ``tree``, ``qda``, ``svm`` or ``knn``."""
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC
    from sklearn.tree import DecisionTreeClassifier
    if name == "tree":
        return DecisionTreeClassifier(criterion="gini", max_leaf_nodes=130, random_state=seed)
    if name == "qda":
        return QuadraticDiscriminantAnalysis()
    if name == "svm":
        return make_pipeline(StandardScaler(), LinearSVC(C=1.0, loss="hinge", dual=True,
                                                         max_iter=100000, random_state=seed))
    if name == "knn":
        return _Float32KNN(21)
    raise ValueError(f"unknown shallow model {name!r} (one of {', '.join(SHALLOW)})")


def make_dnn(layers, n_features, optimizer="rmsprop", learning_rate=LEARNING_RATE):
    """Keras model: Input -> BatchNormalization -> Dense layers -> Dense(1, sigmoid)."""
    keras = quiet_tensorflow()
    x = inp = keras.Input(shape=(n_features,), name="features")
    x = keras.layers.BatchNormalization(name="input_norm")(x)
    for i, (units, act) in enumerate(layers):
        x = keras.layers.Dense(units, activation=act, name=f"hidden{i + 1}")(x)
    out = keras.layers.Dense(1, activation="sigmoid", name="wo_probability")(x)
    model = keras.Model(inp, out)
    opt = {"rmsprop": keras.optimizers.RMSprop, "nadam": keras.optimizers.Nadam,
           "adam": keras.optimizers.Adam}[optimizer](learning_rate=learning_rate)
    model.compile(optimizer=opt, loss="binary_crossentropy", metrics=["accuracy"])
    return model


def dnn_layers(model):
    """Keras DNN -> plain arrays: ``{"norm": (scale, shift), "dense": [(W, b, act), ...]}``.

    ``scale``/``shift`` are the BatchNorm layer folded as TensorFlow evaluates it
    at inference, ``x * scale + shift`` with ``scale = gamma / sqrt(var + eps)``
    and ``shift = beta - mean * scale`` (float32). The last dense layer is the
    sigmoid output.
    """
    norm, dense = None, []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "BatchNormalization":
            gamma, beta, mean, var = [np.asarray(w, np.float32) for w in layer.get_weights()]
            scale = (gamma / np.sqrt(var + np.float32(layer.epsilon))).astype(np.float32)
            norm = (scale, (beta - mean * scale).astype(np.float32))
        elif kind == "Dense":
            W, b = [np.asarray(w, np.float32) for w in layer.get_weights()]
            act = layer.get_config()["activation"]
            dense.append((W, b, act if isinstance(act, str) else act.get("config", {}).get("name")))
        elif kind not in ("InputLayer",):
            raise ValueError(f"layer {layer.name} ({kind}) has no C emitter")
    if norm is None:
        raise ValueError("the DNN has no input BatchNormalization layer")
    return {"norm": norm, "dense": dense}


class Trained:
    """A fitted model with its cross-validation record."""

    def __init__(self, name, model, cv, seconds, epochs=None):
        self.name, self.model, self.cv, self.seconds, self.epochs = name, model, cv, seconds, epochs

    @property
    def is_dnn(self):
        return self.name not in SHALLOW


def predict(trained, X):
    """``(label, score)`` arrays of a :class:`Trained` model (label 1 = Pre / OFF)."""
    m = trained.model
    if trained.is_dnn:
        p = m.predict(X.astype(np.float32), verbose=0, batch_size=4096)[:, 0].astype(np.float64)
        return (p >= 0.5).astype(np.int64), p
    label = np.asarray(m.predict(X)).astype(np.int64)
    if trained.name == "svm":
        return label, m.decision_function(X)
    return label, m.predict_proba(X)[:, 1]


def _cv_folds(y, seed, k=4):
    from sklearn.model_selection import StratifiedKFold
    return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def train_model(name, X, y, seed=0, epochs=60, progress=None, layers=None, optimizer=None):
    """Fit model ``name`` with the paper's 4-fold validation; returns :class:`Trained`.

    ``layers``/``optimizer`` override :data:`DNN_SPECS` (``--tune`` results).
    """
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    folds = _cv_folds(y, seed)
    if name in SHALLOW:
        accs = []
        for i, (a, b) in enumerate(folds):
            m = make_shallow(name, seed).fit(X[a], y[a])
            accs.append(float(np.mean(m.predict(X[b]) == y[b])))
            say(f"{name}: fold {i + 1}/4 validation accuracy {100 * accs[-1]:.2f} %")
        model = make_shallow(name, seed).fit(X, y)
        return Trained(name, model, {"val_accuracy": accs}, time.perf_counter() - t0)
    if name not in DNN_SPECS and layers is None:
        raise ValueError(f"unknown model {name!r} (one of {', '.join(MODELS)})")
    keras = quiet_tensorflow()
    spec = DNN_SPECS.get(name, {})
    layers = layers or spec["layers"]
    optimizer = optimizer or spec["optimizer"]
    keras.utils.set_random_seed(seed)
    accs, losses, best = [], [], []
    X32 = X.astype(np.float32)
    for i, (a, b) in enumerate(folds):
        m = make_dnn(layers, X.shape[1], optimizer)
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE,
                                             restore_best_weights=True)
        h = m.fit(X32[a], y[a], validation_data=(X32[b], y[b]), epochs=epochs, batch_size=BATCH,
                  verbose=0, callbacks=[stop])
        k = int(np.argmin(h.history["val_loss"]))
        best.append(k + 1)
        losses.append(float(h.history["val_loss"][k]))
        accs.append(float(h.history["val_accuracy"][k]))
        say(f"{name}: fold {i + 1}/4 best epoch {k + 1}, validation loss {losses[-1]:.4f}, "
            f"accuracy {100 * accs[-1]:.2f} % ({time.perf_counter() - t0:.0f} s)")
    n_epochs = int(np.median(best))
    model = make_dnn(layers, X.shape[1], optimizer)
    model.fit(X32, y, epochs=n_epochs, batch_size=BATCH, verbose=0)
    say(f"{name}: final fit on all training rows, {n_epochs} epochs "
        f"({time.perf_counter() - t0:.0f} s)")
    return Trained(name, model, {"val_accuracy": accs, "val_loss": losses, "best_epoch": best},
                   time.perf_counter() - t0, epochs=n_epochs)
