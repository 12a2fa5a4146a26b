"""One source for every constant that more than one layer uses.

Sample rate, clock, link baud rates and default paths live here and nowhere else; the golden
models, the gateware, the host tools, the board files and the benchmarks import them.
"""

from pathlib import Path

__all__ = ["FS", "CLOCK_HZ", "SENSOR_BAUD", "RESULTS_BAUD", "ROOT", "SHARED_DATA",
           "DEFAULT_OUT", "BENCH_DIR"]

#: Sample rate of every fabric input (EMG and EEG), Hz: one input frame per sample.
FS = 500

#: Fabric clock on the DE10-Nano (FPGA_CLK1_50), Hz.
CLOCK_HZ = 50_000_000

#: Sensor link into the sample ingress (8N1), baud.
SENSOR_BAUD = 921_600

#: Results link out of the fabric UART (8N1), baud.
RESULTS_BAUD = 115_200

#: The project's checkout (the folder holding ``pyproject.toml``).
ROOT = Path(__file__).resolve().parents[1]

#: The public recordings laid out beside the checkout (``../shared/data``, see its README).
SHARED_DATA = ROOT.parent / "shared" / "data"

#: Where ``make run`` and the CLIs write by default.
DEFAULT_OUT = Path("out")

#: Where ``make bench`` / ``make validate`` write their reports and plots.
BENCH_DIR = ROOT / "bench" / "results"
