import CIOMMUFD
import Glibc
import IOMMUFD
import Synchronization
@testable import VFIO

/// MOCK kernel for host tests: plays /dev/iommu (IOAS alloc/map), a VFIO cdev or
/// group-opened vfio-pci device with an emulated QEMU edu behind BAR0, a type1
/// container (native or iommufd compat) and a group. Records every request and the
/// argument bytes as sent, so tests can check each struct's encoding.
/// Follows the 6.12 rules of the 6.12 kernel sources (flags must be 0, EINVAL before bind...).
final class MockVFIOKernel: IoctlDriver, DeviceFileIO, @unchecked Sendable {
    enum Role: Equatable { case iommufd, cdev, groupDevice, container(compat: Bool), group }

    struct Call: Equatable {
        let fd: Int32
        let request: UInt
        /// The argument as sent: argsz/size bytes of a struct, or the value's bytes.
        let bytes: [UInt8]
        let value: UInt?
    }

    struct Region { var flags: UInt32; var size: UInt64; var caps: [UInt8] = [] }

    struct State {
        var roles: [Int32: Role] = [:]
        var calls: [Call] = []
        var closed: [Int32] = []
        var bound: Set<Int32> = []
        var nextID: UInt32 = 1
        var ioas: Set<UInt32> = []
        /// iova → (length, user VA): what the device's DMA may reach.
        var iommu: [UInt64: (UInt64, UInt64)] = [:]
        var groupContainer: Int32?
        var iommuSet = false
        var config = [UInt8](repeating: 0, count: 256)
        var edu = EduState()
        var faults: [UInt64] = []
        var hotResetDevices = 2
    }

    struct EduState {
        var liveness: UInt32 = 0
        var irqStatus: UInt32 = 0
        var src: UInt64 = 0, dst: UInt64 = 0, cnt: UInt64 = 0, cmd: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        var pollsLeft = 0
    }

    let state = Mutex(State())
    /// Region table; index 0 = edu BAR0, 7 = config. Offsets are index << 40 like vfio-pci.
    var regions: [UInt32: Region] = [
        0: Region(flags: 0x7, size: 1 << 20),
        7: Region(flags: 0x3, size: 256),
    ]
    /// Reads of the DMA command register that still report "running".
    var dmaPolls = 2
    /// What edu's identification register answers.
    var eduID: UInt64 = 0x0100_00ed
    /// Real descriptors the mock closes for the test (a temp file standing in for a device).
    var realFDs: Set<Int32> = []

    init() {
        state.withLock { s in
            s.config.putLE(UInt16(0x1234), at: 0)
            s.config.putLE(UInt16(0x11e8), at: 2)
        }
    }

    func add(_ fd: Int32, _ role: Role) { state.withLock { $0.roles[fd] = role } }
    var calls: [Call] { state.withLock { $0.calls } }
    func calls(_ r: IoctlRequest) -> [Call] { calls.filter { $0.request == r.number } }
    func last(_ r: IoctlRequest) -> Call? { calls(r).last }

    // MARK: IoctlDriver

    func close(fd: Int32) -> Int32 {
        state.withLock { $0.closed.append(fd) }
        if realFDs.contains(fd) { Glibc.close(fd) }
        return 0
    }

    func ioctl(fd: Int32, request: UInt, argument: UnsafeMutableRawPointer?) -> Int32 {
        state.withLock { s in
            guard let role = s.roles[fd] else { return -EBADF }
            s.calls.append(record(role, request, argument))
            switch role {
            case .iommufd: return iommufd(&s, request, argument)
            case .cdev, .groupDevice: return device(&s, fd, role, request, argument)
            case .container(let compat): return container(&s, compat, request, argument)
            case .group: return group(&s, request, argument)
            }
        }
    }

