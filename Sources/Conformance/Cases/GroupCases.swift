// The legacy group flow (/dev/vfio/N + a container) on an edu device, as 6.12.117's
// group.c, container.c and iommufd vfio_compat.c answer it.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

/// A group fd with (optionally) a type1 container set and its IOMMU chosen.
final class GroupRig {
    let group: VFIOGroup
    let container: VFIOContainer
    let address: String
    init(_ ctx: CaseContext, compat: Bool = false, setContainer: Bool = true, setIOMMU: Bool = true) throws {
        let pci = try CdevRig.pci(ctx)
        guard let g = pci.iommuGroup else { throw CaseSkip("\(pci.address) has no IOMMU group") }
        address = pci.address
        group = try ctx.step("open /dev/vfio/\(g)") { try VFIOGroup.open(g) }
        container = try ctx.step("open container") {
            compat ? try VFIOContainer.openIOMMUFDCompat() : try VFIOContainer.open()
        }
        if setContainer {
            try ctx.step("SET_CONTAINER") { try group.setContainer(container) }
            if setIOMMU { try ctx.step("SET_IOMMU type1v2") { try container.setIOMMU(.type1v2) } }
        }
    }
}

enum GroupCases {
    static let needs: Set<Requirement> = [.vfioContainer, .eduDevice]

    static func c(_ id: String, _ rule: String, requires: Set<Requirement> = needs,
                  _ body: @escaping @Sendable (CaseContext) throws -> Void) -> ConformanceCase {
        // Cases on the compat container need iommufd (6.2); the rest is legacy VFIO.
        ConformanceCase(id, rule: rule, since: requires.contains(.iommufd) ? .iommufd : .legacyVFIO, requires: requires, body: body)
    }

    static var all: [ConformanceCase] {
        [status, deviceNoContainer, wrongName, setTwice, setBadFD, unsetNone, groupDeviceBind, groupHotReset, setIOMMUNoGroup, unknownBeforeSetIOMMU, isolatedMSI]
    }

    static let status = c("group.status.viable", "GET_STATUS: a group whose only device is bound to vfio-pci is VIABLE; CONTAINER_SET follows SET/UNSET_CONTAINER") { ctx in
        let rig = try GroupRig(ctx, setContainer: false)
        let s0 = try ctx.expectOK("GET_STATUS") { try rig.group.status() }
        try ctx.check(s0.viable, "group not viable")
        try ctx.check(!s0.containerSet, "CONTAINER_SET before SET_CONTAINER")
        try ctx.expectOK("SET_CONTAINER") { try rig.group.setContainer(rig.container) }
        let s1 = try ctx.expectOK("GET_STATUS") { try rig.group.status() }
        try ctx.check(s1.viable && s1.containerSet, "after SET_CONTAINER: viable \(s1.viable), container set \(s1.containerSet)")
        try ctx.expectOK("UNSET_CONTAINER") { try rig.group.unsetContainer() }
        let s2 = try ctx.expectOK("GET_STATUS") { try rig.group.status() }
        try ctx.check(!s2.containerSet, "CONTAINER_SET after UNSET_CONTAINER")
    }

    static let deviceNoContainer = c("group.get-device-fd.no-container", "GET_DEVICE_FD before the group has a container fails EINVAL (vfio_df_group_open)") { ctx in
        let rig = try GroupRig(ctx, setContainer: false)
        try ctx.expectErrno(.invalidArgument, "GET_DEVICE_FD \(rig.address)") { try rig.group.deviceFD(rig.address) }
    }

    static let wrongName = c("group.get-device-fd.wrong-name", "GET_DEVICE_FD with a name that is no device of the group fails ENODEV (vfio_device_get_from_name); group on the iommufd compat container",
                             requires: needs.union([.iommufd])) { ctx in
        let rig = try GroupRig(ctx, compat: true)
        try ctx.expectErrno(.operationNotSupportedByDevice, "0000:00:1f.7") { try rig.group.deviceFD("0000:00:1f.7") }
        try ctx.expectErrno(.operationNotSupportedByDevice, "garbage name") { try rig.group.deviceFD("not-a-device") }
        if let other = ctx.machine.eduDevices.dropFirst().first {
            try ctx.expectErrno(.operationNotSupportedByDevice, "\(other.address) (another group's device)") {
                try rig.group.deviceFD(other.address)
            }
        }
        let dev = try ctx.expectOK("the right name works") { try rig.group.deviceFD(rig.address) }
        try ctx.checkEqual(dev.origin, .group, "device origin")
    }

