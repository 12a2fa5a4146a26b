// Fast replay harness of hdl.emg_branch.EMGBranch (driven as sim/cocotb_emg_branch.py does).
//
// Arguments: frames/n/cols=8 (stimulus), present, stride_ref, out, progress, every,
// drain (idle cycles after the last frame, 600), timeout (cycles a frame may wait, 200000).
// Outputs: trig.bin (trigger bits at every trig_valid strobe), records.bin (raw `o` words),
// state.bin (overrun, overruns, cycles).
#include "common.h"

using namespace harness;

int main(int argc, char** argv) {
    Args a(argc, argv);
    Frames fr(a);
    Progress prog(a);
    const uint64_t drain = a.num("drain", "600"), timeout = a.num("timeout", "200000");
    VerilatedContext ctx;
    Vtop* top = new Vtop{&ctx};
    Writer trig(a, "trig", 1), recs(a, "records", port_words(top->PORT(o, payload)));
    uint32_t rec[64];

    top->present = (uint8_t)a.num("present");
    top->stride_ref = (uint8_t)a.num("stride_ref");
    top->PORT(o, ready) = 1;
    top->PORT(i, valid) = 0;
    uint64_t now = 0;
    auto sample = [&]() {
        if (top->PORT(o, valid) && top->PORT(o, ready) && !top->rst) {
            get_port(top->PORT(o, payload), rec);
            recs.put(rec);
        }
    };
    auto after = [&]() {
        if (top->trig_valid) {
            uint32_t t = top->trig;
            trig.put(&t);
        }
    };
    top->rst = 1;
    Clock clk(top);
    reset_cycles(top, clk, now, sample, after);
    send_frames(top, clk, fr, prog, timeout, now, sample, after, [](uint64_t) {});
    for (uint64_t k = 0; k < drain; ++k) { clk.cycle(now, sample); after(); }
    Writer state(a, "state", 1);
    uint32_t s[3] = {top->overrun, top->overruns, (uint32_t)now};
    for (auto v : s) state.put(&v);
    prog.report(fr.n, true);
    top->final();
    delete top;
    return 0;
}