    private func record(_ role: Role, _ request: UInt, _ p: UnsafeMutableRawPointer?) -> Call {
        let fd: Int32 = -1
        let byValue: Set<UInt> = [IoctlRequest.vfioCheckExtension.number, IoctlRequest.vfioSetIOMMU.number,
                                  IoctlRequest.vfioGetAPIVersion.number, IoctlRequest.vfioDeviceReset.number,
                                  IoctlRequest.vfioGroupUnsetContainer.number]
        if role != .cdev && role != .groupDevice && byValue.contains(request) || request == IoctlRequest.vfioDeviceReset.number && role != .group {
            return Call(fd: fd, request: request, bytes: [], value: UInt(bitPattern: p))
        }
        guard let p else { return Call(fd: fd, request: request, bytes: [], value: 0) }
        if role == .group && request == IoctlRequest.vfioGroupSetContainer.number {
            return Call(fd: fd, request: request, bytes: Array(UnsafeRawBufferPointer(start: p, count: 4)), value: nil)
        }
        if role == .group && request == IoctlRequest.vfioGroupGetDeviceFD.number {
            let s = p.assumingMemoryBound(to: UInt8.self)
            return Call(fd: fd, request: request, bytes: Array(UnsafeBufferPointer(start: s, count: strlen(p.assumingMemoryBound(to: CChar.self)))), value: nil)
        }
        let size = min(Int(p.load(as: UInt32.self)), 4096)
        return Call(fd: fd, request: request, bytes: Array(UnsafeRawBufferPointer(start: p, count: size)), value: nil)
    }

    // MARK: /dev/iommu

    private func iommufd(_ s: inout State, _ request: UInt, _ p: UnsafeMutableRawPointer?) -> Int32 {
        guard let p else { return -EFAULT }
        switch request {
        case IoctlRequest.ioasAlloc.number:
            let id = s.nextID; s.nextID += 1
            s.ioas.insert(id)
            p.storeBytes(of: id, toByteOffset: 8, as: UInt32.self)
            return 0
        case IoctlRequest.ioasMap.number:
            let cmd = p.load(as: iommu_ioas_map.self)
            guard s.ioas.contains(cmd.ioas_id) else { return -ENOENT }
            if s.iommu.contains(where: { $0.key < cmd.iova + cmd.length && cmd.iova < $0.key + $0.value.0 }) { return -EEXIST }
            s.iommu[cmd.iova] = (cmd.length, cmd.user_va)
            return 0
        case IoctlRequest.destroy.number:
            let id = p.load(fromByteOffset: 4, as: UInt32.self)
            return s.ioas.remove(id) == nil ? -ENOENT : 0
        default:
            return -ENOTTY
        }
    }

    // MARK: device

