/// An iommufd object id. Each object kind has its own type, so an IOAS id
/// cannot be passed where a HWPT id is expected.
public protocol ObjectID: RawRepresentable, Hashable, Sendable, CustomStringConvertible
where RawValue == UInt32 {
    init(rawValue: UInt32)
    static var kind: String { get }
}

extension ObjectID {
    public var description: String { "\(Self.kind)#\(rawValue)" }
}

/// An id that can stand where the kernel takes a page table: an IOAS or a HWPT.
public protocol PageTableID: ObjectID {}

public struct IOASID: PageTableID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static var kind: String { "ioas" }
}

public struct HWPTID: PageTableID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static var kind: String { "hwpt" }
}

/// A device bound to iommufd (the dev_id from VFIO_DEVICE_BIND_IOMMUFD or a mock domain).
/// Not `DeviceID`: SystemPackage, which this module re-exports, has a `DeviceID` (st_dev).
public struct IOMMUFDDeviceID: ObjectID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static var kind: String { "device" }
}

public struct FaultQueueID: ObjectID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static var kind: String { "fault" }
}

public struct VIOMMUID: ObjectID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static var kind: String { "viommu" }
}

public struct VDeviceID: ObjectID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static var kind: String { "vdevice" }
}

public struct VEventQueueID: ObjectID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static var kind: String { "veventq" }
}

public struct HWQueueID: ObjectID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static var kind: String { "hw_queue" }
}

/// Test-only: an in-kernel access object of the IOMMUFD_TEST mock driver.
public struct AccessID: ObjectID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static var kind: String { "access" }
}

/// Test-only: a mock device's stdev object (destroying it removes the mock device).
public struct MockStdevID: ObjectID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static var kind: String { "mock_stdev" }
}

/// Any id, for DESTROY and raw tests that pass a wrong kind on purpose.
public struct AnyObjectID: ObjectID {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ id: some ObjectID) { self.rawValue = id.rawValue }
    public static var kind: String { "object" }
}
