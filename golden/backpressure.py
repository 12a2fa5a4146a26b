"""Backpressure models: what the cores do when the consumer of their output stalls.

The bit-exact models of the blocks (:mod:`golden.emg_trigger_model`,
:mod:`golden.stride_indexes_model`, :mod:`golden.eeg_mrp_model`,
:mod:`golden.samples_parser_model`) say *what* a core computes; this module says
what survives, and when, once the output's ``ready`` is not always high. The
cocotb testbenches drive ``ready`` from a :class:`golden.stalls.ReadyPattern` (stall
intervals in clock cycles) and compare the records, their clock cycles and the drop
counters with these predictions exactly (``tests/gateware/test_backpressure.py``).

Clock edges are numbered as in :class:`sim.cocotb_streams.StreamTB`: edge ``c``
is the rising edge at ``c`` clock periods since time 0. A transfer happens on an
edge where ``valid`` and ``ready`` are both high; :class:`~golden.stalls.ReadyPattern`
gives ``ready`` on each edge.

What the cores do with a stalled output (read from the gateware, ``hdl/``):

* **EMG trigger** (:class:`hdl.emg_trigger.EMGTrigger`) holds its trigger frame
  and accepts no input until it is taken: the stall moves to the input, nothing
  is dropped or counted (:func:`trigger_schedule`).
* **Stride indexes** (:class:`hdl.stride_indexes.StrideIndexes`) takes a frame
  every other edge (the left leg on the accept edge, the right leg on the next) and
  never holds its input longer. A finished stride waits in its leg's ``pending`` slot while the
  serialiser computes or offers an earlier record; a leg that finishes a stride
  while its slot is still full drops the new stride and raises the sticky
  ``overrun`` flag (:func:`stride_schedule`). Later strides are unaffected (the
  counters restart at every onset either way). The serialiser empties the left
  slot first, so under a stall a left-leg record can overtake a right-leg record
  that ended earlier (records are then not in end order; each carries its leg).
* **EEG MRP** (:class:`hdl.eeg_mrp.EEGMRP`) holds each record until taken and
  accepts the next frame only when every record of the trigger is out: the stall
  moves to the input, nothing is dropped (:func:`eeg_schedule`).
* **UART receiver** (:class:`hdl.uart_rx.UARTRx`) cannot stall the line: a byte
  that completes while the previous one is still untaken is dropped and counted
  in ``overruns``, saturating at 0xFFFF (:func:`uart_rx_overruns`).
* **Sample ingress** (:class:`hdl.sample_ingress.SampleIngress`): a stalled
  output stops the SAMPLES parser, the byte FIFO fills, and bytes that find it
  full are dropped and counted in ``overruns`` (:func:`ingress_overflow`).
"""

import numpy as np

from golden.eeg_mrp_model import BANDS, BINS, N
from golden.samples_parser_model import SamplesParserModel
from golden.stalls import ReadyPattern, random_stalls
from golden.stride_indexes_model import MIN_STRIDE, REF_MIN_GAP, stride_onsets

__all__ = ["ReadyPattern", "random_stalls", "trigger_schedule", "STRIDE_SERIALISE_CYCLES",
           "STRIDE_FILL_CYCLES",
           "stride_schedule", "stride_record_ends", "EEG_CHANNEL_CYCLES", "eeg_schedule",
           "uart_rx_overruns", "ingress_overflow"]


def trigger_schedule(first_accept, n_frames, cycles_per_frame, ready):
    """Accept and output edges of :class:`hdl.emg_trigger.EMGTrigger` with a stalled output.

    The core accepts a frame on edge ``a`` (``WAIT_FRAME``), offers its trigger
    frame from edge ``a + cycles_per_frame - 1`` (``EMIT_TRIGGERS``) until it is
    taken on edge ``e``, and accepts the next frame on ``e + 1`` (no drop: the stall
    moves to the input; the source always has the next frame).

    Returns
    -------
    accepted, taken : ndarray of int64, shape (n_frames,)
    """
    accepted, taken = [], []
    a = int(first_accept)
    for _ in range(n_frames):
        e = ready.next_ready(a + cycles_per_frame - 1)
        accepted.append(a)
        taken.append(e)
        a = e + 1
    return np.array(accepted, np.int64), np.array(taken, np.int64)


