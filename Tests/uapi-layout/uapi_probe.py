"""Compiled probes: print each item's value / size / offset as a header set sees it.

One C program per header set holds one printf line per item. Items the headers
lack fail to compile; they are mapped back from the compiler's error lines,
dropped and reported as absent, and the program is compiled again.
"""
import os
import re
import subprocess

CC = os.environ.get("CC", "cc")
PROLOGUE = "#include <stddef.h>\n#include <stdio.h>\n#define P printf\n"
KINDS = {"S": "struct", "E": "enum", "F": "field", "I": "ioctl", "T": "str", "C": "const"}


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


class Probe:
    def __init__(self, workdir, label, includes, cflags):
        self.workdir, self.label, self.includes, self.cflags = workdir, label, includes, cflags

    def header_text(self):
        return PROLOGUE + "".join(f"#include {i}\n" for i in self.includes)

    def check_headers(self):
        """The header set alone must compile (so 'absent' never means 'broken')."""
        src = os.path.join(self.workdir, f"{self.label}-headers.c")
        with open(src, "w") as f:
            f.write(self.header_text() + "int main(void) { return 0; }\n")
        r = run([CC, "-fsyntax-only", "-w"] + self.cflags + [src])
        if r.returncode != 0:
            raise SystemExit(f"[{self.label}] the headers alone do not compile:\n{r.stderr[:4000]}")

    def values(self, items):
        """Returns (dict key -> tuple of strings, set of keys of absent items)."""
        self.check_headers()
        todo = list(items)
        absent = set()
        src = os.path.join(self.workdir, f"{self.label}-probe.c")
        exe = os.path.join(self.workdir, f"{self.label}-probe")
        for _ in range(50):
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
        for line in out.stdout.splitlines():
            k, name, *rest = line.split(" ")
            vals[f"{KINDS[k]}:{name}"] = tuple(rest) if k != "T" else (" ".join(rest),)
        return vals, absent
