"""Activity context of the strides: the Python reference of ``boards/arm/wo_activity.c``.

Gait features mean something only while the person walks. The ARM program (``wo_monitor``
built with ``python -m boards.arm_program --har MODEL_DIR``) runs the activity model of
``python -m sw.train_har`` on the IMU stream (``IMU`` frames of :mod:`spec.frames`, one 50 Hz
sample each, stamped with the fabric's 500 Hz sample index; ``docs/imu-ingress.md``) and tags
every STRIDE with the activity of the window around the stride's end. This module is the same
rule over the same frames, with the Keras model:

* **windows** (:func:`imu_windows`): the IMU samples in arrival order; a sample whose ``index``
  is not the previous one's + :data:`spec.frames.IMU_STEP` (a lost or rejected IMU frame, a
  restart) starts the stream again; after a (re)start the first window ends at the ``T``-th
  sample, then one every ``hop`` samples (the streaming API of
  :func:`sw.c_emit.emit_keras_sequence`). A window covers the fabric sample indexes
  ``[first, last]`` of its first and last sample; its activity is the largest output (the first
  of equal ones) and its probability that output.
* **tags** (:func:`replay`): a stride ends at ``end = start + stride_time`` (fabric samples).
  Its tag is the newest of the last :data:`HISTORY` windows covering ``end``; none: unknown
  (blank values). Each stride waits (in arrival order, at most :data:`PENDING`; a full queue
  lets the oldest go with what is known) until the newest window starts after ``end`` -- then no
  later window can cover it -- or the stream ends.
* **columns** (:data:`TAG_COLUMNS`, the names wo_monitor prints): ``activity`` (class name),
  ``p_activity`` (its probability, 4 decimals), ``walking`` (1 for a class of :data:`WALKING`,
  else 0), ``activity_end_s`` (the window's last sample, seconds of the fabric clock); all
  blank for unknown.
"""

from collections import deque

import numpy as np

from spec.frames import FRAMES, IMU_CHANNELS, IMU_STEP, Decoder

__all__ = ["WALKING", "HISTORY", "PENDING", "TAG_COLUMNS", "WINDOW_COLUMNS", "walking_mask",
           "imu_sample", "imu_windows", "replay", "tag_stream", "stride_end"]

#: the walking classes (sw.har_data's six-class names)
WALKING = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS")
#: windows kept for the tags (WO_ACT_HISTORY in boards/arm/wo_activity.h)
HISTORY = 64
#: strides waiting for their windows (WO_ACT_PENDING in boards/arm/wo_monitor.c)
PENDING = 32
#: the tag of a stride, in the order wo_monitor prints them
TAG_COLUMNS = ("activity", "p_activity", "walking", "activity_end_s")
#: one ACTIVITY line of wo_monitor (one per window)
WINDOW_COLUMNS = ("activity_end_s", "activity", "p_activity", "walking")

_IMU = FRAMES["IMU"]
_INDEX = _IMU.field("index")


def walking_mask(class_names):
    """Bit k set when class k is one of :data:`WALKING` (``WO_HAR_WALKING_MASK``)."""
    return sum(1 << k for k, n in enumerate(class_names) if n in WALKING)


def imu_sample(rec):
    """An IMU record -> (index, float32 values in :data:`spec.frames.IMU_CHANNELS` order).

    value = raw * mul / div in double, then float32 (as ``wo_monitor.c``)."""
    x = np.array([np.float32(rec[c] * _IMU.field(c).mul / _IMU.field(c).div)
                  for c in IMU_CHANNELS], np.float32)
    return int(rec["index"]), x


def _seconds(index):
    return f"{index * _INDEX.mul / _INDEX.div:.3f}"


def stride_end(rec):
    """Fabric sample index at which a STRIDE record's stride ended: start + stride_time."""
    return int(rec["start"]) + int(rec["stride_time"])


def imu_windows(samples, T, hop):
    """Windows of ``(index, values)`` samples in arrival order (module docstring).

    Returns a list of ``(k, first, last, X)``: the window completed by sample ``k`` (0-based),
    the fabric indexes of its first and last sample and its samples ``X`` (T, channels)."""
    out, run, prev = [], [], None
    for k, (index, x) in enumerate(samples):
        if prev is not None and index != (prev + IMU_STEP) % (1 << 32):
            run = []
        prev = index
        run.append(x)
        n = len(run)
        if n >= T and (n - T) % hop == 0:
            out.append((k, index - (T - 1) * IMU_STEP, index, np.stack(run[-T:])))
            run = run[-T:]
    return out


def _tag(w, class_names):
    if w is None:
        return dict.fromkeys(TAG_COLUMNS, "")
    first, last, cls, p = w
    return {"activity": class_names[cls], "p_activity": f"{p:.4f}",
            "walking": "1" if class_names[cls] in WALKING else "0",
            "activity_end_s": _seconds(last)}


def replay(frames, predict, class_names, T, hop):
    """The tags of the STRIDE frames of ``frames`` (decoded, in arrival order).

    ``predict(X)``: class probabilities (n, classes) of windows ``X`` (n, T, channels).
    Returns ``(windows, strides)``: per window a dict of :data:`WINDOW_COLUMNS` (+ ``first``,
    ``last``, ``probabilities``), per stride, in the order wo_monitor prints them, a dict
    ``seq``, ``leg``, ``start``, ``end`` + :data:`TAG_COLUMNS` (strings, as printed)."""
    imu = [(i, f) for i, f in enumerate(frames) if f.kind == "IMU"]
    wins = imu_windows([imu_sample(f.record) for _, f in imu], T, hop)
    P = np.asarray(predict(np.stack([w[3] for w in wins]))) if wins else np.zeros((0, 0))
    done_at = {imu[k][0]: j for j, (k, _, _, _) in enumerate(wins)}   # frame -> window
    history, pending, strides, windows = deque(maxlen=HISTORY), deque(), [], []

    def pop():
        s = pending.popleft()
        cover = next((w for w in reversed(history) if w[0] <= s["end"] <= w[1]), None)
        strides.append({**s, **_tag(cover, class_names)})

    def resolve():
        while pending and history and history[-1][0] > pending[0]["end"]:
            pop()

    for i, f in enumerate(frames):
        if f.kind == "STRIDE":
            if len(pending) == PENDING:
                pop()
            pending.append({"seq": f.seq, "leg": int(f.record["leg"]),
                            "start": int(f.record["start"]), "end": stride_end(f.record)})
            resolve()
        elif i in done_at:
            j = done_at[i]
            _, first, last, _ = wins[j]
            cls = int(np.argmax(P[j]))
            history.append((first, last, cls, float(P[j][cls])))
            windows.append({**_tag(history[-1], class_names), "first": first, "last": last,
                            "probabilities": P[j]})
            resolve()
    while pending:
        pop()
    return windows, strides


def tag_stream(data, predict, class_names, T, hop):
    """:func:`replay` of the frames of a byte stream (``spec.frames.Decoder(check=True)``: the
    frames wo_monitor accepts); ``predict`` e.g. ``sw.har_predict.load(dir).predict``."""
    dec = Decoder(check=True)
    frames = dec.feed(bytes(data))
    dec.finish()
    return replay(frames, predict, class_names, T, hop)
