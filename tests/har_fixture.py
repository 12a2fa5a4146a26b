"""Small HAPT folders for the HAR tests: real files of a few users copied with their own
``labels.txt`` rows (the UCI layout: ``acc_expXX_userYY.txt[.gz]``, ``gyro_...``, ``labels.txt``).
"""

import shutil

from spec.constants import SHARED_DATA

HAPT = SHARED_DATA / "har-hapt" / "RawData"


def hapt_subset(folder, users):
    """Copy the experiments of ``users`` and their label rows into ``folder``; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    users = set(users)
    for f in HAPT.iterdir():
        if f.name.startswith(("acc_", "gyro_")) and int(
                f.name.split("user")[1].split(".")[0]) in users:
            shutil.copy(f, folder / f.name)
    rows = [ln for ln in HAPT.joinpath("labels.txt").read_text().splitlines()
            if ln.split() and int(ln.split()[1]) in users]
    (folder / "labels.txt").write_text("\n".join(rows) + "\n")
    return folder