    static let setTwice = c("group.set-container.twice", "SET_CONTAINER on a group that already has one fails EINVAL, with the same or another container") { ctx in
        let rig = try GroupRig(ctx, setIOMMU: false)
        try ctx.expectErrno(.invalidArgument, "same container again") { try rig.group.setContainer(rig.container) }
        let other = try ctx.step("open another container") { try VFIOContainer.open() }
        try ctx.expectErrno(.invalidArgument, "another container") { try rig.group.setContainer(other) }
        if ctx.machine.hasIOMMUFD {
            let compat = try ctx.step("open /dev/iommu") { try VFIOContainer.openIOMMUFDCompat() }
            try ctx.expectErrno(.invalidArgument, "an iommufd") { try rig.group.setContainer(compat) }
        }
    }

    static let setBadFD = c("group.set-container.bad-fd", "SET_CONTAINER with an fd that is neither container nor iommufd fails EBADFD (EINVAL before 6.2), with a closed fd EBADF") { ctx in
        let rig = try GroupRig(ctx, setContainer: false)
        let efd = try ctx.step("eventfd") { try EventFD.create() }
        func set(_ raw: Int32) throws(IOMMUFDError) {
            var fd = raw
            try rig.group.fd.perform(.vfioGroupSetContainer, &fd)
        }
        // Differs by version: 6.1's vfio_group_ioctl_set_container (vfio_main.c) knows
        // only containers and answers anything else with its preset -EINVAL; since 6.2,
        // where an iommufd is accepted in place of a container, an fd that is neither
        // ends in "/* The FD passed is not recognized. */ ret = -EBADFD;" (group.c).
        let unrecognized: Errno = ctx.kernel < .iommufd ? .invalidArgument : .fileDescriptorInBadState
        try ctx.expectErrno(unrecognized, "an eventfd") { try set(efd.rawValue) }
        try ctx.expectErrno(unrecognized, "the group's own fd") { try set(rig.group.fd.rawValue ?? -1) }
        try ctx.expectErrno(.badFileDescriptor, "fd 100000") { try set(100_000) }
        try ctx.expectErrno(.badFileDescriptor, "fd -1") { try set(-1) }
        let s = try ctx.expectOK("GET_STATUS") { try rig.group.status() }
        try ctx.check(!s.containerSet, "a failed SET_CONTAINER left CONTAINER_SET")
    }

    static let unsetNone = c("group.unset-container.none", "UNSET_CONTAINER without a container fails EINVAL; set → unset (no device open) → unset again: OK, EINVAL") { ctx in
        let rig = try GroupRig(ctx, setContainer: false)
        try ctx.expectErrno(.invalidArgument, "UNSET without a container") { try rig.group.unsetContainer() }
        try ctx.step("SET_CONTAINER") { try rig.group.setContainer(rig.container) }
        try ctx.expectOK("UNSET") { try rig.group.unsetContainer() }
        try ctx.expectErrno(.invalidArgument, "UNSET again") { try rig.group.unsetContainer() }
    }

    static let groupDeviceBind = c("group.device.cdev-ioctls", "a device fd from GET_DEVICE_FD cannot BIND_IOMMUFD (EINVAL, device_cdev.c:82); ATTACH/DETACH on it are unknown ioctls (ENOTTY)",
                                   requires: needs.union([.iommufd])) { ctx in
        let rig = try GroupRig(ctx, compat: true)
        let dev = try ctx.step("GET_DEVICE_FD") { try rig.group.deviceFD(rig.address) }
        let iommufd = try ctx.openIOMMUFD()
        try ctx.expectErrno(.invalidArgument, "BIND") { try dev.bind(iommufd: iommufd) }
        let ioas = try ctx.step("IOAS_ALLOC") { try iommufd.allocIOAS() }
        try ctx.expectErrno(.inappropriateIOCTLForDevice, "ATTACH") { try dev.attach(ioas.id) }
        try ctx.expectErrno(.inappropriateIOCTLForDevice, "DETACH") { try dev.detach() }
        let info = try ctx.expectOK("GET_INFO works on the group-opened device") { try dev.info() }
        try ctx.check(info.flags.contains(.pci), "no FLAGS_PCI")
    }

