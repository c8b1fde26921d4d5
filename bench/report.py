#!/usr/bin/env python3
"""Turns a bench's results.jsonl into Markdown tables (stdout).

    report.py fleet OUT_DIR
    report.py wan OUT_DIR
    report.py scale OUT_DIR
"""

import json
import statistics
import sys
from collections import OrderedDict

DESCRIPTIONS = {
    "fleetrmi": "`fleetrmi rmi T1 T2 T3` (one process, one SSH connection per host)",
    "docker-seq": "`docker -H ssh://hI rmi T1 T2 T3`, host after host",
    "docker-xargs": "the same, `xargs -P N` (all hosts at once)",
    "pssh": "`parallel-ssh -p N docker rmi T1 T2 T3` (the Docker CLI on each host)",
    "ansible-adhoc": "`ansible -f N -m community.docker.docker_image_remove`, one ad-hoc command per tag",
    "ansible-playbook": "`ansible-playbook -f N`, one task looping over the tags, no fact gathering",
    "ansible-pipelining": "the same playbook with `ANSIBLE_PIPELINING=True`",
}


def load(out_dir):
    rows = []
    with open(f"{out_dir}/results.jsonl") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def load_at_end(out_dir):
    try:
        with open(f"{out_dir}/loadavg-end") as f:
            return f", at the end {f.read().strip()}"
    except OSError:
        return ""


def cpu(row):
    return row["user_s"] + row["sys_s"]


def spread(values, fmt):
    values = sorted(values)
    median = statistics.median(values)
    if len(values) == 1:
        return median, fmt(median)
    return median, f"{fmt(median)} ({fmt(values[0])}–{fmt(values[-1])})"


def seconds(value):
    return f"{value:.2f} s" if value >= 0.995 else f"{value * 1000:.0f} ms"


def mib(kb):
    return f"{kb / 1024:.0f} MiB" if kb >= 10 * 1024 else f"{kb / 1024:.1f} MiB"


def ratio(value, base):
    if not base:
        return "–"
    r = value / base
    return f"{r:.1f}×" if r < 100 else f"{r:.0f}×"


