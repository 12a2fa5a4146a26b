// Shared helpers of the fast replay harnesses (sim/fast_engine.py builds them with Verilator).
//
// A harness owns clk/rst and the stream handshakes of one design (class Vtop, built with
// `--prefix Vtop`). Command line: key=value pairs. Stimulus: a raw file of int16 rows
// (`frames=PATH`, `cols=K`, `n=N`); each row is packed little-endian, 16 bits per column,
// into the input payload (a trigger bit in the last column lands on its bit). Outputs:
// `out=DIR/` + one file per stream: a uint32 header (32-bit words per item) then the items.
// `progress=PATH` receives the number of frames sent every `every=` frames.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "verilated.h"
#include "Vtop.h"
#ifdef HARNESS_ROOT_EVAL   // see Clock below
#include "Vtop___024root.h"
void Vtop___024root___eval(Vtop___024root* vlSelf);
#endif
#ifdef HARNESS_ICO_SKIP      // read by the patched root eval (sim/fast_engine.py)
unsigned char harness_ico_first = 1;
#endif

namespace harness {

[[noreturn]] inline void die(const std::string& msg) {
    std::fprintf(stderr, "harness: %s\n", msg.c_str());
    std::exit(2);
}

struct Args {
    std::map<std::string, std::string> kv;
    Args(int argc, char** argv) {
        for (int k = 1; k < argc; ++k) {
            const char* eq = std::strchr(argv[k], '=');
            if (!eq) die(std::string("argument without '=': ") + argv[k]);
            kv[std::string(argv[k], eq - argv[k])] = eq + 1;
        }
    }
    std::string str(const std::string& key, const char* dflt = nullptr) const {
        auto it = kv.find(key);
        if (it != kv.end()) return it->second;
        if (!dflt) die("missing argument " + key);
        return dflt;
    }
    uint64_t num(const std::string& key, const char* dflt = nullptr) const {
        return std::strtoull(str(key, dflt).c_str(), nullptr, 0);
    }
};

// --- ports of any Verilator width <-> 32-bit words ---
template <typename T> inline void set_port(T& port, const uint32_t* w) {
    static_assert(std::is_integral<T>::value, "scalar port");
    if (sizeof(T) > 4) port = (T)((uint64_t)w[0] | ((uint64_t)w[1] << 32));
    else port = (T)w[0];
}
template <std::size_t N> inline void set_port(VlWide<N>& port, const uint32_t* w) {
    for (std::size_t k = 0; k < N; ++k) port[k] = w[k];
}
template <typename T> constexpr std::size_t port_words(const T&) {
    return sizeof(T) > 4 ? 2 : 1;
}
template <std::size_t N> constexpr std::size_t port_words(const VlWide<N>&) { return N; }
template <typename T> inline void get_port(const T& port, uint32_t* w) {
    uint64_t v = (uint64_t)port;
    w[0] = (uint32_t)v;
    if (sizeof(T) > 4) w[1] = (uint32_t)(v >> 32);
}
template <std::size_t N> inline void get_port(const VlWide<N>& port, uint32_t* w) {
    for (std::size_t k = 0; k < N; ++k) w[k] = port[k];
}

// --- stimulus ---
struct Frames {
    std::vector<int16_t> data;
    uint64_t n = 0, cols = 0;
    Frames(const Args& a) {
        n = a.num("n");
        cols = a.num("cols");
        data.resize(n * cols);
        FILE* f = std::fopen(a.str("frames").c_str(), "rb");
        if (!f) die("cannot open " + a.str("frames"));
        if (std::fread(data.data(), sizeof(int16_t), data.size(), f) != data.size())
            die("short stimulus file " + a.str("frames"));
        std::fclose(f);
    }
    // row k packed 16 bits per column into w (at least cols / 2 + 2 words)
    void pack(uint64_t k, uint32_t* w, std::size_t nw) const {
        std::memset(w, 0, nw * sizeof(uint32_t));
        const int16_t* row = &data[k * cols];
        for (uint64_t c = 0; c < cols; ++c)
            w[c / 2] |= (uint32_t)(uint16_t)row[c] << (16 * (c % 2));
    }
};

// --- outputs ---
struct Writer {
    FILE* f;
    std::size_t words;
    Writer(const Args& a, const char* name, std::size_t words_per_item) : words(words_per_item) {
        std::string path = a.str("out") + "/" + name + ".bin";
        f = std::fopen(path.c_str(), "wb");
        if (!f) die("cannot write " + path);
        std::setvbuf(f, nullptr, _IOFBF, 1 << 16);
        uint32_t hdr = (uint32_t)words;
        std::fwrite(&hdr, sizeof hdr, 1, f);
    }
    void put(const uint32_t* w) { std::fwrite(w, sizeof(uint32_t), words, f); }
    void put64(uint64_t v) {   // words == 2
        uint32_t w[2] = {(uint32_t)v, (uint32_t)(v >> 32)};
        put(w);
    }
    ~Writer() { std::fclose(f); }
};

struct Progress {
    std::string path;
    uint64_t every;
    Progress(const Args& a) : path(a.str("progress", "")), every(a.num("every", "10000")) {}
    void report(uint64_t done, bool force = false) {
        if (path.empty() || (!force && (every == 0 || done % every))) return;
        FILE* f = std::fopen(path.c_str(), "w");
        if (f) {
            std::fprintf(f, "%llu", (unsigned long long)done);
            std::fclose(f);
        }
    }
};

// The clock. After every change of an input the harness calls settle(), so that between
// edges the outputs are those of the current inputs; cycle() samples the handshakes
// (`before()`: the values a register sees at the rising edge), then applies the edge.
//
// Speed-ups, detected by sim/fast_engine.py in the generated model (-D flags), with the
// portable Verilator API as the fallback:
//   HARNESS_ROOT_EVAL: call the model's root eval directly; Vtop::eval() adds a
//     deleter and message-queue flush (two mutexes) per call that a design without
//     DPI, $display or dynamic objects does not need.
//   HARNESS_CLK_PREV: one eval per cycle: clk stays high and the edge detector's
//     previous value is set low, instead of an eval with clk low then one with clk high.
//   HARNESS_ICO_SKIP: the edge's eval skips the input-combinational region, already
//     settled by settle() after the last input change (sim/fast_engine.py patches the
//     model's `__VicoFirstIteration = 1U` to read harness_ico_first).

struct Clock {
    Vtop* top;
    explicit Clock(Vtop* t) : top(t) {
        top->clk = 0;
        top->eval();   // initial blocks and first settle
#ifdef HARNESS_CLK_PREV
        top->clk = 1;  // from here on, clk stays high
        top->eval();   // a rising edge, with rst high (set by the harness before)
#endif
    }
    inline void eval() {
#ifdef HARNESS_ROOT_EVAL
        Vtop___024root___eval(top->rootp);
#else
        top->eval();
#endif
    }
    inline void settle() { eval(); }
    template <typename Before> inline void cycle(uint64_t& now, Before before) {
        before();
#ifdef HARNESS_CLK_PREV
        top->rootp->__Vtrigprevexpr___TOP__clk__0 = 0;
#ifdef HARNESS_ICO_SKIP
        harness_ico_first = 0;
        eval();
        harness_ico_first = 1;
#else
        eval();
#endif
#else
        top->clk = 0;
        eval();
        top->clk = 1;
        eval();
#endif
        ++now;
    }
};

}  // namespace harness

