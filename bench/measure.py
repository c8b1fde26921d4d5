#!/usr/bin/env python3
"""Runs one command and measures what it costs on the machine that runs it (the coordinator).

    measure.py [--interval-ms 10] [--stdout FILE] [--stderr FILE] -- COMMAND [ARG...]

Prints one JSON object on stdout:
  wall_s          from start until COMMAND itself exits
  user_s, sys_s   CPU time of COMMAND and of every process it started, orphans included
  max_rss_kb      the largest resident set of any single one of those processes
                  (what `/usr/bin/time -v` reports as "Maximum resident set size")
  peak_pss_kb     the largest sum of PSS over the whole process tree at one moment
                  (sampled): memory of concurrent processes adds up, shared pages are split
  peak_rss_kb     the same sum with RSS (shared pages counted in every process)
  peak_procs      the most processes alive in the tree at one moment
  peak_fds        the most open file descriptors in the tree at one moment
  exit_code       COMMAND's exit status (128+N when killed by signal N)

Why not only `/usr/bin/time -v`: its CPU time misses processes that detach from the tree
(Ansible's SSH ControlPersist masters do the encryption for the whole run, then linger), and
its maximum RSS is that of the largest single process, not of `xargs -P 8` running 8 docker
CLIs and 8 ssh clients at once. This script makes itself a child subreaper
(prctl PR_SET_CHILD_SUBREAPER), so detached descendants stay its own; when COMMAND exits it
stops them (they are idle by then: their work is done) and reaps every descendant, so
getrusage(RUSAGE_CHILDREN) holds the CPU time of all of them.
"""

import argparse
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time

PR_SET_CHILD_SUBREAPER = 36


def set_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def children_of(pid):
    """Direct children of every thread of pid (a Go program forks from any thread)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found.extend(int(p) for p in f.read().split())
        except OSError:
            pass
    return found


def tree(root):
    """root's descendants (not root itself: that is this script)."""
    out, todo = [], children_of(root)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children_of(pid))
    return out


def read_kb(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def count_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


class Sampler(threading.Thread):
    def __init__(self, interval):
        super().__init__(daemon=True)
        self.interval = interval
        self.stop = threading.Event()
        self.peak = {"pss": 0, "rss": 0, "procs": 0, "fds": 0}
        self.samples = 0

    def run(self):
        me = os.getpid()
        while not self.stop.is_set():
            pids = tree(me)
            pss = rss = fds = 0
            for pid in pids:
                pss += read_kb(f"/proc/{pid}/smaps_rollup", "Pss:")
                rss += read_kb(f"/proc/{pid}/status", "VmRSS:")
                fds += count_fds(pid)
            for key, value in (("pss", pss), ("rss", rss), ("procs", len(pids)), ("fds", fds)):
                self.peak[key] = max(self.peak[key], value)
            self.samples += 1
            self.stop.wait(self.interval)


def stop_leftovers():
    """Stops what COMMAND left running (detached helpers), then reaps every descendant."""
    me = os.getpid()
    for sig, pause in ((signal.SIGTERM, 0.5), (signal.SIGKILL, 0.2)):
        left = tree(me)
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + pause
        while tree(me) and time.monotonic() < deadline:
            reap()
            time.sleep(0.01)
    reap()


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--interval-ms", type=float, default=10)
    parser.add_argument("--stdout")
    parser.add_argument("--stderr")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    set_subreaper()
    out = open(args.stdout, "wb") if args.stdout else None
    err = open(args.stderr, "wb") if args.stderr else None
    sampler = Sampler(args.interval_ms / 1000)
    started = time.monotonic()
    child = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    sampler.start()
    code = child.wait()
    wall = time.monotonic() - started
    sampler.stop.set()
    sampler.join()
    stop_leftovers()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "wall_s": round(wall, 4),
        "user_s": round(usage.ru_utime, 4),
        "sys_s": round(usage.ru_stime, 4),
        "max_rss_kb": usage.ru_maxrss,
        "peak_pss_kb": sampler.peak["pss"],
        "peak_rss_kb": sampler.peak["rss"],
        "peak_procs": sampler.peak["procs"],
        "peak_fds": sampler.peak["fds"],
        "samples": sampler.samples,
        "exit_code": code if code >= 0 else 128 - code,
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
