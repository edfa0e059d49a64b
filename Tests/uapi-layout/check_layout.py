#!/usr/bin/env python3
"""Check the CIOMMUFD shim headers against the real kernel uAPI headers.

Parses our headers (Sources/CIOMMUFD/include/ciommufd_{iommufd,vfio,test}.h),
generates C probe programs that print sizeof/offsetof/values, compiles them
against (a) our shim, (b) the 6.12 uAPI headers (+ the 6.12 source tree's
drivers/iommu/iommufd/iommufd_test.h) and (c) the host's linux-libc-dev
headers, and compares.

Rules:
  * An item without a "since X" / "patch series" tag must exist in 6.12 with
    the same value / offset / size.
  * A tagged item must NOT exist in 6.12 (compiled individually).
  * A struct tagged as a whole is checked against shim.c's CIOMMUFD_SIZE only.
  * A struct that grew after 6.12: 6.12's size == offset of its first newer
    field in ours.
  * Host headers: items they contain must match; missing items are counted.
  * Every struct must be checked and have a CIOMMUFD_SIZE assertion; every
    ioctl must have a CIOMMUFD_REQ_ constant.

Python 3 stdlib only. Exit status 0 = all good, 1 = mismatch, 2 = setup error.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INC = os.path.join(ROOT, "Sources", "CIOMMUFD", "include")
SHIM = os.path.join(ROOT, "Sources", "CIOMMUFD", "shim.c")
HEADERS = ["ciommufd_iommufd.h", "ciommufd_vfio.h", "ciommufd_test.h"]
# Which kernel header each of ours mirrors (for the host check).
HOST_HEADER = {
    "ciommufd_iommufd.h": "linux/iommufd.h",
    "ciommufd_vfio.h": "linux/vfio.h",
    "ciommufd_test.h": None,  # not a uAPI header; never on the host
}
TAG_RE = re.compile(r"/\*\s*(since \d+\.\d+|patch series)\s*\*/")
# Macros in our headers that are plumbing, not uAPI items.
SKIP_MACROS = {"__aligned_u64", "__aligned_le64", "_IOMMUFD_H", "_UAPI_IOMMUFD_H",
               "VFIO_H", "_UAPI_VFIO_H"}

CC = os.environ.get("CC", "cc")


class Item:
    """kind: struct | field | ioctl | const | str | enum."""

    def __init__(self, kind, name, header, line, tag=None, **kw):
        self.kind, self.name, self.header, self.line, self.tag = kind, name, header, line, tag
        self.struct = kw.get("struct")
        self.path = kw.get("path")
        self.flex = kw.get("flex", False)
        self.top = kw.get("top", False)  # top-level field of its struct

    @property
    def key(self):
        return f"{self.kind}:{self.name}"

    def __repr__(self):
        return f"{self.kind} {self.name}"

    # --- probe snippets -------------------------------------------------
    def probe(self):
        n = self.name
        if self.kind == "struct":
            return f'P("S {n} %zu\\n", sizeof(struct {n}));'
        if self.kind == "enum":
            return f'P("E {n} %zu\\n", sizeof(enum {n}));'
        if self.kind == "field":
            s, p = self.struct, self.path
            off = f"offsetof(struct {s}, {p})"
            size = "(size_t)0" if self.flex else f"sizeof(((struct {s} *)0)->{p})"
            return f'P("F {n} %zu %zu\\n", (size_t){off}, (size_t){size});'
        if self.kind == "ioctl":
            return f'P("I {n} %lu\\n", (unsigned long)({n}));'
        if self.kind == "str":
            return f'P("T {n} %s\\n", {n});'
        return f'P("C {n} %lld\\n", (long long)({n}));'

    def exists_snippet(self):
        """A declaration that compiles iff the item exists."""
        n = self.name
        if self.kind == "struct":
            return f"char probe_[sizeof(struct {n})];"
        if self.kind == "enum":
            return f"char probe_[sizeof(enum {n})];"
        if self.kind == "field":
            return f"char probe_[offsetof(struct {self.struct}, {self.path}) + 1];"
        if self.kind == "str":
            return f"const char *probe_ = {n};"
        return f"long long probe_ = (long long)({n});"


def parse_headers():
    items = []
    for h in HEADERS:
        items += parse_header(h)
    return items


def parse_header(hname):
    path = os.path.join(INC, hname)
    items = []
    in_comment = False
    struct = None        # current top-level struct name
    struct_tag = None
    stack = []           # nested aggregates: list of dict(fields=[...], kind)
    enum_tag = None
    in_enum = False
    cont = False
    for lineno, raw in enumerate(open(path), 1):
        line = raw.rstrip("\n")
        if cont:  # continuation of a multi-line #define
            cont = line.endswith("\\")
            continue
        tagm = TAG_RE.search(line)
        tag = tagm.group(1) if tagm else None
        # strip comments (single-line and block)
        code = ""
        i = 0
        while i < len(line):
            if in_comment:
                j = line.find("*/", i)
                if j < 0:
                    i = len(line)
                else:
                    in_comment = False
                    i = j + 2
            else:
                j = line.find("/*", i)
                if j < 0:
                    code += line[i:]
                    i = len(line)
                else:
                    code += line[i:j]
                    in_comment = True
                    i = j + 2
        code = code.strip()
        if not code:
            continue
        loc = f"{hname}:{lineno}"
        if code.startswith("#"):
            m = re.match(r"#\s*define\s+(\w+)(\(?)\s*(.*)$", code)
            if not m:
                continue
            name, fnlike, value = m.group(1), m.group(2), m.group(3).strip()
            if code.endswith("\\"):
                cont = True
            if fnlike or not value or name in SKIP_MACROS or name.startswith("CIOMMUFD"):
                continue
            t = tag or (struct_tag if struct else None)
            if "_IO(" in value or "_IOR(" in value or "_IOW(" in value:
                kind = "ioctl"
            elif value.startswith('"'):
                kind = "str"
            else:
                kind = "const"
            items.append(Item(kind, name, hname, loc, t))
            continue
        if code.startswith("extern ") or code.startswith("int ") or code.startswith("#"):
            continue
        if struct is None and not in_enum:
            m = re.match(r"struct\s+(\w+)\s*\{$", code)
            if m:
                struct, struct_tag = m.group(1), tag
                items.append(Item("struct", struct, hname, loc, tag))
                stack = [dict(prefix="", fields=[])]
                continue
            m = re.match(r"enum\s*(\w*)\s*\{$", code)
            if m:
                in_enum, enum_tag = True, tag
                if m.group(1):
                    items.append(Item("enum", m.group(1), hname, loc, tag))
                continue
            if code in ("};",):
                continue
            raise SystemExit(f"{loc}: cannot parse top-level line: {code!r}")
        if in_enum:
            if code == "};":
                in_enum, enum_tag = False, None
                continue
            m = re.match(r"(\w+)\s*(=\s*(.+?))?\s*,?$", code)
            if not m:
                raise SystemExit(f"{loc}: cannot parse enum line: {code!r}")
            items.append(Item("const", m.group(1), hname, loc, tag or enum_tag))
            continue
        # inside a struct
        if re.match(r"(union|struct)\s*\{$", code):
            stack.append(dict(prefix=stack[-1]["prefix"], fields=[], line=loc))
            continue
        m = re.match(r"\}\s*(\w*)\s*;$", code)
        if m:
            member = m.group(1)
            if len(stack) == 1:  # end of top-level struct
                for f in stack[0]["fields"]:
                    items.append(f)
                struct, struct_tag, stack = None, None, []
                continue
            inner = stack.pop()
            outer = stack[-1]
            if member:
                # named nested aggregate: prefix child paths, add the member itself
                base = outer["prefix"]
                mem = Item("field", f"{struct}.{base}{member}", hname, loc,
                           tag or struct_tag, struct=struct, path=f"{base}{member}",
                           top=len(stack) == 1)
                outer["fields"].append(mem)
                for f in inner["fields"]:
                    f.path = f"{base}{member}.{f.path[len(base):]}"
                    f.name = f"{struct}.{f.path}"
                    f.top = False
                    if tag and not f.tag:
                        f.tag = tag
                    outer["fields"].append(f)
            else:
                for f in inner["fields"]:
                    f.top = len(stack) == 1
                    outer["fields"].append(f)
            continue
        m = re.match(r"(?:struct\s+)?([\w\s\*]+?)\s*\b(\w+)\s*(\[\s*(\w*)\s*\])?\s*;$", code)
        if not m:
            raise SystemExit(f"{loc}: cannot parse field line (one field per line!): {code!r}")
        fname = m.group(2)
        flex = m.group(3) is not None and m.group(4) == ""
        prefix = stack[-1]["prefix"]
        stack[-1]["fields"].append(Item("field", f"{struct}.{prefix}{fname}", hname, loc,
                                        tag or struct_tag, struct=struct,
                                        path=f"{prefix}{fname}", flex=flex,
                                        top=len(stack) == 1))
    return items


# ---------------------------------------------------------------------------
def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


PROLOGUE = "#include <stddef.h>\n#include <stdio.h>\n#define P printf\n"


class Probe:
    def __init__(self, workdir, label, includes, cflags):
        self.workdir, self.label, self.includes, self.cflags = workdir, label, includes, cflags

    def header_text(self):
        return PROLOGUE + "".join(f"#include {i}\n" for i in self.includes)

    def exists(self, item, idx):
        """Compile a one-item program; True if the item exists."""
        src = os.path.join(self.workdir, f"{self.label}-exists-{idx}.c")
        with open(src, "w") as f:
            f.write(self.header_text() + item.exists_snippet() + "\n")
        r = run([CC, "-fsyntax-only", "-w"] + self.cflags + [src])
        return r.returncode == 0

    def values(self, items):
        """Batch probe. Items that fail to compile are dropped (reported as
        absent) by mapping compiler errors to probe lines. Returns
        (dict key->tuple of strings, set of absent keys)."""
        todo = list(items)
        absent = set()
        for _ in range(50):
            src = os.path.join(self.workdir, f"{self.label}-probe.c")
            exe = os.path.join(self.workdir, f"{self.label}-probe")
            head = self.header_text() + "int main(void)\n{\n"
            first = head.count("\n") + 1
            body = "".join(it.probe() + "\n" for it in todo)
            with open(src, "w") as f:
                f.write(head + body + "return 0;\n}\n")
            r = run([CC, "-w", "-fmax-errors=0", "-o", exe] + self.cflags + [src])
            if r.returncode == 0:
                break
            bad = set()
            for m in re.finditer(re.escape(src) + r":(\d+):\d+: error", r.stderr):
                ln = int(m.group(1)) - first
                if 0 <= ln < len(todo):
                    bad.add(ln)
            if not bad:
                raise SystemExit(f"[{self.label}] probe does not compile:\n{r.stderr[:4000]}")
            for ln in sorted(bad, reverse=True):
                absent.add(todo[ln].key)
                del todo[ln]
        else:
            raise SystemExit(f"[{self.label}] probe: too many compile iterations")
        out = run([exe])
        if out.returncode != 0:
            raise SystemExit(f"[{self.label}] probe failed to run: {out.stderr}")
        vals = {}
        kinds = {"S": "struct", "E": "enum", "F": "field", "I": "ioctl", "T": "str", "C": "const"}
        for line in out.stdout.splitlines():
            k, name, *rest = line.split(" ")
            vals[f"{kinds[k]}:{name}"] = tuple(rest) if k != "T" else (" ".join(rest),)
        return vals, absent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hdrs", required=True, help="6.12 headers_install dir (contains include/)")
    ap.add_argument("--src", required=True, help="6.12 kernel source tree")
    ap.add_argument("--host", default="/usr/include", help="host include dir (default /usr/include)")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 4)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    test_h = os.path.join(args.src, "drivers/iommu/iommufd/iommufd_test.h")
    k_inc = os.path.join(args.hdrs, "include")
    for p in (test_h, os.path.join(k_inc, "linux/iommufd.h"), os.path.join(k_inc, "linux/vfio.h")):
        if not os.path.isfile(p):
            print(f"check_layout: missing {p}", file=sys.stderr)
            return 2

    items = parse_headers()
    keys = [it.key for it in items]
    dup = {k for k in keys if keys.count(k) > 1}
    failures = []
    if dup:
        failures.append(f"duplicate items in our headers: {sorted(dup)}")

    structs = [it for it in items if it.kind == "struct"]
    by_struct = {}
    for it in items:
        if it.kind == "field":
            by_struct.setdefault(it.struct, []).append(it)

    work = tempfile.mkdtemp(prefix="uapi-layout-")
    ours = Probe(work, "ours", ['"CIOMMUFD.h"'], ["-I", INC])
    k612 = Probe(work, "k612", ["<linux/iommufd.h>", "<linux/vfio.h>", f'"{test_h}"'], ["-I", k_inc])

    # ---- (a) our own values -------------------------------------------------
    ov, oabsent = ours.values(items)
    if oabsent:
        failures.append(f"items do not compile against our own shim: {sorted(oabsent)}")

    # ---- shim.c: size asserts and request constants ----------------------------
    shim = open(SHIM).read()
    asserts = dict((m.group(1), int(m.group(2))) for m in
                   re.finditer(r"^CIOMMUFD_SIZE\((\w+),\s*(\d+)\);", shim, re.M))
    reqs = set(re.findall(r"^const unsigned long CIOMMUFD_REQ_(\w+) = (\w+);", shim, re.M))
    for s in structs:
        if s.name not in asserts:
            failures.append(f"shim.c: no CIOMMUFD_SIZE assertion for struct {s.name}")
        elif ov.get(s.key) and int(ov[s.key][0]) != asserts[s.name]:
            failures.append(f"struct {s.name}: sizeof {ov[s.key][0]} != shim.c assertion {asserts[s.name]}")
    extra = set(asserts) - {s.name for s in structs}
    if extra:
        failures.append(f"shim.c asserts sizes of unknown structs: {sorted(extra)}")
    ioctls = [it for it in items if it.kind == "ioctl"]
    declared = set()
    for h in HEADERS:
        declared |= set(re.findall(r"extern const unsigned long CIOMMUFD_REQ_(\w+);",
                                   open(os.path.join(INC, h)).read()))
    for it in ioctls:
        if (it.name, it.name) not in reqs:
            failures.append(f"shim.c: missing `const unsigned long CIOMMUFD_REQ_{it.name} = {it.name};`")
        if it.name not in declared:
            failures.append(f"headers: missing `extern const unsigned long CIOMMUFD_REQ_{it.name};`")

    # ---- (b) 6.12 --------------------------------------------------------------
    untagged = [it for it in items if not it.tag]
    tagged = [it for it in items if it.tag]
    kv, kabsent = k612.values(untagged)
    counts = dict(struct=0, field=0, ioctl=0, const=0, enum=0)
    for it in untagged:
        if it.key in kabsent:
            failures.append(f"{it}: not in 6.12 but has no since-tag ({it.line})")
            continue
        o, k = ov.get(it.key), kv.get(it.key)
        if it.kind == "struct":
            if o != k:
                newer = [f for f in by_struct.get(it.name, []) if f.tag and f.top]
                first = min((int(ov[f.key][0]) for f in newer), default=None)
                if first is None or int(k[0]) != first:
                    failures.append(f"struct {it.name}: sizeof ours {o[0]} vs 6.12 {k[0]}"
                                    + (f" (first newer field at {first})" if first is not None else ""))
                    continue
        elif it.kind == "field" and it.flex:
            if o[0] != k[0]:
                failures.append(f"field {it.name}: offset ours {o[0]} vs 6.12 {k[0]} (flexible array)")
                continue
        elif o != k:
            what = {"field": "offset/size", "enum": "sizeof"}.get(it.kind, "value")
            failures.append(f"{it.kind} {it.name}: {what} ours {' '.join(o)} vs 6.12 {' '.join(k)} ({it.line})")
            continue
        counts["const" if it.kind == "str" else it.kind] += 1

    # tagged items must be absent from 6.12 (individually compiled)
    def absent_check(arg):
        idx, it = arg
        # a field of a whole-struct-tagged struct is covered by the struct's own check
        return it, k612.exists(it, idx)

    whole_tagged = {s.name for s in structs if s.tag}
    to_check = [it for it in tagged if not (it.kind == "field" and it.struct in whole_tagged)]
    newer_ok = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.j) as ex:
        for it, exists in ex.map(absent_check, enumerate(to_check)):
            if exists:
                failures.append(f"{it}: tagged '{it.tag}' but exists in 6.12 ({it.line})")
            else:
                newer_ok += 1
    covered = len(tagged) - len(to_check)

    # every struct must have been checked one way or another
    checked_structs = {it.name for it in untagged if it.kind == "struct" and it.key not in kabsent}
    for s in structs:
        if s.name not in checked_structs and s.name not in whole_tagged:
            failures.append(f"struct {s.name} was not checked")
        if s.name in whole_tagged and s.name not in asserts:
            failures.append(f"struct {s.name} (newer) has no static size to check against")

    # ---- (c) host headers --------------------------------------------------------
    host_checked = host_absent = host_missing_hdr = 0
    host_items = []
    for h in HEADERS:
        hh = HOST_HEADER[h]
        hitems = [it for it in items if it.header == h]
        if hh is None or not os.path.isfile(os.path.join(args.host, hh)):
            host_missing_hdr += len(hitems)
            continue
        host_items.append((hh, hitems))
    for hh, hitems in host_items:
        hp = Probe(work, "host-" + hh.replace("/", "_"), [f"<{hh}>"], [])
        hv, habsent = hp.values(hitems)
        for it in hitems:
            if it.key in habsent:
                host_absent += 1
                continue
            o, h = ov[it.key], hv[it.key]
            ok = o == h
            if it.kind == "struct" and not ok:
                # older host: its size must equal the offset of the first field it lacks
                missing = [f for f in by_struct.get(it.name, []) if f.top and f.key in habsent]
                ok = bool(missing) and int(h[0]) == min(int(ov[f.key][0]) for f in missing)
            if it.kind == "field" and it.flex:
                ok = o[0] == h[0]
            if ok:
                host_checked += 1
            else:
                failures.append(f"{it.kind} {it.name}: ours {' '.join(o)} vs host {hh} {' '.join(h)}")

    # ---- summary -------------------------------------------------------------------
    print("uapi-layout: parsed %d structs, %d fields, %d ioctls, %d constants, %d named enums"
          % (len(structs), sum(1 for i in items if i.kind == "field"), len(ioctls),
             sum(1 for i in items if i.kind in ("const", "str")), sum(1 for i in items if i.kind == "enum")))
    print("against 6.12.117: %d structs, %d fields, %d ioctls, %d constants, %d enum types checked"
          % (counts["struct"], counts["field"], counts["ioctl"], counts["const"], counts["enum"]))
    print("newer than 6.12: %d tagged items verified absent from 6.12 (+%d fields of newer structs "
          "covered by their struct)" % (newer_ok, covered))
    print("shim.c: %d size assertions, %d request constants" % (len(asserts), len(reqs)))
    print("host headers (%s): %d items match, %d absent in host headers, %d in headers the host "
          "lacks (linux/iommufd.h, iommufd_test.h)" % (args.host, host_checked, host_absent, host_missing_hdr))
    if failures:
        print("\nFAILED: %d problem(s):" % len(failures))
        for f in failures:
            print("  - " + f)
        return 1
    print("OK: all items match")
    if not args.verbose:
        subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main())
