/* wo_activity.c -- activity context: see wo_activity.h (the rule of sw/activity_context.py). */
#include <string.h>
#include "wo_activity.h"

static const char *const CLASS_NAMES[WO_HAR_N_OUT] = {WO_HAR_CLASS_NAMES};

void wo_activity_init(wo_activity *a)
{
    memset(a, 0, sizeof *a);
    WO_HAR_RESET(&a->stream);
}

int wo_activity_push(wo_activity *a, uint32_t index, const float *sample)
{
    float p[WO_HAR_N_OUT];
    wo_act_window *w;
    int k;
    if (a->have_prev && index != (uint32_t)(a->prev_index + WO_IMU_STEP)) {
        WO_HAR_RESET(&a->stream);        /* not contiguous: a window never spans the gap */
        a->resets++;
    }
    a->have_prev = 1;
    a->prev_index = index;
    a->samples++;
    if (!WO_HAR_PUSH(&a->stream, sample, p))
        return 0;
    w = &a->hist[a->n % WO_ACT_HISTORY];
    w->last = index;
    w->first = (uint64_t)index - (uint64_t)(WO_HAR_T - 1) * WO_IMU_STEP;
    w->cls = 0;
    for (k = 1; k < WO_HAR_N_OUT; k++)
        if (p[k] > p[w->cls]) w->cls = k;
    w->p = p[w->cls];
    a->n++;
    a->windows++;
    return 1;
}

const wo_act_window *wo_activity_current(const wo_activity *a)
{
    return a->n ? &a->hist[(a->n - 1) % WO_ACT_HISTORY] : 0;
}

int wo_activity_at(const wo_activity *a, uint64_t t, wo_act_window *out)
{
    unsigned long k, kept = a->n < WO_ACT_HISTORY ? a->n : WO_ACT_HISTORY;
    for (k = 1; k <= kept; k++) {
        const wo_act_window *w = &a->hist[(a->n - k) % WO_ACT_HISTORY];
        if (w->first <= t && t <= w->last) {
            *out = *w;
            return 1;
        }
    }
    return 0;
}

int wo_activity_settled(const wo_activity *a, uint64_t t)
{
    const wo_act_window *w = wo_activity_current(a);
    return w && w->first > t;
}

const char *wo_activity_name(int cls)
{
    return cls >= 0 && cls < WO_HAR_N_OUT ? CLASS_NAMES[cls] : "";
}

int wo_activity_walking(int cls)
{
    return cls >= 0 && cls < WO_HAR_N_OUT && ((WO_HAR_WALKING_MASK >> cls) & 1u);
}
