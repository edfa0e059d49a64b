#!/usr/bin/env python3
"""Check the CIOMMUFD shim headers against real kernel uAPI headers.

Parses our headers (Sources/CIOMMUFD/include/ciommufd_{iommufd,vfio,test}.h,
see uapi_items.py for the format and tags), compiles probe programs that print
every item's value / sizeof / offsetof against our shim and against each
kernel given with --kernel (headers_install output, plus the source tree for
drivers/iommu/iommufd/iommufd_test.h), and compares.

Rules, for every checked kernel K (a header K does not ship counts as absent):
  * untagged item: present and identical in every K that ships its header
    (iommufd.h and iommufd_test.h exist since 6.2, vfio.h is older);
  * "since X.Y": present and identical in every K >= X.Y, absent from every
    K < X.Y ("X.Y?" marks an estimated version; the rule is the same);
  * "value V before X.Y" (constants): K < X.Y must have V instead of ours;
  * a struct that grew: in a K that lacks some of its top-level fields, its
    size must equal the offset of the first of them;
  * every item must have been matched in at least one kernel (none may be
    checked only against the shim), and the newest kernel's headers must not
    define anything the shim lacks;
  * every struct has a CIOMMUFD_SIZE assertion in shim.c equal to our sizeof,
    every ioctl a CIOMMUFD_REQ_ constant and its extern declaration.

Python 3 stdlib only. Exit status 0 = all good, 1 = mismatch, 2 = setup error.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from uapi_items import kernel_names, our_names, parse_header  # noqa: E402
from uapi_probe import Probe  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INC = os.path.join(ROOT, "Sources", "CIOMMUFD", "include")
SHIM = os.path.join(ROOT, "Sources", "CIOMMUFD", "shim.c")
# Our header -> the kernel header it mirrors (the test header is in the source tree).
MIRRORS = {"ciommufd_iommufd.h": "linux/iommufd.h", "ciommufd_vfio.h": "linux/vfio.h",
           "ciommufd_test.h": "drivers/iommu/iommufd/iommufd_test.h"}
SHORT = {h: os.path.basename(k) for h, k in MIRRORS.items()}
GROUP = {"struct": "structs", "field": "fields", "ioctl": "ioctls", "const": "constants",
         "str": "constants", "enum": "enum types"}


class Kernel:
    """--kernel LABEL=HDRS[,SRC]: LABEL is the version (e.g. 6.12.117), HDRS a
    headers_install directory (with include/), SRC the source tree."""

    def __init__(self, spec):
        label, _, paths = spec.partition("=")
        hdrs, _, src = paths.partition(",")
        m = re.match(r"(\d+)\.(\d+)", label)
        if not m or not hdrs:
            raise SystemExit(f"--kernel {spec!r}: want VERSION=HEADERS_DIR[,SOURCE_DIR]")
        self.label, self.version = label, (int(m.group(1)), int(m.group(2)))
        inc = os.path.join(hdrs, "include")
        self.cflags = ["-I", inc]
        self.files = {}
        for ours, theirs in MIRRORS.items():
            p = os.path.join(src if ours == "ciommufd_test.h" else inc, theirs)
            if (src or ours != "ciommufd_test.h") and os.path.isfile(p):
                self.files[ours] = p
        need = ["ciommufd_vfio.h"] + (["ciommufd_iommufd.h", "ciommufd_test.h"]
                                       if self.version >= (6, 2) else [])
        for h in need:
            if h not in self.files:
                print(f"check_layout: {label}: no {MIRRORS[h]} under {inc if h != 'ciommufd_test.h' else src!r}",
                      file=sys.stderr)
                sys.exit(2)

    def probe(self, work):
        inc = [f'"{self.files[h]}"' if h == "ciommufd_test.h" else f"<{MIRRORS[h]}>"
               for h in MIRRORS if h in self.files]
        return Probe(work, "k" + self.label, inc, self.cflags)


def fmt_ver(v):
    return "%d.%d" % v


def shim_checks(items, ov, failures):
    shim = open(SHIM).read()
    asserts = {m.group(1): int(m.group(2)) for m in
               re.finditer(r"^CIOMMUFD_SIZE\((\w+),\s*(\d+)\);", shim, re.M)}
    reqs = set(re.findall(r"^const unsigned long CIOMMUFD_REQ_(\w+) = (\w+);", shim, re.M))
    structs = [it for it in items if it.kind == "struct"]
    for s in structs:
        if s.name not in asserts:
            failures.append(f"shim.c: no CIOMMUFD_SIZE assertion for struct {s.name}")
        elif s.key in ov and int(ov[s.key][0]) != asserts[s.name]:
            failures.append(f"struct {s.name}: sizeof {ov[s.key][0]} != shim.c assertion {asserts[s.name]}")
    extra = set(asserts) - {s.name for s in structs}
    if extra:
        failures.append(f"shim.c asserts sizes of unknown structs: {sorted(extra)}")
    declared = set()
    for h in MIRRORS:
        declared |= set(re.findall(r"extern const unsigned long CIOMMUFD_REQ_(\w+);",
                                   open(os.path.join(INC, h)).read()))
    ioctls = {it.name for it in items if it.kind == "ioctl"}
    for name in sorted(ioctls):
        if (name, name) not in reqs:
            failures.append(f"shim.c: missing `const unsigned long CIOMMUFD_REQ_{name} = {name};`")
        if name not in declared:
            failures.append(f"headers: missing `extern const unsigned long CIOMMUFD_REQ_{name};`")
    for name in sorted({r[0] for r in reqs} - ioctls):
        failures.append(f"shim.c: CIOMMUFD_REQ_{name} is not an ioctl of our headers")
    return len(asserts), len(reqs)


def compare(it, o, kv, k, kabsent, ov, fields_of):
    """None if the kernel's value matches, else a message. Also returns a note:
    'grew' (older, smaller struct) or 'old value'."""
    where = f"({it.line})"
    if it.kind == "struct":
        if o == kv:
            return None, None
        missing = [f for f in fields_of.get(it.name, []) if f.top and f.key in kabsent]
        first = min((int(ov[f.key][0]) for f in missing), default=None)
        if first is not None and int(kv[0]) == first:
            return None, "grew"
        return (f"struct {it.name} {where}: sizeof {o[0]} here, {kv[0]} in {k.label}"
                + (f" (its first field {k.label} lacks is at offset {first})" if first is not None
                   else " (and no field of ours is missing there)")), None
    if it.kind == "field":
        if o[0] == kv[0] and (it.flex or o[1] == kv[1]):
            return None, None
        return (f"field {it.name} {where}: offset/size {' '.join(o)} here, "
                f"{' '.join(kv)} in {k.label}"), None
    t = it.tag
    if t and t.old_value is not None and k.version < t.value_since:
        ok = kv[0] == t.old_value or (re.fullmatch(r"-?(0x)?[0-9a-fA-F]+", t.old_value)
                                      and int(kv[0]) == int(t.old_value, 0))
        return (None, "old value") if ok else (
            f"{it.kind} {it.name} {where}: {k.label} has {kv[0]}, but the tag says "
            f"'{t}'", None)
    if o == kv:
        return None, None
    return f"{it.kind} {it.name} {where}: {' '.join(o)} here, {' '.join(kv)} in {k.label}", None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", action="append", required=True, metavar="VERSION=HDRS[,SRC]",
                    help="a kernel to check against (repeat; e.g. 7.3.4=/cache/uapi-headers-7.3,/cache/src/linux-7.3)")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2)
    ap.add_argument("-v", "--verbose", action="store_true", help="list details; keep the probe programs")
    args = ap.parse_args()
    kernels = sorted((Kernel(s) for s in args.kernel), key=lambda k: k.version, reverse=True)

    items = []
    for h in MIRRORS:
        items += parse_header(os.path.join(INC, h))
    failures = []
    keys = [it.key for it in items]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        failures.append(f"duplicate items in our headers: {dup}")
    for it in items:
        if it.tag and it.tag.old_value is not None and it.kind != "const":
            failures.append(f"{it} ({it.line}): 'value ... before' tags are for constants only")
    fields_of = {}
    for it in items:
        if it.kind == "field":
            fields_of.setdefault(it.struct, []).append(it)

    work = tempfile.mkdtemp(prefix="uapi-layout-")
    jobs = [("ours", Probe(work, "ours", ['"CIOMMUFD.h"'], ["-I", INC]), items)]
    jobs += [(k, k.probe(work), [it for it in items if it.header in k.files]) for k in kernels]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j)) as ex:
        results = dict(zip([j[0] for j in jobs], ex.map(lambda j: j[1].values(j[2]), jobs)))
    ov, oabsent = results["ours"]
    if oabsent:
        failures.append(f"items do not compile against our own shim: {sorted(oabsent)}")
    n_asserts, n_reqs = shim_checks(items, ov, failures)

    matched_anywhere = set()
    report = []
    for k in kernels:
        kv, kabsent = results[k]
        counts = dict.fromkeys(["structs", "fields", "ioctls", "constants", "enum types"], 0)
        absent_ok = no_header = 0
        notes = {"grew": [], "old value": []}
        for it in items:
            if it.key in oabsent:
                continue
            since = it.since
            wanted = since is None or since <= k.version
            if it.header not in k.files:
                if since is not None and wanted:
                    failures.append(f"{it} ({it.line}): tagged '{it.tag}' but {k.label} has no "
                                    f"{SHORT[it.header]}")
                else:
                    no_header += 1
                continue
            present = it.key not in kabsent
            if not wanted:
                if present:
                    failures.append(f"{it} ({it.line}): tagged '{it.tag}' but {k.label} already "
                                    f"has it (tag too new)")
                else:
                    absent_ok += 1
                continue
            if not present:
                if since is None:
                    failures.append(f"{it} ({it.line}): missing from {k.label} but has no since-tag "
                                    f"(tag it /* since X.Y */ with X.Y > {fmt_ver(k.version)})")
                else:
                    failures.append(f"{it} ({it.line}): tagged '{it.tag}' but missing from "
                                    f"{k.label} (tag too old, or not in mainline)")
                continue
            msg, note = compare(it, ov[it.key], kv[it.key], k, kabsent, ov, fields_of)
            if msg:
                failures.append(msg)
                continue
            if note:
                notes[note].append(it.name)
            counts[GROUP[it.kind]] += 1
            matched_anywhere.add(it.key)
        missing_hdrs = sorted(SHORT[h] for h in MIRRORS if h not in k.files)
        report.append((k, counts, absent_ok, no_header, missing_hdrs, notes))

    # the newest kernel must not define anything we lack
    newest = kernels[0]
    ours_n = our_names(items)
    lacking = []
    for h, path in newest.files.items():
        lacking += [f"{SHORT[h]}: {kind} {name}" for kind, name in sorted(kernel_names(path) - ours_n)]
    for entry in lacking:
        failures.append(f"{newest.label} defines what the shim lacks: {entry}")
    shim_only = [it for it in items if it.key not in matched_anywhere]

    # ---- summary -------------------------------------------------------------
    print("uapi-layout: parsed %d structs, %d fields, %d ioctls, %d constants, %d named enums"
          % tuple(sum(1 for i in items if i.kind in ks) for ks in
                  (("struct",), ("field",), ("ioctl",), ("const", "str"), ("enum",))))
    for k, c, absent_ok, no_header, missing_hdrs, notes in report:
        line = "against %s: %s matched" % (k.label, ", ".join(f"{n} {g}" for g, n in c.items()))
        if missing_hdrs:
            line += f" ({', '.join(missing_hdrs)}: not in {k.label})"
        print(line)
    older = [r for r in report if r[0] is not newest]
    print("newer items verified absent: " + ", ".join(
        f"{fmt_ver(k.version)}: {a}" + (f" (+{nh} in {', '.join(mh)}, which {fmt_ver(k.version)} lacks)"
                                         if nh else "")
        for k, _, a, nh, mh, _ in older))
    print("structs that grew, checked by their first newer field: " + ", ".join(
        f"{fmt_ver(k.version)}: {len(n['grew'])}" for k, _, _, _, _, n in older)
          + "; older values verified: " + ", ".join(
        f"{fmt_ver(k.version)}: {len(n['old value'])}" for k, _, _, _, _, n in older))
    tags = [it for it in items if it.tag and it.tag.since]
    est = sum(1 for it in tags if it.tag.since_est)
    print(f"tagged items: {len(tags)} ({est} with an estimated version '?'); "
          f"shim.c: {n_asserts} size assertions, {n_reqs} request constants")
    print(f"in {newest.label} but not in the shim: {len(lacking)}")
    print(f"checked only against the shim: {len(shim_only)}")
    if args.verbose:
        for k, _, _, _, _, notes in older:
            for what, names in notes.items():
                if names:
                    print(f"  {k.label} {what}: {', '.join(names)}")
        seen = set()  # members inherit their struct's / enum's tag object: list it once
        for it in tags:
            if (it.tag.since_est or it.tag.value_est) and id(it.tag) not in seen:
                seen.add(id(it.tag))
                print(f"  estimated: {it} ({it.line}): {it.tag}")
        print(f"  probe programs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if shim_only:
        failures.append("checked only against the shim (matched in no kernel): "
                        + ", ".join(f"{it} ({it.line})" for it in shim_only[:20])
                        + (" ..." if len(shim_only) > 20 else ""))
    if failures:
        print("\nFAILED: %d problem(s):" % len(failures))
        for f in failures:
            print("  - " + f)
        return 1
    print("OK: all items match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
