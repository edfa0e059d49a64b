#!/usr/bin/env python3
"""Writes the checked-in seed corpus of the binary fuzz targets (Fuzz/corpus/<target>/).

Each seed is one plausible kernel conversation, encoded the way FuzzInput
(Fuzz/Sources/FuzzSupport/FuzzInput.swift) reads it: little-endian integers in the
order the target draws them. libFuzzer mutates from there. The step-file seeds are
the repo's example step files plus two below; the results-json seeds are JSON.
Run again after changing what a target draws:  python3 Fuzz/make-seeds.py
"""
import json
import pathlib
import shutil
import struct

root = pathlib.Path(__file__).resolve().parent
corpus = root / "corpus"


def u8(v): return struct.pack("<B", v)
def u16(v): return struct.pack("<H", v)
def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)
def data(b): return u16(len(b)) + b          # FuzzInput.data(max:)
def raw64(v): return u8(7) + u64(v)          # interesting64(), "8 raw bytes" case
OK = u8(0)                                   # FuzzKernel.result(): success
ENOSPC = u8(162 + 12)                        # result(): pick % 18 indexes its errno table (12: ENOSPC)


def argsz_answer(body, new_argsz=None):
    """FuzzKernel.answerArgszQuery: result, the bytes after argsz, then argsz or not."""
    return OK + data(body) + (u8(1) + u32(new_argsz) if new_argsz is not None else u8(0))


def write(target, name, blob):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(blob if isinstance(blob, bytes) else blob.encode())


def cap(cap_id, version, next_off, payload):
    return u16(cap_id) + u16(version) + u32(next_off) + payload


def info_chain():
    # Region 2 with a chain: sparse mmap (2 areas) -> type -> MSI-X mappable (the unit test's).
    sparse = cap(1, 1, 32 + 48, u32(2) + u32(0) + u64(0) + u64(0x2000) + u64(0x3000) + u64(0x1000))
    rtype = cap(2, 1, 32 + 64, u32(1) + u32(1))
    msix = cap(3, 1, 0, b"")
    chain = sparse + rtype + msix
    head = lambda cap_off: u32(0xF) + u32(2) + u32(cap_off) + u64(0x4000) + u64(2 << 40)
    write("info-chain", "region-sparse-type-msix", u8(0) + u32(2)
          + argsz_answer(head(0), 32 + len(chain)) + argsz_answer(head(32) + chain))
    # Device info with one capability (zPCI base), two passes.
    dcap = cap(1, 1, 0, bytes(16))
    dhead = lambda off: u32(0x83) + u32(9) + u32(5) + u32(off) + u32(0)
    write("info-chain", "device-info-cap", u8(1) + argsz_answer(dhead(0), 24 + len(dcap)) + argsz_answer(dhead(24) + dcap))
    # Type1 IOMMU info: page sizes, IOVA ranges (2), migration, DMA available.
    ranges = cap(1, 1, 24 + 48, u32(2) + u32(0) + u64(0) + u64(0xFEDFFFFF) + u64(0xFEF00000) + u64((1 << 48) - 1))
    mig = cap(2, 1, 24 + 48 + 32, u32(1) + u32(0) + u64(0x1000) + u64(1 << 30))
    avail = cap(3, 1, 0, u32(65535) + u32(0))
    ichain = ranges + mig + avail
    ihead = lambda off: u32(3) + u64(0x40201000) + u32(off) + u32(0)
    write("info-chain", "iommu-info-ranges-migration", u8(2) + u8(1)
          + argsz_answer(ihead(0), 24 + len(ichain)) + argsz_answer(ihead(24) + ichain))
    write("info-chain", "irq-info-msix", u8(3) + u32(2) + argsz_answer(u32(1) + u32(2) + u32(8)))
    # Hot-reset info: ENOSPC asking for room for 10 (the first pass has 8), then the ten.
    dev = lambda i: u32(i + 1) + u16(0) + u8(0) + u8((3 << 3) | (i % 8))
    small = ENOSPC + data(u32(1) + u32(10)) + u8(0)
    devices = b"".join(dev(i) for i in range(10))
    write("info-chain", "hot-reset-ten-devices", u8(4) + small + argsz_answer(u32(1) + u32(10) + devices))
    write("info-chain", "raw-chain", u8(5) + u32(8) + u8(8) + bytes(8) + cap(1, 1, 24, bytes(8)) + cap(2, 1, 0, bytes(4)))


def hw_info():
    tail = u32(0) + u64(0) + u64(0) + u8(0)  # the standalone VTdInfo / SMMUv3Info draws
    def through_kernel(type_index, payload, caps=0, pasid=0):
        return (u8(1) + u8(1) + u8(0) + u32(1)            # via the kernel, 256-byte buffer, no type asked, dev 1
                + OK + data(payload) + u8(1) + u8(type_index) + u64(caps) + u8(pasid) + tail)
    vtd = u32(0) + u32(0) + u64(0x00D2008C22260286) + u64(0x0000480080F00F4A)
    write("hw-info", "vtd-qemu-scalable", through_kernel(1, vtd, caps=1, pasid=20))
    idr = [0x0F0C0EBF, 0x0E79CE30, 0, 0x00000C04, 0, 0x00000075]
    smmu = u32(0) + u32(0) + b"".join(u32(x) for x in idr) + u32(0x43B) + u32(2)
    write("hw-info", "smmuv3", through_kernel(2, smmu, caps=1))
    write("hw-info", "amd-efr", through_kernel(4, u64(0x246577EFA2254AFA) + u64(0x10)))
    write("hw-info", "none", through_kernel(0, b""))
    write("hw-info", "registers-direct", u8(0) + u8(1) + data(vtd) + u64(7) + u8(20)
          + u32(0) + u64(0x00D2008C22260286) + u64(0x0000480080F00F4A) + u8(6) + b"".join(u32(x) for x in idr))


