// Fast replay harness of hdl.eeg_mrp.EEGMRP (driven as sim/cocotb_eeg_mrp.py does).
//
// Arguments: frames/n/cols (channels + the trigger bit), enable, out, progress, every,
// timeout. The caller appends the extra trigger-less frame whose acceptance closes the
// last computation. After the frames: wait until `busy` is low, then 8 cycles.
// Outputs: records.bin (raw `o` words), accepted.bin (clock cycle of every input transfer,
// 64-bit), state.bin (cycles).
#include "common.h"

using namespace harness;

int main(int argc, char** argv) {
    Args a(argc, argv);
    Frames fr(a);
    Progress prog(a);
    const uint64_t timeout = a.num("timeout", "200000");
    VerilatedContext ctx;
    Vtop* top = new Vtop{&ctx};
    Writer recs(a, "records", port_words(top->PORT(o, payload))), acc(a, "accepted", 2);
    uint32_t rec[64];

    top->enable = a.num("enable");
    top->PORT(o, ready) = 1;
    top->PORT(i, valid) = 0;
    uint64_t now = 0;
    auto sample = [&]() {
        if (top->PORT(o, valid) && top->PORT(o, ready) && !top->rst) {
            get_port(top->PORT(o, payload), rec);
            recs.put(rec);
        }
    };
    top->rst = 1;
    Clock clk(top);
    auto none = []() {};
    reset_cycles(top, clk, now, sample, none);
    send_frames(top, clk, fr, prog, timeout, now, sample, none,
                [&](uint64_t) { acc.put64(now); });
    for (int k = 0; k < 2; ++k) clk.cycle(now, sample);
    for (uint64_t waited = 0; top->busy; ++waited) {
        if (waited > timeout) die("busy (the last computation): not after timeout");
        clk.cycle(now, sample);
    }
    for (int k = 0; k < 8; ++k) clk.cycle(now, sample);
    Writer state(a, "state", 2);
    state.put64(now);
    prog.report(fr.n, true);
    top->final();
    delete top;
    return 0;
}
