"""Parser for our shim headers (Sources/CIOMMUFD/include/ciommufd_*.h).

Yields one Item per struct, field (nested paths included), ioctl, constant,
string constant and named enum, each with the version tag that governs it.

Tags are single-line comments on the item's line (or on the line opening its
struct / enum, which then applies to every member without a tag of its own):

    /* since 6.13 */                first kernel that has the item
    /* since 6.19? */               estimated: only known to lie between two
                                    checked kernels (e.g. after 6.12, <= 7.3)
    /* value 1 before 6.17? */      the item is older, but kernels before 6.17
                                    define it as 1 (ours is the newest value)
    /* since 6.2?, value 1 before 6.17? */   both

Untagged items must exist in every checked kernel that ships their header.
"""
import os
import re

TAG_WORDS = re.compile(r"\s*(since|value|patch series)\b")
VER = r"(\d+)\.(\d+)(\?)?"
TAG_GRAMMAR = re.compile(r"\s*(?:since " + VER + r")?\s*,?\s*"
                         r"(?:value (\S+) before " + VER + r")?\s*")
# Macros in our headers that are plumbing, not uAPI items.
SKIP_MACROS = {"__aligned_u64", "__aligned_le64", "_IOMMUFD_H", "_UAPI_IOMMUFD_H",
               "VFIO_H", "_UAPI_VFIO_H"}


class Tag:
    def __init__(self, since=None, since_est=False, old_value=None, value_since=None,
                 value_est=False):
        self.since, self.since_est = since, since_est
        self.old_value, self.value_since, self.value_est = old_value, value_since, value_est

    def __str__(self):
        parts = []
        if self.since:
            parts.append("since %d.%d%s" % (*self.since, "?" if self.since_est else ""))
        if self.old_value is not None:
            parts.append("value %s before %d.%d%s" % (self.old_value, *self.value_since,
                                                      "?" if self.value_est else ""))
        return ", ".join(parts)


def parse_tag(line, loc):
    """The tag in a line's /* ... */ comments, or None. Malformed tags are errors."""
    tag = None
    for text in re.findall(r"/\*(.*?)\*/", line):
        if not TAG_WORDS.match(text):
            continue
        m = TAG_GRAMMAR.fullmatch(text)
        if not m or not (m.group(1) or m.group(4)):
            raise SystemExit(f"{loc}: malformed tag /*{text}*/ (want 'since X.Y[?]' and/or "
                             f"'value V before X.Y[?]'; 'patch series' items are not allowed)")
        g = m.groups()
        tag = Tag(since=(int(g[0]), int(g[1])) if g[0] else None, since_est=bool(g[2]),
                  old_value=g[3], value_since=(int(g[4]), int(g[5])) if g[4] else None,
                  value_est=bool(g[6]))
        if tag.since and tag.value_since and tag.value_since <= tag.since:
            raise SystemExit(f"{loc}: 'value ... before {g[4]}.{g[5]}' must be newer than "
                             f"'since {g[0]}.{g[1]}'")
    return tag


class Item:
    """kind: struct | field | ioctl | const | str | enum."""

    def __init__(self, kind, name, header, line, tag=None, **kw):
        self.kind, self.name, self.header, self.line, self.tag = kind, name, header, line, tag
        self.struct = kw.get("struct")
        self.path = kw.get("path")
        self.flex = kw.get("flex", False)
        self.top = kw.get("top", False)  # top-level field of its struct (or of an anonymous union)

    @property
    def key(self):
        return f"{self.kind}:{self.name}"

    @property
    def since(self):
        return self.tag.since if self.tag else None

    def __repr__(self):
        return f"{self.kind} {self.name}"

    def probe(self):
        """A printf line that prints this item's value / size / offset."""
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
            return f'P("I {n} 0x%lx\\n", (unsigned long)({n}));'
        if self.kind == "str":
            return f'P("T {n} %s\\n", {n});'
        return f'P("C {n} %lld\\n", (long long)({n}));'


def strip_comments(line, in_comment):
    code, i = "", 0
    while i < len(line):
        j = line.find("*/" if in_comment else "/*", i)
        if j < 0:
            if not in_comment:
                code += line[i:]
            break
        if not in_comment:
            code += line[i:j]
        in_comment = not in_comment
        i = j + 2
    return code.strip(), in_comment