def request_validation():
    IOMMUFD, VFIO = u8(1), u8(0)
    none = u8(0)
    # map 2 MiB of user memory at IOVA 1 MiB (rw), kernel says ok; then unmap it.
    write("request-validation", "map-unmap", u8(0)
          + IOMMUFD + u8(0) + raw64(0x7F0000000000) + raw64(0x200000) + u8(1) + raw64(0x100000) + u8(3) + OK
          + IOMMUFD + u8(2) + raw64(0x100000) + raw64(0x200000) + OK)
    # IOVA ranges, EMSGSIZE with 6 ranges, then the six.
    six = b"".join(u64(i << 32) + u64((i << 32) | 0xFFFFFFF) for i in range(6))
    write("request-validation", "iova-ranges-two-pass", u8(0)
          + IOMMUFD + u8(6) + u8(1) + u8(6) + six[:64] + raw64(0x1000)
          + u8(1) + u8(6) + six + raw64(0x1000) + OK)
    # Dirty bitmap of 16 pages at 4 KiB, with the IOAS alignment set to 4 KiB.
    write("request-validation", "dirty-bitmap", u8(1) + raw64(0x1000)
          + IOMMUFD + u8(7) + raw64(0x100000) + raw64(0x10000) + raw64(0x1000) + u32(3) + u8(1) + OK
          + u64(0x104000) + raw64(4))  # isDirty(address), isDirty(page:)
    # VFIO: MAP_DMA then a container dirty bitmap, then SET_IRQS with two eventfds.
    write("request-validation", "vfio-map-dirty-irqs", u8(0)
          + VFIO + u8(0) + u64(0x7F0000000000) + raw64(0x100000) + raw64(0x4000) + u8(3) + OK
          + VFIO + u8(2) + raw64(0x100000) + raw64(0x4000) + raw64(0x1000) + OK
          + VFIO + u8(4) + u8(2) + u8(2) + u8(2) + u32(10) + u32(11) + none + u32(2) + u32(0) + OK + none)
    # A vIOMMU invalidation of two VT-d entries, the kernel handling one.
    write("request-validation", "invalidate-vtd", u8(0)
          + IOMMUFD + u8(9) + u8(0) + u8(2) + u64(0x1000) + raw64(1) + u8(1) + u64(0) + raw64(2) + u8(0)
          + u32(5) + u8(200) + u32(1))


def results_json():
    case = lambda cid, profile, status, reason, kernel, trail=None, observed=None: dict(
        {"id": cid, "profile": profile, "mode": "-", "status": status, "reason": reason, "ms": 12, "kernel": kernel},
        **({"trail": trail} if trail else {}), **({"observed": observed} if observed else {}))
    doc = {"kernel": "7.3.4", "cases": [
        case("ioas.map.overlap", "intel", "pass", "3 assertions", "7.3.4", ["map: ok", "map again: EEXIST"]),
        case("ioas.map.overlap", "intel-6.1", "pass", "3 assertions", "6.12.117", ["map: ok", "map again: EBUSY"]),
        case("hwpt.dirty.bitmap", "amd", "skip", "needs kernel 6.13", "6.12.117"),
        case("diff.unmap.split", "intel", "fail", "unmap half: expected ENOENT, got ok", "7.3.4", observed="ok")],
        "kernelSources": {"7.3": "linux 7.3.4-1"}}
    write("results-json", "document.json", json.dumps(doc, indent=1))
    write("results-json", "child-outcome.json", json.dumps({"status": "pass", "reason": "2 assertions", "trail": ["a: ok"]}))


def step_files():
    # Scripts/fuzz also reads examples/steps/ as seeds; these add the steps they lack.
    write("step-file", "legacy-vfio.steps", """# the legacy container/group flow
container as=c
container as=t kind=type1
group as=g device=00:03.0 container=c
group as=h number=7 container=t
set-iommu container=c type=type1v2
buffer as=buf size=16K memfd=1
map-dma container=c buffer=buf offset=0x1000 length=0x1000 iova=1M access=r
unmap-dma container=c iova=1M length=4K
unmap-dma container=t all
get-device-fd as=d group=h device=0000:00:03.0 expect=ENODEV
""")
    write("step-file", "every-iommufd-step.steps", """# one of each iommufd step
ioas-alloc as=a
ioas-alloc as=b
buffer as=buf size=2M hugetlb=1
map ioas=a buffer=buf iova=auto access=rw as=m
map ioas=a va=0x7f0000000000 length=0x1000 iova=0x200000 raw=1 expect=EFAULT
copy ioas=b src=a src-iova=m length=0x1000 iova=auto as=m2
iova-ranges ioas=a
allow-iovas ioas=b ranges=0x100000-0x1fffff,0x40000000-0x7fffffff
option name=huge-pages ioas=a set=0
option name=rlimit-mode
raw-size request=IOAS_MAP size=24 bytes=40 ioas=a expect=EINVAL
unmap ioas=b iova=m2 length=0x1000
unmap ioas=a all
device as=d path=/dev/vfio/devices/vfio0
bind device=d
attach device=d pt=a
detach device=d
destroy id=b expect=0
""")


if __name__ == "__main__":
    for t in ["info-chain", "hw-info", "request-validation", "results-json", "step-file"]:
        shutil.rmtree(corpus / t, ignore_errors=True)
        (corpus / t).mkdir(parents=True)
    info_chain(); hw_info(); request_validation(); results_json(); step_files()
    for t in sorted(corpus.iterdir()):
        print(f"{t.name}: {len(list(t.iterdir()))} seeds")
