"""Compression of a trained sequence model for the ARM: magnitude pruning and weight formats.

Pruning (:func:`prune`, our own; ``tensorflow-model-optimization`` does not take Keras 3
models): the kernels of the Conv1D, Dense and GRU layers (input and recurrent kernels) with at
least :data:`MIN_PRUNABLE` weights are pruned by magnitude in steps (default 20 -> 40 -> 60 ->
80 % of each kernel, :data:`SCHEDULE`, as Yi & Hwang): at every step the smallest ``|w|`` of
each kernel are set to zero (a weight pruned once stays zero, :class:`MaskKeeper` re-applies
the masks after every training batch) and the model is fine-tuned for a few epochs by the
caller's training step. Biases, BatchNorm and small kernels (the three weights of ECA's
Conv1D, the last Dense(1)) are left alone.

Weight formats of the emitted C (:func:`sw.c_emit.emit_keras_sequence`):

* ``float32`` -- dense float matrices;
* ``float32`` of a pruned model -- the matrices with enough zeros are stored as CSR rows
  (:class:`sw.c_layers.Matrix`), same arithmetic;
* ``int8`` -- dynamic range: int8 weights per output row with a float scale, float
  activations (CSR too when pruned).

:func:`arm_bytes` compiles a model's C alone for the Cortex-A9 and reads Flash and RAM
(:func:`sw.c_build.arm_footprint`: Flash = text + rodata + data; RAM = data + bss + stack,
the arena of ``NAME_predict_window`` being on its stack).
"""

import os
import tempfile

import numpy as np

__all__ = ["SCHEDULE", "MIN_PRUNABLE", "prunable", "magnitude_masks", "apply_masks",
           "MaskKeeper", "prune", "sparsity", "arm_bytes"]

#: fraction of every prunable kernel set to zero, step by step (Yi & Hwang: 20 % -> 80 %)
SCHEDULE = (0.2, 0.4, 0.6, 0.8)
#: kernels with fewer weights are not pruned
MIN_PRUNABLE = 64
_PRUNABLE_LAYERS = ("Conv1D", "Dense", "GRU")


def prunable(model):
    """The prunable kernels of ``model``: list of (layer name, Keras variable)."""
    out = []
    for layer in model.layers:
        if type(layer).__name__ not in _PRUNABLE_LAYERS:
            continue
        for v in layer.trainable_weights:
            if "kernel" in v.path and int(np.prod(v.shape)) >= MIN_PRUNABLE:
                out.append((layer.name, v))
    return out


def magnitude_masks(model, fraction):
    """{variable path: bool mask} keeping the largest ``1 - fraction`` of each prunable kernel
    by magnitude (exactly ``floor(fraction * n)`` weights cut; equal magnitudes: the earlier
    weight in row-major order is cut first)."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"pruning fraction must be in [0, 1), got {fraction}")
    masks = {}
    for _, v in prunable(model):
        w = np.asarray(v.numpy()).ravel()
        k = int(np.floor(fraction * w.size))
        keep = np.ones(w.size, bool)
        keep[np.argsort(np.abs(w), kind="stable")[:k]] = False
        masks[v.path] = keep.reshape(v.shape)
    return masks


def apply_masks(model, masks):
    """Multiply every masked kernel by its mask (in place)."""
    for _, v in prunable(model):
        m = masks.get(v.path)
        if m is not None:
            v.assign(np.asarray(v.numpy()) * m.astype(np.asarray(v.numpy()).dtype))


def _callback_base():
    from sw.classifiers import quiet_tensorflow
    return quiet_tensorflow().callbacks.Callback


def MaskKeeper(model, masks):
    """A Keras callback re-applying ``masks`` after every training batch (pruned weights stay
    zero while the others are fine-tuned)."""
    class _Keeper(_callback_base()):
        def on_train_batch_end(self, batch, logs=None):
            apply_masks(model, masks)
    return _Keeper()


def prune(model, fine_tune, schedule=SCHEDULE, say=None):
    """Prune ``model`` in place step by step; ``fine_tune(model, callbacks, step_label)`` trains
    it for the step's epochs (the caller's augmentation and class weights) with the given
    callbacks. Returns the per-step record ``[{"fraction", "sparsity"}]`` (sparsity: zeros
    over all prunable weights after the step)."""
    prev = 0.0
    steps = []
    for frac in schedule:
        if frac < prev:
            raise ValueError(f"pruning schedule must not decrease: {schedule}")
        prev = frac
        masks = magnitude_masks(model, frac)
        apply_masks(model, masks)
        fine_tune(model, [MaskKeeper(model, masks)], f"prune {100 * frac:.0f}%")
        apply_masks(model, masks)
        steps.append({"fraction": float(frac), "sparsity": sparsity(model)})
        if say:
            say(f"pruned to {100 * frac:.0f}% of each kernel "
                f"(prunable weights at zero: {100 * steps[-1]['sparsity']:.1f}%)")
    return steps


def sparsity(model):
    """Fraction of the prunable weights of ``model`` that are exactly zero (0 if none)."""
    n = z = 0
    for _, v in prunable(model):
        w = np.asarray(v.numpy())
        n += w.size
        z += int(np.count_nonzero(w == 0))
    return z / n if n else 0.0


def arm_bytes(name, model, weights="float32", hop=64, sparse=True):
    """Flash/RAM of ``model``'s C for the Cortex-A9 (:func:`sw.c_build.arm_footprint`) and
    the emitter's figures: {"flash", "ram", "text", "rodata", "data", "bss", "stack",
    "param_bytes", "arena_bytes", "weights", "sparse_layers"}."""
    from sw import c_build, c_emit
    h, c, info = c_emit.emit_keras_sequence(name, model, doc=f"{name} ({weights})", hop=hop,
                                            weights=weights, sparse=sparse)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, f"{name}.h"), "w") as f:
            f.write(h)
        with open(os.path.join(tmp, f"{name}.c"), "w") as f:
            f.write(c)
        fp = c_build.arm_footprint(tmp, name, tmp)
    return {**fp, "param_bytes": int(info["param_bytes"]), "arena_bytes": int(info["arena_bytes"]),
            "weights": weights,
            "sparse_layers": sum("CSR" in ly["note"] for ly in info["layers"])}
