import IOMMUFD
import VFIO

/// The five ways a userspace driver gets DMA mappings for a device (the kernel VFIO selftests' modes).
public enum VFIOMode: String, Sendable, CaseIterable {
    case type1, type1v2
    case compatType1 = "compat-type1"
    case compatType1v2 = "compat-type1v2"
    case native

    var containerIOMMU: VFIOExtension { self == .type1 || self == .compatType1 ? .type1 : .type1v2 }

    /// The first kernel with this path: the legacy type1 container needs no iommufd
    /// (runs on 6.1), the iommufd compat container needs iommufd (6.2), native the cdev (6.6).
    public var since: KernelVersion {
        switch self {
        case .type1, .type1v2: .legacyVFIO
        case .compatType1, .compatType1v2: .iommufd
        case .native: .vfioCdev
        }
    }
}

/// One edu device set up for DMA in one mode: map and unmap host buffers at IOVAs,
/// and drive the device's DMA engine.
public final class DMAPath {
    public let mode: VFIOMode
    public let pci: PCIDevice
    public let edu: EduDevice
    let backend: Backend

    enum Backend {
        case native(NativeSetup)
        case container(ContainerSetup)
    }

    /// The iommufd objects behind the native mode.
    public final class NativeSetup {
        public let iommufd: IOMMUFD
        public var ioas: IOAS
        public let deviceID: IOMMUFDDeviceID
        public let attachedHWPT: HWPTID
        init(iommufd: consuming IOMMUFD, ioas: consuming IOAS, deviceID: IOMMUFDDeviceID, hwpt: HWPTID) {
            self.iommufd = iommufd; self.ioas = ioas; self.deviceID = deviceID; self.attachedHWPT = hwpt
        }
    }

    /// The container and group behind the type1 and compat modes.
    public final class ContainerSetup {
        public let container: VFIOContainer
        public let group: VFIOGroup
        init(container: consuming VFIOContainer, group: consuming VFIOGroup) {
            self.container = container; self.group = group
        }
    }

    /// Opens `pci` (an edu bound to vfio-pci) in `mode`. Each step that fails names itself.
    public convenience init(mode: VFIOMode, pci: PCIDevice) throws {
        func step<T: ~Copyable>(_ what: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch { throw CaseFailure("\(mode.rawValue) setup, \(what): \(error)") }
        }
        let device: VFIODevice
        let backend: Backend
        switch mode {
        case .native:
            guard let cdev = pci.vfioCdevPath else { throw CaseSkip("\(pci.address) has no VFIO cdev") }
            let iommufd = try step("open /dev/iommu") { try IOMMUFD.open() }
            device = try step("open \(cdev)") { try VFIODevice.openCdev(cdev) }
            let id = try step("BIND_IOMMUFD") { try device.bind(iommufd: iommufd) }
            let ioas = try step("IOAS_ALLOC") { try iommufd.allocIOAS() }
            let hwpt = try step("ATTACH_IOMMUFD_PT") { try device.attach(ioas.id) }
            backend = .native(NativeSetup(iommufd: iommufd, ioas: ioas, deviceID: id, hwpt: hwpt))
        case .type1, .type1v2, .compatType1, .compatType1v2:
            guard let groupNumber = pci.iommuGroup else { throw CaseSkip("\(pci.address) has no IOMMU group") }
            let compat = mode == .compatType1 || mode == .compatType1v2
            let container = try step(compat ? "open /dev/iommu as container" : "open /dev/vfio/vfio") {
                compat ? try VFIOContainer.openIOMMUFDCompat() : try VFIOContainer.open()
            }
            let group = try step("open group \(groupNumber)") { try VFIOGroup.open(groupNumber) }
            try step("GROUP_SET_CONTAINER") { try group.setContainer(container) }
            do throws(IOMMUFDError) {
                try container.setIOMMU(mode.containerIOMMU)
            } catch where !compat && error.errno == .notPermitted {
                // type1 refuses an IOMMU without interrupt remapping (virtio-iommu) unless
                // vfio_iommu_type1.allow_unsafe_interrupts=1: the kernel's rule, not a failure.
                throw CaseSkip("type1 SET_IOMMU: EPERM: this IOMMU has no isolated MSI and "
                               + "vfio_iommu_type1.allow_unsafe_interrupts is 0 (checked by group.type1-isolated-msi)")
            } catch {
                throw CaseFailure("\(mode.rawValue) setup, SET_IOMMU \(mode.containerIOMMU): \(error)")
            }
            device = try step("GROUP_GET_DEVICE_FD") { try group.deviceFD(pci.address) }
            backend = .container(ContainerSetup(container: container, group: group))
        }
        try self.init(mode: mode, pci: pci, device: device, backend: backend)
    }

