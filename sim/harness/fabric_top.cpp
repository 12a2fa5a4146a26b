// Fast replay harness of hdl.fabric_top.FabricTop inside sim.fabric_hdl_engine.FabricTaps
// (FabricTop's ports plus read-only taps: the EMG branch's trig/trig_valid and the EEG
// branch's input handshake), driven as sim/cocotb_fabric_top.py does.
//
// Arguments: frames/n/cols (8 EMG + n_eeg EEG + ext_trigger), present, stride_ref,
// eeg_enable, out, progress, every, drain (cycles after the last frame, 30000; longer while
// the EEG branch is busy), timeout.
// Outputs: stride.bin, mrp.bin (raw record words), stride_cycle.bin (64-bit cycle each stride
// record was taken), accepted.bin (64-bit cycle of every input transfer), trig.bin (trigger
// bits at every trig_valid strobe), eeg_trigger.bin (trigger flag of every frame the EEG
// branch took), state.bin (stride_overrun, stride_overruns, cycles as 64-bit words).
#include "common.h"

using namespace harness;

int main(int argc, char** argv) {
    Args a(argc, argv);
    Frames fr(a);
    Progress prog(a);
    const uint64_t drain = a.num("drain", "30000"), timeout = a.num("timeout", "200000");
    VerilatedContext ctx;
    Vtop* top = new Vtop{&ctx};
    Writer stride(a, "stride", port_words(top->PORT(stride, payload))),
        mrp(a, "mrp", port_words(top->PORT(mrp, payload))), stride_cycle(a, "stride_cycle", 2),
        acc(a, "accepted", 2), trig(a, "trig", 1), eeg_trig(a, "eeg_trigger", 1);
    uint32_t rec[64];

    top->present = (uint8_t)a.num("present");
    top->stride_ref = (uint8_t)a.num("stride_ref");
    top->eeg_enable = a.num("eeg_enable");
    top->PORT(stride, ready) = 1;
    top->PORT(mrp, ready) = 1;
    top->PORT(i, valid) = 0;
    uint64_t now = 0;
    auto sample = [&]() {
        if (top->rst) return;
        if (top->PORT(stride, valid) && top->PORT(stride, ready)) {
            get_port(top->PORT(stride, payload), rec);
            stride.put(rec);
            stride_cycle.put64(now + 1);   // the edge it is taken on (cycles count edges)
        }
        if (top->PORT(mrp, valid) && top->PORT(mrp, ready)) {
            get_port(top->PORT(mrp, payload), rec);
            mrp.put(rec);
        }
        if (top->tap_eeg_fire) {
            uint32_t t = top->tap_eeg_trigger;
            eeg_trig.put(&t);
        }
    };
    auto after = [&]() {
        if (top->tap_trig_valid) {
            uint32_t t = top->tap_trig;
            trig.put(&t);
        }
    };
    top->rst = 1;
    Clock clk(top);
    reset_cycles(top, clk, now, sample, after);
    send_frames(top, clk, fr, prog, timeout, now, sample, after,
                [&](uint64_t) { acc.put64(now); });
    for (uint64_t k = 0; k < drain || top->tap_eeg_busy; ++k) {
        if (k > drain + timeout) die("the EEG branch stayed busy after the last frame");
        clk.cycle(now, sample);
        after();
    }
    Writer state(a, "state", 2);
    state.put64(top->stride_overrun);
    state.put64(top->stride_overruns);
    state.put64(now);
    prog.report(fr.n, true);
    top->final();
    delete top;
    return 0;
}