#: Edges from picking a pending stride (``WAIT_STRIDE``, which reads its slot) to offering its
#: record (``EMIT_RECORD``): ``LOAD_STRIDE`` + 4 muscles x (``START_DIVIDE`` + 14 divider
#: steps) + 1 (:mod:`hdl.stride_indexes`).
STRIDE_SERIALISE_CYCLES = 1 + 4 * 15 + 1
#: Edges from accepting the frame that ends a stride to offering its record when the
#: serialiser is idle: the slot reads as full two edges after the accept (the left leg's
#: slot written on the accept edge, the right leg's on the next), + ``STRIDE_SERIALISE_CYCLES``
#: (:data:`hdl.stride_indexes.LATENCY_CYCLES` counts to the edge that takes it, one more).
STRIDE_FILL_CYCLES = 2


def stride_record_ends(trig, present=None, stride_ref=0, min_stride=MIN_STRIDE,
                       ref_min_gap=REF_MIN_GAP):
    """``(end_frame, leg)`` of every stride record, in the order of the bit-exact model.

    Same records as :func:`golden.stride_indexes_model.stride_indexes_bitexact`;
    ``end_frame`` is the frame of the stride onset that finished the stride (the
    frame whose acceptance ends it).
    """
    trig = np.asarray(trig, bool)
    present = np.ones(8, bool) if present is None else np.asarray(present, bool)
    events = []
    for leg in (0, 1):
        ref = 4 * leg + stride_ref
        if not present[ref]:
            continue
        onsets = stride_onsets(trig[:, ref], min_stride, ref_min_gap)
        events += [(int(s1), leg) for s1 in onsets[1:]]
    events.sort()
    return events


def stride_schedule(ends, frame_edges, ready, serialise=STRIDE_SERIALISE_CYCLES):
    """Which stride records :class:`hdl.stride_indexes.StrideIndexes` delivers, and when.

    Parameters
    ----------
    ends : list of (end_frame, leg)
        From :func:`stride_record_ends`, in record order.
    frame_edges : array_like of int
        Edge on which each trigger frame was accepted (two edges apart at least).
    ready : ReadyPattern
        ``ready`` of the record output.
    serialise : int
        :data:`STRIDE_SERIALISE_CYCLES`.

    Returns
    -------
    kept : ndarray of bool
        Per record: delivered (``False``: dropped by an overrun).
    order : ndarray of int64
        Indexes of the delivered records in the order they come out. Without stalls
        this is record order; with stalls a left-leg stride can overtake a right-leg
        stride that ended earlier but was still waiting in its slot (the serialiser
        empties the left slot first).
    taken : ndarray of int64
        Edge on which each record of ``order`` was taken.
    overrun : int
        The sticky ``overrun`` flag at the end (1 if any record was dropped).

    Cycle model (per edge, registers updated after the edge): the core takes a frame
    every other edge at most (accept edge ``a``: left leg, ``a + 1``: right leg). A stride
    of leg ``L`` ending on frame ``f`` is written into its leg's ``pending`` slot on edge
    ``frame_edges[f] + L``, or dropped if that slot is still full and not being emptied
    on the same edge; the slot reads as full from edge ``frame_edges[f] + 2``. The
    serialiser, idle on an edge with a slot full (left leg first), reads it on that edge
    (``WAIT_STRIDE``), empties it on the next (``LOAD_STRIDE``), offers the record
    ``serialise`` edges after the first and is idle again on the edge after the record
    was taken.
    """
    sets = [(int(frame_edges[f]) + leg, leg) for f, leg in ends]
    n = len(sets)
    kept = np.ones(n, bool)
    taken = np.full(n, -1, np.int64)
    pend = [None, None]                # record index in each leg's slot
    pend_from = [0, 0]                 # first edge the slot reads as full
    clear_at = [None, None]            # edge on which the slot is emptied
    cur, emit_from = None, 0           # record in the serialiser, first edge it is offered
    idle_from = -1                     # first edge the serialiser is idle
    i = 0
    while True:
        cands = [sets[i][0]] if i < n else []
        cands += [e for e in clear_at if e is not None]
        if cur is not None:
            cands.append(ready.next_ready(emit_from))
        else:
            full = [pend_from[leg] for leg in (0, 1)
                    if pend[leg] is not None and clear_at[leg] is None]
            if full:
                cands.append(max(min(full), idle_from))
        if not cands:
            break
        edge = min(cands)
        if cur is not None:
            if edge >= emit_from and ready.ready(edge):
                taken[cur] = edge
                cur, idle_from = None, edge + 1
        elif edge >= idle_from:
            for leg in (0, 1):
                if pend[leg] is not None and clear_at[leg] is None and pend_from[leg] <= edge:
                    cur, emit_from = pend[leg], edge + serialise
                    clear_at[leg] = edge + 1
                    break
        new = []
        while i < n and sets[i][0] == edge:
            leg = sets[i][1]
            if pend[leg] is not None and clear_at[leg] != edge:
                kept[i] = False
            else:
                new.append((leg, i))
            i += 1
        for leg in (0, 1):
            if clear_at[leg] == edge:
                pend[leg], clear_at[leg] = None, None
        for leg, k in new:
            pend[leg], pend_from[leg] = k, edge + STRIDE_FILL_CYCLES - leg
    order = np.flatnonzero(kept)
    order = order[np.argsort(taken[order], kind="stable")]
    return kept, order, taken[order], int(not kept.all())


