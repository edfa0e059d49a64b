import IOMMUFD
import SystemPackage
import VFIO

// The legacy VFIO flow (group + container, type1 uAPI) as steps, one ioctl per step:
//
//   container     as=C [kind=compat|type1]             open /dev/iommu (iommufd compat) or /dev/vfio/vfio
//   group         as=G (device=auto|BDF | number=N) container=C
//                                                      open /dev/vfio/N, VFIO_GROUP_SET_CONTAINER
//   set-iommu     container=C [type=type1v2|type1|N]   VFIO_SET_IOMMU
//   get-device-fd as=D group=G [device=BDF]            VFIO_GROUP_GET_DEVICE_FD; this is what attaches
//                                                      the device to the container's IOMMU domain
//   map-dma       container=C buffer=B [offset=N] [length=N] iova=N [access=rw|r|w|none] [raw=1]
//   unmap-dma     container=C (iova=N length=N | all)
//
// map-dma goes through the library's checked `mapDMA` unless raw=1; access=none implies raw=1,
// since the library refuses a map without READ/WRITE before the syscall.

/// One step of the legacy VFIO (group/container) flow.
public enum LegacyVFIOStep: Sendable, Equatable {
    /// The node that serves as the container.
    public enum ContainerKind: String, Sendable, Equatable {
        /// `/dev/iommu`: iommufd answers the type1 container ioctls (drivers/iommu/iommufd/vfio_compat.c).
        case compat
        /// `/dev/vfio/vfio`: VFIO's own container (or iommufd's, with CONFIG_IOMMUFD_VFIO_CONTAINER).
        case type1

        public var path: String { self == .compat ? "/dev/iommu" : "/dev/vfio/vfio" }
    }

    /// How a group step names its group.
    public enum GroupSource: Sendable, Equatable {
        /// The group of this PCI address, or of the first vfio-pci device in a viable group (`auto`).
        case device(String)
        /// `/dev/vfio/N`.
        case number(Int)
    }

    case container(name: String, kind: ContainerKind)
    case group(name: String, source: GroupSource, container: String)
    case setIOMMU(container: String, type: VFIOExtension)
    /// `address` nil: the device the group step found the group from.
    case getDeviceFD(name: String, group: String, address: String?)
    /// `raw`: sent as is through `mapDMARaw`, skipping `mapDMA`'s checks.
    case mapDMA(container: String, buffer: String, offset: UInt64, length: UInt64?, iova: UInt64,
                access: DMAAccess, raw: Bool)
    case unmapDMA(container: String, iova: UInt64, length: UInt64)
    /// VFIO_DMA_UNMAP_FLAG_ALL.
    case unmapAllDMA(container: String)

    var needsDevice: Bool {
        switch self {
        case .group, .getDeviceFD: return true
        default: return false
        }
    }

    static let grammar: [(step: String, usage: String)] = [
        ("container", "as=NAME [kind=compat|type1]  (compat: /dev/iommu, the default; type1: /dev/vfio/vfio)"),
        ("group", "as=NAME (device=auto|BDF | number=N) container=C"),
        ("set-iommu", "container=C [type=type1v2|type1|N]"),
        ("get-device-fd", "as=NAME group=G [device=BDF]"),
        ("map-dma", "container=C buffer=B [offset=N] [length=N] iova=N [access=rw|r|w|none] [raw=1]  (access=none implies raw=1)"),
        ("unmap-dma", "container=C (iova=N length=N | all)"),
    ]
}

extension DMAAccess {
    /// The VFIO bits for the access a step file names (the same words as IOAS_MAP's).
    init(_ access: MapAccess) {
        self = []
        if access.contains(.read) { insert(.read) }
        if access.contains(.write) { insert(.write) }
    }
}

