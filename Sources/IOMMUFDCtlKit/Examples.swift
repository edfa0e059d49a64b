// Generated from examples/steps/*.steps (a test checks they stay identical).
// Embedded so the binary alone can run them: `iommufdctl run --example split-unmap`.

public enum Examples {
    public static let all: [(name: String, text: String)] = [
        ("split-unmap", #"""
# split-unmap: unmapping half of a mapping fails with ENOENT.
# iommufd never splits a mapped area (type1 v1 did); unmapping the whole area works.
ioas-alloc  as=a
buffer      as=buf size=0x4000
map   ioas=a buffer=buf iova=0x100000 length=0x4000 access=rw
unmap ioas=a iova=0x100000 length=0x2000   expect=ENOENT
unmap ioas=a iova=0x100000 length=0x4000   expect=ok
"""#),
        ("overlap-map", #"""
# overlap-map: mapping over part of an existing mapping fails with EEXIST;
# an adjacent mapping is fine.
ioas-alloc  as=a
buffer      as=buf size=0x4000
map   ioas=a buffer=buf iova=0x200000 length=0x4000   expect=ok
map   ioas=a buffer=buf iova=0x202000 length=0x2000   expect=EEXIST
map   ioas=a buffer=buf iova=0x204000 length=0x4000   expect=ok
unmap ioas=a all                                      expect=ok
"""#),
        ("iova-ranges", #"""
# iova-ranges: the usable IOVA ranges and alignment of an IOAS, and how
# allow-iovas steers kernel-chosen IOVAs.
ioas-alloc  as=a
iova-ranges ioas=a                          expect=ok
allow-iovas ioas=a ranges=0x400000-0x7fffff expect=ok
buffer      as=buf size=0x2000
map   ioas=a buffer=buf iova=auto as=m      expect=ok   # lands inside 0x400000-0x7fffff
unmap ioas=a iova=m length=0x2000           expect=ok
iova-ranges ioas=a                          expect=ok
"""#),
        ("unmap-all-empty", #"""
# unmap-all-empty: IOMMU_IOAS_UNMAP of (0, UINT64_MAX) succeeds on an empty IOAS,
# while unmapping a range where nothing is mapped fails with ENOENT.
ioas-alloc  as=a
unmap ioas=a all                            expect=ok
unmap ioas=a iova=0x100000 length=0x1000    expect=ENOENT
"""#),
        ("zero-length", #"""
# zero-length: a zero-length map is rejected by the library before the syscall
# (EINVAL, origin validation); with raw=1 it reaches the kernel, which says EINVAL too.
ioas-alloc  as=a
buffer      as=buf size=0x1000
map   ioas=a buffer=buf iova=0x100000 length=0         expect=EINVAL
map   ioas=a buffer=buf iova=0x100000 length=0 raw=1   expect=EINVAL
unmap ioas=a iova=0x100000 length=0 raw=1              expect=EINVAL
"""#),
        ("device-attach", #"""
# device-attach: bind the first VFIO cdev to an iommufd, attach it to an IOAS,
# and see that an IOAS in use cannot be destroyed until the device detaches.
device      as=d path=auto
ioas-alloc  as=a
bind        device=d                        expect=ok
attach      device=d pt=a                   expect=ok
iova-ranges ioas=a                          expect=ok
destroy     id=a                            expect=EBUSY
detach      device=d                        expect=ok
destroy     id=a                            expect=ok
"""#),
        ("vtd-compat-map-no-access", #"""
# vtd-compat-map-no-access: MAP_DMA with neither READ nor WRITE on the iommufd compat container.
# Linux 7.3.4 with QEMU's emulated Intel VT-d (intel-iommu,intremap=on,caching-mode=on): the
# map WARNs in the generic page table, iommu_pt.h:933 in vtdss_map_range,
# WARN_ON(!(prot & (IOMMU_READ | IOMMU_WRITE))), then fails EINVAL. On 6.12 VT-d refused
# the same map quietly with EINVAL. AMD-Vi on 7.3.4 WARNs the same way, in amdv1_map_range.
# The map reaches the IOMMU only once a device is attached to the compat IOAS, which
# GET_DEVICE_FD does. Report: docs/kernel-bugs/vtd-map-no-access-warn.md
container     as=c kind=compat                  # /dev/iommu as the VFIO container
group         as=g device=auto container=c      # /dev/vfio/N, VFIO_GROUP_SET_CONTAINER
set-iommu     container=c type=type1v2
get-device-fd as=d group=g                      # attaches the device: the IOAS gets a VT-d domain
buffer        as=buf size=0x1000
map-dma       container=c buffer=buf iova=0x100000 length=0x1000 access=none   expect=EINVAL
"""#),
    ]

    public static func named(_ name: String) -> String? {
        let base = name.hasSuffix(".steps") ? String(name.dropLast(6)) : name
        return all.first(where: { $0.name == base })?.text
    }
}
