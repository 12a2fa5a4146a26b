/* wo_activity.h -- activity context for wo_monitor: IMU samples -> HAR model -> activity windows.
 *
 * Compiled only when a HAR model is given (boards/arm_program.py --har MODEL_DIR passes the
 * macros below); the rule is the one of sw/activity_context.py, and docs/imu-ingress.md says
 * where the IMU samples come from.
 *
 *   WO_HAR_HEADER        "har_din_i8.h"   the emitted model's header (sw.c_emit.emit_keras_sequence)
 *   WO_HAR_MODEL         har_din_i8       its name: NAME_stream, NAME_reset, NAME_push
 *   WO_HAR_T, WO_HAR_C, WO_HAR_N_OUT      samples per window, channels, classes (the header's)
 *   WO_HAR_CLASS_NAMES   "WALKING", ...   class names, output order (config.json class_names)
 *   WO_HAR_WALKING_MASK  0x7u             bit k: class k is a walking class
 *
 * Samples: one per IMU frame, in the frame's channel order (WO_IMU_CHANNELS), at the frame's
 * 500 Hz fabric sample index. Consecutive samples must be WO_IMU_STEP fabric samples apart; any
 * other step (a lost or rejected IMU frame, a restart of the hub) resets the model's stream, so a
 * window is always WO_HAR_T contiguous samples. After a reset the first window ends at the
 * WO_HAR_T-th sample, then one every HOP samples (the model's own streaming API).
 *
 * A window covers the fabric sample indexes [first, last] of its first and last sample. The
 * activity at a time t is the class of the newest window (of the last WO_ACT_HISTORY) covering
 * t; wo_activity_settled(t) says no later window can cover t any more (the newest window starts
 * after t), so a caller that waits for it gets the newest covering window there will ever be.
 */
#ifndef WO_ACTIVITY_H
#define WO_ACTIVITY_H

#include <stdint.h>
#include "wo_frames.h"
#include WO_HAR_HEADER

#define WO_ACT_CAT_(a, b) a##b
#define WO_ACT_CAT(a, b) WO_ACT_CAT_(a, b)
#define WO_HAR_STREAM WO_ACT_CAT(WO_HAR_MODEL, _stream)
#define WO_HAR_RESET WO_ACT_CAT(WO_HAR_MODEL, _reset)
#define WO_HAR_PUSH WO_ACT_CAT(WO_HAR_MODEL, _push)

#if WO_HAR_C != WO_IMU_N_CHANNELS
#error "the HAR model's channels are not the IMU frame's (WO_IMU_CHANNELS)"
#endif

#define WO_ACT_HISTORY 64                /* windows kept for wo_activity_at (sw.activity_context.HISTORY) */

/* one window's result */
typedef struct {
    uint64_t first, last;                /* fabric sample indexes of its first and last sample */
    int cls;                             /* class index: the largest output (the first of equals) */
    float p;                             /* that output (softmax probability) */
} wo_act_window;

typedef struct {
    WO_HAR_STREAM stream;                /* the model's ring and arena */
    int have_prev;
    uint32_t prev_index;                 /* index of the last sample pushed */
    unsigned long samples, windows, resets;
    wo_act_window hist[WO_ACT_HISTORY];  /* hist[(n - 1) % WO_ACT_HISTORY] is the newest */
    unsigned long n;                     /* windows done (since init) */
} wo_activity;

void wo_activity_init(wo_activity *a);
/* one IMU sample (WO_HAR_C values) at fabric sample `index`; 1 when it completed a window */
int wo_activity_push(wo_activity *a, uint32_t index, const float *sample);
/* the newest window, or 0 before the first */
const wo_act_window *wo_activity_current(const wo_activity *a);
/* the newest window covering fabric sample t: 1 and *out, or 0 (unknown) */
int wo_activity_at(const wo_activity *a, uint64_t t, wo_act_window *out);
/* 1 when the newest window starts after t: no later window will cover t */
int wo_activity_settled(const wo_activity *a, uint64_t t);
/* class name, and 1 if class cls is a walking class */
const char *wo_activity_name(int cls);
int wo_activity_walking(int cls);

#endif