def parse_header(path):
    hname = os.path.basename(path)
    items = []
    in_comment = cont = in_enum = False
    struct = struct_tag = enum_tag = None
    stack = []  # nested aggregates of the current struct
    for lineno, raw in enumerate(open(path), 1):
        line = raw.rstrip("\n")
        loc = f"{hname}:{lineno}"
        if cont:  # continuation of a multi-line #define
            cont = line.endswith("\\")
            continue
        tag = parse_tag(line, loc)
        code, in_comment = strip_comments(line, in_comment)
        if not code:
            continue
        if code.startswith("#"):
            m = re.match(r"#\s*define\s+(\w+)(\(?)\s*(.*)$", code)
            if not m:
                continue
            name, fnlike, value = m.group(1), m.group(2), m.group(3).strip()
            cont = code.endswith("\\")
            if fnlike or not value or name in SKIP_MACROS or name.startswith("CIOMMUFD"):
                continue
            t = tag or (struct_tag if struct else None)
            if re.search(r"\b_IO[RW]{0,2}\(", value):
                kind = "ioctl"
            elif value.startswith('"'):
                kind = "str"
            else:
                kind = "const"
            items.append(Item(kind, name, hname, loc, t))
            continue
        if code.startswith("extern ") or code.startswith("int "):
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
            if code == "};":
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
            if len(stack) == 1:  # end of the top-level struct
                items += stack[0]["fields"]
                struct, struct_tag, stack = None, None, []
                continue
            inner = stack.pop()
            outer = stack[-1]
            if member:  # named nested aggregate: prefix child paths, add the member itself
                base = outer["prefix"]
                mtag = tag or struct_tag
                outer["fields"].append(Item("field", f"{struct}.{base}{member}", hname, loc, mtag,
                                            struct=struct, path=f"{base}{member}",
                                            top=len(stack) == 1))
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
        prefix = stack[-1]["prefix"]
        stack[-1]["fields"].append(Item("field", f"{struct}.{prefix}{fname}", hname, loc,
                                        tag or struct_tag, struct=struct,
                                        path=f"{prefix}{fname}",
                                        flex=m.group(3) is not None and m.group(4) == "",
                                        top=len(stack) == 1))
    return items


def kernel_names(path):
    """Names a kernel header defines, in the form our Items are named: ('M', macro),
    ('C', enum constant), ('E', enum), ('S', struct), ('F', 'struct.member') where
    member is the last component (nested members included). For completeness."""
    t = open(path).read()
    t = re.sub(r"/\*.*?\*/", " ", t, flags=re.S)
    t = re.sub(r"\\\n", " ", t)
    guard = re.search(r"#\s*ifndef\s+(\w+)\s*#\s*define\s+\1\b", t)
    out = set()
    for m in re.finditer(r"^\s*#\s*define\s+(\w+)(\(?)", t, re.M):
        if not m.group(2) and not (guard and m.group(1) == guard.group(1)):
            out.add(("M", m.group(1)))
    for m in re.finditer(r"\benum\s*(\w*)\s*\{(.*?)\}", t, re.S):
        if m.group(1):
            out.add(("E", m.group(1)))
        body = re.sub(r"^\s*#.*$", "", m.group(2), flags=re.M)
        for part in body.split(","):
            c = re.match(r"\s*(\w+)", part)
            if c:
                out.add(("C", c.group(1)))
    for m in re.finditer(r"^struct\s+(\w+)\s*\{", t, re.M):
        i, depth = m.end(), 1
        while depth:
            depth += {"{": 1, "}": -1}.get(t[i], 0)
            i += 1
        out.add(("S", m.group(1)))
        body = re.sub(r"^\s*#.*$", "", t[m.end():i - 1], flags=re.M)
        for f in re.finditer(r"(\w+)\s*(?:\[[^\]]*\])?\s*(?:__\w+\([^)]*\))?\s*;", body):
            out.add(("F", f"{m.group(1)}.{f.group(1)}"))
    return out


def our_names(items):
    """Our items in kernel_names() form."""
    out = set()
    for it in items:
        if it.kind == "struct":
            out.add(("S", it.name))
        elif it.kind == "enum":
            out.add(("E", it.name))
        elif it.kind == "field":
            out.add(("F", f"{it.struct}.{it.path.split('.')[-1]}"))
        else:
            out.add(("M", it.name))
            out.add(("C", it.name))
    return out