def fleet(out_dir):
    rows = load(out_dir)
    machine = json.load(open(f"{out_dir}/machine.json"))
    by = OrderedDict()
    for row in rows:
        by.setdefault(row["contender"], []).append(row)
    hosts = rows[0]["hosts"]
    tags = " ".join(rows[0]["tags"])
    runs = max(row["run"] for row in rows)
    summary = {}
    for name, group in by.items():
        ok = [r for r in group if r["exit_code"] == 0 and r["state_ok"]]
        use = ok or group
        summary[name] = {
            "wall": spread([r["wall_s"] for r in use], seconds),
            "cpu": spread([cpu(r) for r in use], seconds),
            "pss": spread([r["peak_pss_kb"] for r in use], mib),
            "rss": spread([r["max_rss_kb"] for r in use], mib),
            "procs": max(r["peak_procs"] for r in use),
            "logins": statistics.median(sum(r["ssh_logins"]) / len(r["ssh_logins"]) for r in use),
            "ok": f"{len(ok)}/{len(group)}",
            "api_calls": [r["api_calls"] for r in use if r.get("api_calls")],
            "host_cpu": spread([r.get("host_cpu_s", 0) for r in use], seconds),
        }
    base = summary.get("fleetrmi")
    print(f"### {hosts} hosts, removing `{tags}` from each, {runs} runs per contender\n")
    print(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"kernel {machine['kernel']}, load average at start {' '.join(machine['load_average_at_start'])}"
        f"{load_at_end(out_dir)}. "
        f"dockerd {machine['dockerd']}; {machine['docker_cli']}; {machine['openssh']}; "
        f"ansible {machine['ansible']}, Docker SDK for Python {machine['docker_sdk_python']}; "
        f"pssh {machine['pssh']}; {machine['fleetrmi']}.\n"
    )
    print(
        "| contender | wall time, median (min–max) | vs fleetrmi | coordinator CPU (user+sys) | vs fleetrmi "
        "| peak memory (Σ PSS of the process tree) | vs fleetrmi | largest process RSS | processes at once "
        "| host-side CPU (sshd, dockerd) | SSH logins per host | runs ok |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, s in summary.items():
        print(
            f"| {name} | {s['wall'][1]} | {ratio(s['wall'][0], base and base['wall'][0])} "
            f"| {s['cpu'][1]} | {ratio(s['cpu'][0], base and base['cpu'][0])} "
            f"| {s['pss'][1]} | {ratio(s['pss'][0], base and base['pss'][0])} "
            f"| {s['rss'][1]} | {s['procs']} | {s['host_cpu'][1]} | {s['logins']:g} | {s['ok']} |"
        )
    print()
    for name in summary:
        print(f"- **{name}**: {DESCRIPTIONS.get(name, name)}")
    print()
    if base and base["api_calls"]:
        calls = sorted({c for run in base["api_calls"] for c in run})
        print(
            f"fleetrmi's Docker API calls per host (from its JSON report): "
            f"{', '.join(map(str, calls))} for {len(rows[0]['tags'])} tags.\n"
        )
    bad = [n for n, s in summary.items() if not s["ok"].startswith(s["ok"].split("/")[1] + "/")]
    if bad:
        print(f"**Runs that failed or left a different engine state:** {', '.join(bad)}.\n")
    else:
        print("Every run of every contender exited 0 and left every engine in the same state.\n")
    if base:
        notes = []
        for name, s in summary.items():
            if name == "fleetrmi":
                continue
            notes.append(
                f"{name} {ratio(s['wall'][0], base['wall'][0])} the wall time, "
                f"{ratio(s['cpu'][0], base['cpu'][0])} the CPU, {ratio(s['pss'][0], base['pss'][0])} the memory"
            )
        print("Against fleetrmi (medians): " + "; ".join(notes) + ".\n")
        targets = []
        ansible = [n for n in summary if n.startswith("ansible")]
        if ansible:
            fastest = min(ansible, key=lambda n: summary[n]["wall"][0])
            r = summary[fastest]["wall"][0] / base["wall"][0]
            targets.append(f"vs the fastest Ansible ({fastest}) {r:.1f}× (target ≥ 5×: {'met' if r >= 5 else 'NOT met'})")
        if "docker-xargs" in summary:
            r = summary["docker-xargs"]["wall"][0] / base["wall"][0]
            targets.append(f"vs `xargs -P` docker over SSH {r:.1f}× (target ≥ 2×: {'met' if r >= 2 else 'NOT met'})")
        if targets:
            note = "" if hosts == 8 else f" (the targets are set for 8 hosts; this run had {hosts})"
            print("Wall-time targets" + note + ": " + "; ".join(targets) + ".")


def wan(out_dir):
    """Wall time against the round-trip time added by the latency proxy."""
    rows = load(out_dir)
    machine = json.load(open(f"{out_dir}/machine.json"))
    rtts = sorted({row["rtt_ms"] for row in rows})
    by = OrderedDict()
    for row in rows:
        by.setdefault(row["contender"], {}).setdefault(row["rtt_ms"], []).append(row)
    hosts = rows[0]["hosts"]
    tags = " ".join(rows[0]["tags"])
    runs = max(row["run"] for row in rows)
    print(f"### {hosts} hosts, removing `{tags}` from each, through a latency proxy, {runs} run(s) per cell\n")
    print(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, load average at start "
        f"{' '.join(machine['load_average_at_start'])}{load_at_end(out_dir)}; {machine['fleetrmi']}.\n"
    )
    medians = {}
    print("| contender | " + " | ".join(f"RTT {rtt} ms" for rtt in rtts) + " | runs ok |")
    print("|---|" + "---|" * len(rtts) + "---|")
    for name, cells in by.items():
        shown, ok_runs, all_runs = [], 0, 0
        for rtt in rtts:
            group = cells.get(rtt, [])
            ok = [r for r in group if r["exit_code"] == 0 and r["state_ok"]]
            ok_runs, all_runs = ok_runs + len(ok), all_runs + len(group)
            if not group:
                shown.append("–")
                continue
            wall = spread([r["wall_s"] for r in (ok or group)], seconds)
            medians[(name, rtt)] = wall[0]
            shown.append(wall[1])
        print(f"| {name} | " + " | ".join(shown) + f" | {ok_runs}/{all_runs} |")
    fleet_rows = by.get("fleetrmi", {})
    trips = {
        rtt: sorted({t for r in group for t in (r.get("round_trips") or []) if t is not None})
        for rtt, group in fleet_rows.items()
    }
    if fleet_rows:
        cells = []
        for rtt in rtts:
            counts = trips.get(rtt) or []
            cells.append("?" if not counts else "–".join(str(c) for c in sorted({counts[0], counts[-1]})))
        print("| fleetrmi round trips per host | " + " | ".join(cells) + " | |")
        floor = max((c for counts in trips.values() for c in counts), default=0)
        print(
            "| floor: fleetrmi's round trips × RTT | "
            + " | ".join(seconds(floor * rtt / 1000) for rtt in rtts)
            + " | |"
        )
    print()
    notes = []
    for rtt in rtts:
        base = medians.get(("fleetrmi", rtt))
        if not base:
            continue
        parts = [
            f"{name} {medians[(name, rtt)] / base:.1f}×"
            for name in by
            if name != "fleetrmi" and (name, rtt) in medians
        ]
        if parts:
            notes.append(f"at {rtt} ms: " + ", ".join(parts))
    if notes:
        print("Wall time against fleetrmi's (medians): " + "; ".join(notes) + ".")


def scale(out_dir):
    rows = load(out_dir)
    machine = json.load(open(f"{out_dir}/machine.json"))
    first = rows[0]
    print(
        f"### fleetrmi on M SSH endpoints sharing {first['daemons']} Docker daemons, each endpoint "
        f"removing its own tag (`rmi 'scale:{{host}}'`)\n"
    )
    print(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"kernel {machine['kernel']}, load average at start {' '.join(machine['load_average_at_start'])}"
        f"{load_at_end(out_dir)}; "
        f"{machine['openssh']}; {machine['fleetrmi']}.\n"
    )
    by = OrderedDict()
    for row in rows:
        by.setdefault(row["forks"], OrderedDict()).setdefault(row["hosts"], []).append(row)
    for forks, groups in by.items():
        print(f"`--forks {forks}`{' (every endpoint at once)' if forks == 'all' else ''}:\n")
        print(
            "| hosts | wall time, median (min–max) | wall per host | coordinator CPU | CPU per host "
            "| peak RSS | peak open fds | host-side CPU per host | SSH logins per host | API calls per host | runs ok |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for hosts, group in groups.items():
            ok = [r for r in group if r["exit_code"] == 0 and r["state_ok"]]
            use = ok or group
            wall = spread([r["wall_s"] for r in use], seconds)
            cpus = spread([cpu(r) for r in use], seconds)
            rss = spread([r["max_rss_kb"] for r in use], mib)
            fds = max(r["peak_fds"] for r in use)
            logins = statistics.median(sum(r["ssh_logins"]) / max(1, len(r["ssh_logins"])) for r in use)
            calls = sorted({c for r in use for c in (r.get("api_calls") or []) if c is not None})
            host_cpu = statistics.median(r.get("host_cpu_s", 0) for r in use) / hosts
            shown = "?" if not calls else (str(calls[0]) if len(calls) == 1 else f"{calls[0]}–{calls[-1]}")
            print(
                f"| {hosts} | {wall[1]} | {wall[0] / hosts * 1000:.1f} ms | {cpus[1]} "
                f"| {cpus[0] / hosts * 1000:.2f} ms | {rss[1]} | {fds} | {host_cpu * 1000:.1f} ms | {logins:g} | {shown} "
                f"| {len(ok)}/{len(group)} |"
            )
        print()


def line(out_dir, setup_ms):
    """One progress line for the last run, and the end of its stderr if it failed."""
    m = load(out_dir)[-1]
    logins = sum(m["ssh_logins"]) / max(1, len(m["ssh_logins"]))
    forks = f" forks {m['forks']:>3}" if "forks" in m else ""
    setup = f" (restore + run + check {int(setup_ms) / 1000:.1f} s)" if int(setup_ms) else ""
    print(
        f"[bench] {m['contender']:<19} {m['hosts']:>3} hosts{forks} run {m['run']}: wall {m['wall_s']:.2f} s, "
        f"cpu {cpu(m):.2f} s, pss {m['peak_pss_kb'] / 1024:.0f} MiB, rss {m['max_rss_kb'] / 1024:.0f} MiB, "
        f"fds {m['peak_fds']}, exit {m['exit_code']}, logins/host {logins:.2f}, "
        f"state {'ok' if m['state_ok'] else 'DIFFERENT'}{setup}"
    )
    if m["exit_code"] != 0:
        name = f"{m['contender']}.{m['run']}" if "forks" not in m else f"{m['hosts']}.{m['forks']}.{m['run']}"
        try:
            with open(f"{out_dir}/out/{name}.stderr") as f:
                print("".join(f.readlines()[-20:]), end="")
        except OSError:
            pass


def main():
    mode, out_dir = sys.argv[1], sys.argv[2]
    if mode == "line":
        line(out_dir, sys.argv[3])
        return
    {"fleet": fleet, "wan": wan, "scale": scale}[mode](out_dir)


if __name__ == "__main__":
    main()