    /// A second device of `native`'s group: bound to the same iommufd, attached to the same IOAS.
    public convenience init(sharing native: NativeSetup, pci: PCIDevice) throws {
        guard let cdev = pci.vfioCdevPath else { throw CaseSkip("\(pci.address) has no VFIO cdev") }
        func fail(_ e: IOMMUFDError) -> CaseFailure { CaseFailure("native setup of \(pci.address) beside its group peer: \(e)") }
        let device: VFIODevice
        do { device = try VFIODevice.openCdev(cdev) } catch { throw fail(error) }
        do throws(IOMMUFDError) {
            _ = try device.bind(iommufd: native.iommufd)
            _ = try device.attach(native.ioas.id)
        } catch { throw fail(error) }
        try self.init(mode: .native, pci: pci, device: device, backend: .native(native))
    }

    /// A second device of `other`'s group, from the same group fd (so the same container).
    public convenience init(sharingGroupOf other: DMAPath, pci: PCIDevice) throws {
        guard let setup = other.containerSetup else { throw CaseFailure("\(other.mode.rawValue) has no container") }
        let device: VFIODevice
        do { device = try setup.group.deviceFD(pci.address) } catch {
            throw CaseFailure("GROUP_GET_DEVICE_FD \(pci.address): \(error)")
        }
        try self.init(mode: other.mode, pci: pci, device: device, backend: .container(setup))
    }

    init(mode: VFIOMode, pci: PCIDevice, device: consuming VFIODevice, backend: Backend) throws {
        self.mode = mode
        self.pci = pci
        self.backend = backend
        do { edu = try EduDevice(device, dmaMask: .max) } catch {
            throw CaseFailure("\(mode.rawValue) setup of \(pci.address), edu init (id, liveness, bus master): \(error)")
        }
    }

    public var native: NativeSetup? { if case .native(let n) = backend { n } else { nil } }
    public var containerSetup: ContainerSetup? { if case .container(let c) = backend { c } else { nil } }

    /// Maps `length` bytes of `buffer` at `iova` through this mode's uAPI.
    public func map(_ buffer: DMABuffer, offset: Int = 0, length: Int, iova: UInt64,
                    write: Bool = true) throws(IOMMUFDError) {
        let region = buffer.slice(offset, length)
        switch backend {
        case .native(let n): try n.ioas.map(region, at: iova, access: write ? .readWrite : .read)
        case .container(let c): try c.container.mapDMA(region, iova: iova, access: write ? .readWrite : .read)
        }
    }

    /// Unmaps `length` bytes at `iova`; returns the bytes the kernel says it unmapped.
    @discardableResult
    public func unmap(iova: UInt64, length: UInt64) throws(IOMMUFDError) -> UInt64 {
        switch backend {
        case .native(let n): return try n.ioas.unmap(iova: iova, length: length)
        case .container(let c): return try c.container.unmapDMA(iova: iova, size: length)
        }
    }

    /// Copies `length` bytes RAM(srcIOVA) → device → RAM(dstIOVA), waiting for each leg.
    public func roundTrip(from src: UInt64, to dst: UInt64, length: Int) throws(IOMMUFDError) {
        try edu.copyToDevice(from: src, deviceOffset: 0, length: length)
        try edu.wait(timeout: .seconds(10))
        try edu.copyFromDevice(deviceOffset: 0, to: dst, length: length)
        try edu.wait(timeout: .seconds(10))
    }
}