#: Edges from ``NEXT_CHANNEL`` of an enabled channel to its record being offered
#: (``EMIT_RECORD``): ``NEXT_CHANNEL`` + per band bin ``START_BIN`` + ``N + 3``
#: multiply-accumulate edges (256 issues, 3 to drain the pipeline) + ``SQUARE_MAGNITUDE``
#: + ``TRACK_BAND_MAX``, then ``LOG_LOOKUP`` + ``LOG_SCALE`` per band (:mod:`hdl.eeg_mrp`).
EEG_CHANNEL_CYCLES = 1 + len(BINS) * (N + 6) + 2 * len(BANDS)


def eeg_schedule(trigger, enable, first_accept, ready, channel_cycles=EEG_CHANNEL_CYCLES):
    """Accept edges of the frames and take edges of the records of :class:`hdl.eeg_mrp.EEGMRP`.

    A frame without trigger is accepted on the edge after the previous one (the
    source always has the next frame). A trigger frame accepted on edge ``a``
    runs the channels from edge ``a + 1``: a disabled channel costs one edge, an
    enabled one ``channel_cycles`` edges and then waits until its record is taken
    on edge ``e`` (the next channel starts on ``e + 1``); after the last channel one
    more edge, and the next frame is accepted on the edge after that. Nothing is
    dropped: a stalled output holds the input.

    Returns
    -------
    accepted : ndarray of int64, shape (n_frames,)
    taken : ndarray of int64
        One per record, in record order (trigger, then channel).
    """
    enable = [bool(v) for v in enable]
    accepted, taken = [], []
    a = int(first_accept)
    for t in np.asarray(trigger).astype(bool):
        accepted.append(a)
        if not t:
            a += 1
            continue
        x = a + 1
        for on in enable:
            if on:
                e = ready.next_ready(x + channel_cycles)
                taken.append(e)
                x = e + 1
            else:
                x += 1
        a = x + 1
    return np.array(accepted, np.int64), np.array(taken, np.int64)


def uart_rx_overruns(ready, start=0, top=0xFFFF):
    """Bytes :class:`hdl.uart_rx.UARTRx` delivers and its overrun count, per byte slot.

    ``ready[j]`` is the level of ``o.ready`` from the middle of byte ``j`` (its data
    bits) to the middle of byte ``j + 1``, in particular when byte ``j``'s stop bit
    is checked; before the middle of byte 0 and after the last byte ``ready`` is
    high. A byte that completes while an earlier one is still held (not taken) is
    dropped and counted; the counter starts at ``start`` and saturates at ``top``.

    Returns
    -------
    delivered : list of int
        Indexes of the bytes that come out, in order.
    overruns : int
    """
    held, out, count, prev = None, [], int(start), True
    for j, r in enumerate(ready):
        r = bool(r)
        if held is not None and (prev or r):
            out.append(held)
            held = None
        if held is not None:
            count = min(count + 1, top)
        else:
            held = j
        prev = r
    if held is not None:
        out.append(held)
    return out, count


def ingress_overflow(data, resume, fifo_depth):
    """Sample ingress (sensor UART path) with its output stalled from the start.

    The parser reads bytes until it has a frame to hand on, then waits; the byte
    FIFO takes the next ``fifo_depth`` bytes, and every later byte that completes
    before the output is ready again (byte ``resume`` and on arrive after) is dropped
    and counted in ``overruns`` (the counter saturates at 0xFFFF).

    Returns
    -------
    model : SamplesParserModel
        Fed the bytes that were not dropped (``frames``, ``bad_frames``, ``lost_frames``).
    payloads : list of bytes
        The frames that come out.
    overruns : int
    """
    data = bytes(data)
    first = SamplesParserModel()
    stop = len(data)
    for k, b in enumerate(data):
        if first.feed(bytes([b])):
            stop = k + 1
            break
    keep_to = min(stop + fifo_depth, len(data))
    dropped = max(0, min(resume, len(data)) - keep_to)
    kept = data[:keep_to] + data[keep_to + dropped:]
    model = SamplesParserModel()
    payloads = model.feed(kept)
    return model, payloads, min(dropped, 0xFFFF)