    private func device(_ s: inout State, _ fd: Int32, _ role: Role, _ request: UInt, _ p: UnsafeMutableRawPointer?) -> Int32 {
        let isCdevOnly = [IoctlRequest.vfioDeviceBindIOMMUFD, .vfioDeviceAttachIOMMUFDPT, .vfioDeviceDetachIOMMUFDPT]
            .contains { $0.number == request }
        if role == .groupDevice && isCdevOnly {
            return request == IoctlRequest.vfioDeviceBindIOMMUFD.number ? -EINVAL : -ENOTTY
        }
        if request == IoctlRequest.vfioDeviceBindIOMMUFD.number {
            guard let p else { return -EFAULT }
            let cmd = p.load(as: vfio_device_bind_iommufd.self)
            // 6.12: argsz >= 16, flags == 0, fd >= 0; a second bind is EINVAL.
            if cmd.argsz < 16 || cmd.flags != 0 || cmd.iommufd < 0 || s.bound.contains(fd) { return -EINVAL }
            guard s.roles[cmd.iommufd] == .iommufd else { return -EBADF }
            s.bound.insert(fd)
            p.storeBytes(of: s.nextID, toByteOffset: 12, as: UInt32.self)
            s.nextID += 1
            return 0
        }
        // Every other device ioctl needs a bound cdev (vfio_main.c:1280).
        if role == .cdev && !s.bound.contains(fd) { return -EINVAL }
        switch request {
        case IoctlRequest.vfioDeviceAttachIOMMUFDPT.number:
            guard let p else { return -EFAULT }
            let cmd = p.load(as: vfio_device_attach_iommufd_pt.self)
            if cmd.argsz < 12 || cmd.flags != 0 { return -EINVAL }
            guard s.ioas.contains(cmd.pt_id) else { return -ENOENT }
            p.storeBytes(of: cmd.pt_id + 100, toByteOffset: 8, as: UInt32.self) // the auto-domain HWPT
            return 0
        case IoctlRequest.vfioDeviceDetachIOMMUFDPT.number:
            guard let p else { return -EFAULT }
            return p.load(fromByteOffset: 4, as: UInt32.self) != 0 ? -EINVAL : 0
        case IoctlRequest.vfioDeviceGetInfo.number:
            guard let p else { return -EFAULT }
            p.storeBytes(of: UInt32(VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI), toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: UInt32(9), toByteOffset: 8, as: UInt32.self)
            p.storeBytes(of: UInt32(5), toByteOffset: 12, as: UInt32.self)
            return 0
        case IoctlRequest.vfioDeviceGetRegionInfo.number:
            guard let p else { return -EFAULT }
            var info = p.load(as: vfio_region_info.self)
            guard info.argsz >= 32, let r = regions[info.index] else { return -EINVAL }
            info.flags = r.flags
            info.size = r.size
            info.offset = UInt64(info.index) << 40
            if !r.caps.isEmpty {
                // vfio_pci_ioctl_get_region_info: too small → report the size needed, no chain.
                info.flags |= UInt32(VFIO_REGION_INFO_FLAG_CAPS)
                let needed = UInt32(32 + r.caps.count)
                if info.argsz < needed {
                    info.argsz = needed
                    info.cap_offset = 0
                } else {
                    info.cap_offset = 32
                    for (i, b) in r.caps.enumerated() { p.storeBytes(of: b, toByteOffset: 32 + i, as: UInt8.self) }
                }
            }
            p.storeBytes(of: info, as: vfio_region_info.self)
            return 0
        case IoctlRequest.vfioDeviceGetIRQInfo.number:
            guard let p else { return -EFAULT }
            let index = p.load(fromByteOffset: 8, as: UInt32.self)
            guard index < 5 else { return -EINVAL }
            p.storeBytes(of: UInt32(VFIO_IRQ_INFO_EVENTFD), toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: UInt32(index == 1 || index == 0 ? 1 : 0), toByteOffset: 12, as: UInt32.self)
            return 0
        case IoctlRequest.vfioDeviceSetIRQs.number:
            guard let p else { return -EFAULT }
            return p.load(fromByteOffset: 8, as: UInt32.self) < 5 ? 0 : -EINVAL
        case IoctlRequest.vfioDeviceReset.number:
            return 0
        case IoctlRequest.vfioDeviceGetPCIHotResetInfo.number:
            guard let p else { return -EFAULT }
            let argsz = Int(p.load(as: UInt32.self))
            let n = s.hotResetDevices
            p.storeBytes(of: UInt32(n), toByteOffset: 8, as: UInt32.self)
            if argsz < 12 + 8 * n { return -ENOSPC }
            p.storeBytes(of: UInt32(VFIO_PCI_HOT_RESET_FLAG_DEV_ID), toByteOffset: 4, as: UInt32.self)
            for i in 0..<n {
                p.storeBytes(of: UInt32(i + 1), toByteOffset: 12 + 8 * i, as: UInt32.self)
                p.storeBytes(of: UInt16(0), toByteOffset: 16 + 8 * i, as: UInt16.self)
                p.storeBytes(of: UInt8(0), toByteOffset: 18 + 8 * i, as: UInt8.self)
                p.storeBytes(of: UInt8((3 << 3) | i), toByteOffset: 19 + 8 * i, as: UInt8.self)
            }
            return 0
        case IoctlRequest.vfioDeviceFeature.number:
            guard let p else { return -EFAULT }
            let flags = p.load(fromByteOffset: 4, as: UInt32.self)
            let index = flags & 0xffff
            if flags & ~UInt32(0x7ffff) != 0 { return -EINVAL }
            return index == UInt32(VFIO_DEVICE_FEATURE_BUS_MASTER) ? 0 : -ENOTTY
        default:
            return -ENOTTY
        }
    }

    // MARK: container

