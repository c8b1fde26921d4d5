#!/usr/bin/env python3
"""Prints, as JSON, the machine and tool versions a bench ran with.

    machine.py FLEETRMI_BINARY VENV
"""

import json
import os
import platform
import re
import subprocess
import sys


def first_line(command):
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def memory_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def main():
    binary, venv = sys.argv[1], sys.argv[2]
    ansible = first_line([f"{venv}/bin/ansible", "--version"])
    sdk = first_line([f"{venv}/bin/python", "-c", "import docker; print(docker.__version__)"])
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "kernel": platform.release(),
        "load_average_at_start": load,
        "dockerd": first_line(["dockerd", "--version"]),
        "docker_cli": first_line(["docker", "--version"]),
        "openssh": first_line(["ssh", "-V"]),
        "ansible": ansible and re.sub(r"^ansible ", "", ansible),
        "docker_sdk_python": sdk,
        "pssh": first_line(["parallel-ssh", "--version"]),
        "fleetrmi": first_line([binary, "--version"]),
    }
    json.dump(info, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