    static let groupHotReset = c("group.hot-reset-info", "GET_PCI_HOT_RESET_INFO on a group-opened edu on the root bus fails ENODEV: no slot or bus reset (group on the compat container)",
                                 requires: needs.union([.iommufd])) { ctx in
        let rig = try GroupRig(ctx, compat: true)
        try ctx.check(rig.address.hasPrefix("0000:00:"), "the first edu \(rig.address) is not on the root bus")
        let dev = try ctx.step("GET_DEVICE_FD") { try rig.group.deviceFD(rig.address) }
        try ctx.expectErrno(.operationNotSupportedByDevice, "HOT_RESET_INFO") {
            try dev.hotResetInfo()
        }
    }

    static let setIOMMUNoGroup = c("group.set-iommu-no-group", "SET_IOMMU on a container with no group: EINVAL on /dev/vfio/vfio (container.c), ENODEV on the iommufd compat container (no compat IOAS)",
                                   requires: [.vfioContainer, .iommufd]) { ctx in
        let native = try ctx.step("open /dev/vfio/vfio") { try VFIOContainer.open() }
        try ctx.expectErrno(.invalidArgument, "type1 container") { try native.setIOMMU(.type1v2) }
        let compat = try ctx.step("open /dev/iommu") { try VFIOContainer.openIOMMUFDCompat() }
        try ctx.expectErrno(.operationNotSupportedByDevice, "compat container") { try compat.setIOMMU(.type1v2) }
        try ctx.checkEqual(try ctx.step("API version (type1)") { try native.apiVersion() }, 0, "VFIO_API_VERSION")
        try ctx.checkEqual(try ctx.step("API version (compat)") { try compat.apiVersion() }, 0, "VFIO_API_VERSION")
    }

    static let unknownBeforeSetIOMMU = c("group.container-ioctl-before-set-iommu", "a container ioctl the container layer does not handle itself, before SET_IOMMU: EINVAL on /dev/vfio/vfio (no driver yet), ENOTTY on iommufd compat; MAP_DMA then: EINVAL vs ENODEV",
                                         requires: [.vfioContainer, .iommufd]) { ctx in
        let native = try ctx.step("open /dev/vfio/vfio") { try VFIOContainer.open() }
        let compat = try ctx.step("open /dev/iommu") { try VFIOContainer.openIOMMUFDCompat() }
        let unknown = IoctlRequest("VFIO_UNDEFINED(0x3b7e)", 0x3b7e)
        try ctx.expectErrno(.invalidArgument, "unknown on type1") { try native.fd.perform(unknown, value: 0) }
        try ctx.expectErrno(.inappropriateIOCTLForDevice, "unknown on compat") { try compat.fd.perform(unknown, value: 0) }
        let buf = try DMABuffer(size: 4096)
        try ctx.expectErrno(.invalidArgument, "MAP_DMA on type1 before SET_IOMMU") {
            try native.mapDMA(buf.bytes, iova: 0x10_0000)
        }
        try ctx.expectErrno(.operationNotSupportedByDevice, "MAP_DMA on compat before any IOAS") {
            try compat.mapDMA(buf.bytes, iova: 0x10_0000)
        }
    }

    static let isolatedMSI = c("group.type1-isolated-msi", "native type1 SET_IOMMU succeeds only for groups with isolated MSI (interrupt remapping: VT-d, AMD) unless vfio_iommu_type1.allow_unsafe_interrupts; virtio-iommu has none: EPERM") { ctx in
        let rig = try GroupRig(ctx, setIOMMU: false)
        let unsafe = firstByte("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts") == UInt8(ascii: "Y")
        if ctx.profile == "virtio" && !unsafe {
            try ctx.expectErrno(.notPermitted, "SET_IOMMU type1v2") { try rig.container.setIOMMU(.type1v2) }
            try ctx.expectErrno(.notPermitted, "SET_IOMMU type1") { try rig.container.setIOMMU(.type1) }
        } else {
            try ctx.expectOK("SET_IOMMU type1v2") { try rig.container.setIOMMU(.type1v2) }
        }
    }

    static func firstByte(_ path: String) -> UInt8? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        let c = fgetc(f)
        return c < 0 ? nil : UInt8(c)
    }
}