extension StepParser {
    /// Parses a legacy VFIO step; nil when `step` is not one.
    mutating func parseLegacyVFIOStep(_ step: String, _ a: inout StepArguments) throws(StepFileError) -> LegacyVFIOStep? {
        switch step {
        case "container":
            let kindText = a.take("kind") ?? "compat"
            guard let kind = LegacyVFIOStep.ContainerKind(rawValue: kindText.lowercased()) else {
                throw fail(a.line, "bad container kind '\(kindText)': use compat (/dev/iommu) or type1 (/dev/vfio/vfio)")
            }
            return .container(name: try define(try a.require("as", step), .container, a), kind: kind)

        case "group":
            let container = try use(try a.require("container", step), .container, a)
            let source: LegacyVFIOStep.GroupSource
            switch (a.take("device"), a.take("number")) {
            case (let device?, nil): source = .device(device)
            case (nil, let text?):
                guard let n = Numbers.parse(text), n <= UInt64(Int32.max) else {
                    throw fail(a.line, "bad group number '\(text)'")
                }
                source = .number(Int(n))
            case (nil, nil): throw fail(a.line, "missing argument 'device' (or number=) for step 'group'")
            case (.some, .some): throw fail(a.line, "give device= or number=, not both")
            }
            let name = try define(try a.require("as", step), .group, a)
            if case .number = source { groupsOpenedByNumber.insert(name) } else { groupsOpenedByNumber.remove(name) }
            return .group(name: name, source: source, container: container)

        case "set-iommu":
            let container = try use(try a.require("container", step), .container, a)
            let text = a.take("type") ?? "type1v2"
            let type: VFIOExtension
            switch normalize(text) {
            case "type1v2", "v2": type = .type1v2
            case "type1", "v1": type = .type1
            default:
                guard let n = Numbers.parse(text), n <= UInt32.max else {
                    throw fail(a.line, "bad IOMMU type '\(text)': use type1v2, type1 or a number")
                }
                type = VFIOExtension(rawValue: UInt(n))
            }
            return .setIOMMU(container: container, type: type)

        case "get-device-fd":
            let group = try use(try a.require("group", step), .group, a)
            let address = a.take("device").map(PCIDevices.normalize)
            if address == nil && groupsOpenedByNumber.contains(group) {
                throw fail(a.line, "missing argument 'device' for step 'get-device-fd' (group '\(group)' was opened by number=)")
            }
            return .getDeviceFD(name: try define(try a.require("as", step), .device, a), group: group, address: address)

        case "map-dma":
            let container = try use(try a.require("container", step), .container, a)
            let buffer = try use(try a.require("buffer", step), .buffer, a)
            let offset = try a.optionalNumber("offset") ?? 0
            let length = try a.optionalNumber("length")
            let iova = try a.number("iova", step)
            let dmaAccess = DMAAccess(try access(&a))
            let raw = try a.flag("raw") || dmaAccess.isEmpty
            return .mapDMA(container: container, buffer: buffer, offset: offset, length: length, iova: iova,
                           access: dmaAccess, raw: raw)

        case "unmap-dma":
            let container = try use(try a.require("container", step), .container, a)
            if try a.flag("all") {
                if a.has("iova") || a.has("length") { throw fail(a.line, "unmap-dma: give 'all' or iova= length=, not both") }
                return .unmapAllDMA(container: container)
            }
            if !a.has("iova") { throw fail(a.line, "missing argument 'iova' for step 'unmap-dma' (or 'all')") }
            return .unmapDMA(container: container, iova: try a.number("iova", step), length: try a.number("length", step))

        default:
            return nil
        }
    }
}

/// The containers and groups a step file opened, by handle name; closed with the session.
final class LegacyVFIOObjects {
    final class Container {
        let container: VFIOContainer
        init(_ container: consuming VFIOContainer) { self.container = container }
    }

    final class Group {
        let group: VFIOGroup
        /// The PCI address the group was found from: GET_DEVICE_FD's default.
        let address: String?
        init(_ group: consuming VFIOGroup, address: String?) {
            self.group = group
            self.address = address
        }
    }