    private func container(_ s: inout State, _ compat: Bool, _ request: UInt, _ p: UnsafeMutableRawPointer?) -> Int32 {
        let value = UInt(bitPattern: p)
        switch request {
        case IoctlRequest.vfioGetAPIVersion.number: return 0
        case IoctlRequest.vfioCheckExtension.number:
            return [UInt(VFIO_TYPE1_IOMMU), UInt(VFIO_TYPE1v2_IOMMU), UInt(VFIO_UNMAP_ALL)].contains(value) ? 1 : 0
        case IoctlRequest.vfioSetIOMMU.number:
            if s.groupContainer == nil { return compat ? -ENODEV : -EINVAL }
            s.iommuSet = true
            return 0
        default: break
        }
        if !s.iommuSet { return compat ? -ENOTTY : -EINVAL }
        guard let p else { return -EFAULT }
        switch request {
        case IoctlRequest.vfioIOMMUGetInfo.number:
            // Caps: IOVA ranges (2) at 24, then DMA avail at 24+48.
            var caps = [UInt8](repeating: 0, count: 48 + 12)
            caps.putLE(UInt16(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE), at: 0)
            caps.putLE(UInt16(1), at: 2)
            caps.putLE(UInt32(24 + 48), at: 4)
            caps.putLE(UInt32(2), at: 8)
            caps.putLE(UInt64(0), at: 16); caps.putLE(UInt64(0xfedf_ffff), at: 24)
            caps.putLE(UInt64(0xfef0_0000), at: 32); caps.putLE(UInt64(0x7f_ffff_ffff), at: 40)
            caps.putLE(UInt16(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL), at: 48)
            caps.putLE(UInt16(1), at: 50)
            caps.putLE(UInt32(0), at: 52)
            caps.putLE(UInt32(65535), at: 56)
            let argsz = Int(p.load(as: UInt32.self))
            p.storeBytes(of: UInt32(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS), toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: UInt64(0x4020_1000), toByteOffset: 8, as: UInt64.self)
            if argsz < 24 + caps.count {
                p.storeBytes(of: UInt32(24 + caps.count), as: UInt32.self)
                p.storeBytes(of: UInt32(0), toByteOffset: 16, as: UInt32.self)
            } else {
                p.storeBytes(of: UInt32(24), toByteOffset: 16, as: UInt32.self)
                for (i, b) in caps.enumerated() { p.storeBytes(of: b, toByteOffset: 24 + i, as: UInt8.self) }
            }
            return 0
        case IoctlRequest.vfioIOMMUMapDMA.number:
            let cmd = p.load(as: vfio_iommu_type1_dma_map.self)
            if cmd.flags & 3 == 0 || cmd.size == 0 { return -EINVAL }
            if cmd.iova.addingReportingOverflow(cmd.size).overflow { return compat ? -EOVERFLOW : -EINVAL }
            if s.iommu.contains(where: { $0.key < cmd.iova + cmd.size && cmd.iova < $0.key + $0.value.0 }) { return -EEXIST }
            s.iommu[cmd.iova] = (cmd.size, cmd.vaddr)
            return 0
        case IoctlRequest.vfioIOMMUUnmapDMA.number:
            var cmd = p.load(as: vfio_iommu_type1_dma_unmap.self)
            var total: UInt64 = 0
            for (iova, m) in s.iommu where cmd.flags & UInt32(VFIO_DMA_UNMAP_FLAG_ALL) != 0
                || (iova >= cmd.iova && iova + m.0 <= cmd.iova + cmd.size) {
                total += m.0
                s.iommu[iova] = nil
            }
            cmd.size = total
            p.storeBytes(of: cmd, as: vfio_iommu_type1_dma_unmap.self)
            return 0
        case IoctlRequest.vfioIOMMUDirtyPages.number:
            return compat ? -ENOTTY : 0
        default:
            return compat ? -ENOTTY : -EINVAL
        }
    }

    // MARK: group

    static let groupDeviceFD: Int32 = 4242

    private func group(_ s: inout State, _ request: UInt, _ p: UnsafeMutableRawPointer?) -> Int32 {
        switch request {
        case IoctlRequest.vfioGroupGetStatus.number:
            guard let p else { return -EFAULT }
            let flags = UInt32(VFIO_GROUP_FLAGS_VIABLE) | (s.groupContainer != nil ? UInt32(VFIO_GROUP_FLAGS_CONTAINER_SET) : 0)
            p.storeBytes(of: flags, toByteOffset: 4, as: UInt32.self)
            return 0
        case IoctlRequest.vfioGroupSetContainer.number:
            guard let p else { return -EFAULT }
            if s.groupContainer != nil { return -EINVAL }
            let c = p.load(as: Int32.self)
            guard case .container = s.roles[c] else { return -EBADF }
            s.groupContainer = c
            return 0
        case IoctlRequest.vfioGroupUnsetContainer.number:
            if s.groupContainer == nil { return -EINVAL }
            s.groupContainer = nil
            s.iommuSet = false
            return 0
        case IoctlRequest.vfioGroupGetDeviceFD.number:
            guard let p else { return -EFAULT }
            if !s.iommuSet { return -EINVAL }
            guard String(cString: p.assumingMemoryBound(to: CChar.self)) == "0000:00:03.0" else { return -ENODEV }
            s.roles[Self.groupDeviceFD] = .groupDevice
            return Self.groupDeviceFD
        default:
            return -ENOTTY
        }
    }
}
