#!/usr/bin/env python3
"""CPU seconds the lab's host-side processes have used so far (for the bench: host-side cost).

    hostcpu.py LAB_DIR

Sums, over every process whose command line names LAB_DIR (each host's sshd, dockerd and
containerd), its own CPU time and that of its children it has reaped: an sshd listener reaps
its per-connection processes (and the shells and commands they ran), dockerd reaps runc. The
bench reads it before and after a run; the difference is what the run cost the hosts.
"""

import os
import sys


def main():
    lab = sys.argv[1].rstrip("/") + "/"
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if lab.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the command name.
        total += sum(int(x) for x in fields[11:15])
    print(f"{total / ticks:.2f}")


if __name__ == "__main__":
    main()