    var containers: [String: Container] = [:]
    var groups: [String: Group] = [:]

    var descriptors: Set<Int32> {
        Set(containers.values.compactMap { $0.container.fd.rawValue } + groups.values.compactMap { $0.group.fd.rawValue })
    }

    func container(_ name: String) throws(IOMMUFDError) -> Container {
        guard let c = containers[name] else { throw Session.missing(name, "container") }
        return c
    }

    func group(_ name: String) throws(IOMMUFDError) -> Group {
        guard let g = groups[name] else { throw Session.missing(name, "group") }
        return g
    }
}

extension StepRunner {
    func executeLegacyVFIO(_ step: LegacyVFIOStep, _ s: Session, _ collector: TraceCollector) throws(IOMMUFDError) -> [TraceRecord.Field] {
        // The session's driver plays the kernel for every fd (the real one, or a mock in tests).
        let driver = s.iommufd.fd.driver
        switch step {
        case .container(let name, let kind):
            let raw = try s.openLegacyNode(kind.path)
            collector.watch(raw)
            s.legacy.containers[name] = .init(VFIOContainer(adopting: raw, kind: kind == .compat ? .iommufdCompat : .vfio,
                                                            driver: driver))
            return [.init(name, "\(kind.path) fd=\(raw)")]

        case .group(let name, let source, let containerName):
            let container = try s.legacy.container(containerName)
            var number = 0
            var address: String?
            switch source {
            case .number(let n): number = n
            case .device(let device):
                let found = try PCIDevices.vfioGroup(for: device)
                number = found.group
                address = found.address
            }
            let path = "/dev/vfio/\(number)"
            let raw = try s.openLegacyNode(path)
            collector.watch(raw)
            let group = LegacyVFIOObjects.Group(VFIOGroup(adopting: raw, number: number, driver: driver), address: address)
            s.legacy.groups[name] = group
            try group.group.setContainer(container.container)
            return [.init(name, path + (address.map { " (group of \($0))" } ?? "") + " fd=\(raw)")]

        case .setIOMMU(let containerName, let type):
            try s.legacy.container(containerName).container.setIOMMU(type)
            return [.init("iommu", type.description)]

        case .getDeviceFD(let name, let groupName, let addressArg):
            let group = try s.legacy.group(groupName)
            guard let address = addressArg ?? group.address else {
                throw .invalid(.vfioGroupGetDeviceFD, argument: "name", "the group was opened by number: give device=BDF")
            }
            let device = try group.group.deviceFD(address)
            let raw = device.fd.rawValue ?? -1
            collector.watch(raw)
            s.devices[name] = Session.Device(device)
            return [.init(name, "\(address) fd=\(raw)")]

        case .mapDMA(let containerName, let bufferName, let offset, let length, let iova, let access, let raw):
            let container = try s.legacy.container(containerName)
            let buffer = try s.buffer(bufferName)
            let vaddr = userPointer(buffer.base) &+ offset
            let size = length ?? (buffer.size > offset ? buffer.size - offset : 0)
            if raw {
                try container.container.mapDMARaw(vaddr: vaddr, iova: iova, size: size, flags: access.rawValue)
            } else {
                try container.container.mapDMA(vaddr: vaddr, iova: iova, size: size, access: access)
            }
            return [.init("iova", Numbers.hex(iova)), .init("size", Numbers.hex(size))]

        case .unmapDMA(let containerName, let iova, let length):
            let unmapped = try s.legacy.container(containerName).container.unmapDMA(iova: iova, size: length)
            return [.init("unmapped", Numbers.hex(unmapped))]

        case .unmapAllDMA(let containerName):
            let unmapped = try s.legacy.container(containerName).container.unmapAll()
            return [.init("unmapped", Numbers.hex(unmapped))]
        }
    }
}