// Verilator's C++ name of the Amaranth stream port member `<a>__<b>` ("__" is escaped)
#define PORT(a, b) a##___05F##b

namespace harness {

// Two clock cycles with rst high (the Clock was built with rst high), then rst low, settled.
template <typename Sample, typename After>
inline void reset_cycles(Vtop* top, Clock& clk, uint64_t& now, Sample sample, After after) {
    for (int k = 0; k < 2; ++k) {
        clk.cycle(now, sample);
        after();
    }
    top->rst = 0;
    clk.settle();
}

// Offers every stimulus row on the stream `i` until it is taken (at most `timeout` cycles
// each); `on_accept(k)` right after row k's transfer; at the end valid is low and settled.
template <typename Sample, typename After, typename Accept>
inline void send_frames(Vtop* top, Clock& clk, const Frames& fr, Progress& prog,
                        uint64_t timeout, uint64_t& now, Sample sample, After after,
                        Accept on_accept) {
    uint32_t in[64];
    for (uint64_t k = 0; k < fr.n; ++k) {
        fr.pack(k, in, 64);
        set_port(top->PORT(i, payload), in);
        top->PORT(i, valid) = 1;
        clk.settle();
        uint64_t waited = 0;
        bool fire = false;
        while (!fire) {
            if (waited++ > timeout) die("i: frame " + std::to_string(k) + " not taken");
            clk.cycle(now, [&]() { fire = top->PORT(i, ready); sample(); });
            after();
        }
        on_accept(k);
        top->PORT(i, valid) = 0;
        prog.report(k + 1);
    }
    clk.settle();   // valid low
}

}  // namespace harness
