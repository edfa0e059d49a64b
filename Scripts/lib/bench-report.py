#!/usr/bin/env python3
"""Scripts/bench's report: reads the guest's output (bench/rounds.sh), pairs every Swift
batch with the C batches of the same slot just before and after it, and prints a table;
writes the JSON (--json) and the README's table (--readme). Each measurement:
  name, ns (median Swift ns/op), baseline (the C measurement) and baseline_ns (its
  median ns/op), ratio (median over batches of Swift / mean of the two C batches around
  it), allocs_per_op (largest over batches), spread (interquartile range of those
  per-batch ratios; ratio_p25 and ratio_p75 are its ends), rounds (batches compared, over
  all sessions). `control` has the same entries for a C copy in Swift's place.
  bench-report.py OUTPUT --command CMD --iterations N --rounds R [--json PATH] [--readme README.md] [--check]"""
import argparse, datetime, json, re, sys

WHAT = {
    "map-4k": "IOAS map+unmap, 4 KiB (`IOAS.map`/`unmap`)",
    "map-4k-ioctl": "the same from Swift without the library: hand-filled structs, `ioctl(2)`",
    "map-4k-raw": "the same through the raw layer (`fd.raw.map`/`unmap`)",
    "map-4k-unspecialized": "the same through an unspecialized generic `perform<T>`",
    "map-4k-traced": "`IOAS.map`/`unmap` with a tracing handler installed",
    "map-2m-hugetlb": "IOAS map+unmap, one 2 MiB hugetlb page",
    "copy-4k": "IOAS_COPY of 4 KiB to a second IOAS + its unmap",
    "region-write-4b": "edu BAR0 write, 4 bytes (`write32`)",
    "region-read-4b": "edu BAR0 read, 4 bytes (`read32`)",
    "irq-roundtrip-msi": "edu MSI: raise, wait on the eventfd, acknowledge",
}
BEGIN, END = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"


def quantile(xs, q):
    xs = sorted(xs)
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def parse(text):
    # (label, session, slot) -> {"name": str, "batches": {batch: (ns, allocs)}}
    runs = {}
    info, skips = [], []
    for line in text.splitlines():
        line = line.strip()
        if m := re.match(r"^@@BENCH (\S+) (\d+) (\d+) (\S+) (\d+) ([0-9.]+) ([0-9.]+)$", line):
            label, session, slot, name, batch, ns, allocs = m.groups()
            run = runs.setdefault((label, int(session), int(slot)), {"name": name, "batches": {}})
            run["batches"][int(batch)] = (float(ns), float(allocs))
        elif m := re.match(r"^@@BENCH-SKIP (\S+) (\d+) (\d+) (\S+) (.*)$", line):
            skips.append(f"{m.group(4)} ({m.group(1)}): {m.group(5)}")
        elif line.startswith("@@INFO "):
            info.append(line[len("@@INFO "):])
        elif line.startswith("@@BENCH-FAILED"):
            sys.exit(f"bench-report: the guest says {line[2:]}")
    return runs, info, sorted(set(skips))


def entries(runs, label):
    """Every `label` batch b of a slot ran between C batches b and b+1 of the same slot and
    session; ratios of all sessions are pooled per measurement name."""
    pooled = {}  # name -> {"base": str, "ns": [], "c_ns": [], "allocs": [], "ratios": []}
    for (lab, session, slot), run in sorted(runs.items()):
        if lab != label:
            continue
        c = runs.get(("c", session, slot))
        if c is None:
            continue
        name, base = run["name"], c["name"]
        if not (name == base or name.startswith(base + "-")):
            sys.exit(f"bench-report: session {session} slot {slot} is {name} for {label} but {base} for C: "
                     "the programs are out of step")
        p = pooled.setdefault(name, {"base": base, "ns": [], "c_ns": [], "allocs": [], "ratios": []})
        p["c_ns"] += [v[0] for v in c["batches"].values()]
        for b, (ns, allocs) in sorted(run["batches"].items()):
            around = [c["batches"][k][0] for k in (b, b + 1) if k in c["batches"]]
            if around:
                p["ns"].append(ns)
                p["allocs"].append(allocs)
                p["ratios"].append(ns / (sum(around) / len(around)))
    out = []
    for name, p in pooled.items():
        if not p["ratios"]:
            continue
        r = p["ratios"]
        out.append({
            "name": name, "ns": round(quantile(p["ns"], 0.5), 1), "baseline": p["base"],
            "baseline_ns": round(quantile(p["c_ns"], 0.5), 1), "ratio": round(quantile(r, 0.5), 3),
            "allocs_per_op": max(p["allocs"]), "spread": round(quantile(r, 0.75) - quantile(r, 0.25), 3),
            "ratio_p25": round(quantile(r, 0.25), 3), "ratio_p75": round(quantile(r, 0.75), 3),
            "rounds": len(r),
        })
    return out


def markdown(doc):
    lines = [f"Produced by `{doc['command']}` on {doc['date']}: profile {doc['profile']}, kernel {doc['kernel']}, "
             f"{doc['sessions']} sessions of {doc['rounds_per_session']} timed batches of {doc['iterations']} "
             "operations per measurement and side. In a session the C baseline and the Swift bench run side by "
             "side on one vCPU and take turns, one batch each; a Swift batch's ratio is its time over the mean of "
             "the C batches just before and after it. Ratio: median over all batches; IQR: their interquartile "
             "range. The `control` rows put a second copy of the C program in Swift's place: the method's own "
             "bias and noise. QEMU TCG on a shared, loaded 2-core host: compare ratios, not absolute times.", "",
             "| measurement | what | Swift ns/op | C ns/op | ratio (median) | IQR of ratio | allocs/op |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for e in doc["measurements"]:
        lines.append(f"| `{e['name']}` | {WHAT.get(e['name'], '')} | {e['ns']:.0f} | {e['baseline_ns']:.0f} | "
                     f"{e['ratio']:.3f} | {e['spread']:.3f} | {e['allocs_per_op']:g} |")
    for e in doc["control"]:
        lines.append(f"| control: `{e['name']}` | C against C | {e['ns']:.0f} | {e['baseline_ns']:.0f} | "
                     f"{e['ratio']:.3f} | {e['spread']:.3f} | |")
    for s in doc["skipped"]:
        lines.append(f"\nSkipped: {s}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("output")
    ap.add_argument("--command", required=True)
    ap.add_argument("--profile", default="intel")
    ap.add_argument("--iterations", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True, help="timed batches per session")
    ap.add_argument("--json")
    ap.add_argument("--readme")
    ap.add_argument("--check", action="store_true", help="fail unless every measurement has a baseline")
    a = ap.parse_args()
    runs, info, skips = parse(open(a.output, errors="replace").read())
    measured = entries(runs, "swift")
    control = entries(runs, "control")
    kernel = next((i.split(": ", 1)[1] for i in info if i.startswith("kernel: ")), "?")
    doc = {"command": a.command, "date": datetime.date.today().isoformat(), "profile": a.profile,
           "kernel": kernel, "iterations": a.iterations, "rounds_per_session": a.rounds,
           "sessions": len({k[1] for k in runs if k[0] == "swift"}),
           "machine": info, "skipped": skips, "measurements": measured, "control": control}
    if a.check:
        if not measured or "map-4k" not in [e["name"] for e in measured]:
            sys.exit("bench-report: no map-4k measurement in the guest's output")
        json.loads(json.dumps(doc))
    text = markdown(doc)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    if a.readme:
        readme = open(a.readme).read()
        if BEGIN not in readme or END not in readme:
            sys.exit(f"bench-report: {a.readme} has no {BEGIN} ... {END} section")
        head, rest = readme.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        with open(a.readme, "w") as f:
            f.write(f"{head}{BEGIN}\n{text}\n{END}{tail}")


if __name__ == "__main__":
    main()
