import CIOMMUFD
import IOMMUFD
import VFIO
import SystemPackage

/// Errno names → values (the reverse of `IOMMUFDError.symbol`).
public enum ErrnoNames {
    static let table: [String: Int32] = [
        "EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6, "E2BIG": 7, "EBADF": 9,
        "EAGAIN": 11, "EWOULDBLOCK": 11, "ENOMEM": 12, "EACCES": 13, "EFAULT": 14, "EBUSY": 16, "EEXIST": 17,
        "ENODEV": 19, "EINVAL": 22, "EMFILE": 24, "ENOTTY": 25, "ENOSPC": 28, "ERANGE": 34, "EOVERFLOW": 75,
        "EBADFD": 77, "EMSGSIZE": 90, "EOPNOTSUPP": 95, "ENOTSUP": 95, "EADDRINUSE": 98, "ETIMEDOUT": 110,
    ]

    public static func value(of name: String) -> Int32? { table[name.uppercased()] }
}

/// Which VFIO requests go to which kind of fd, for probing.
public enum VFIORequestGroups {
    public static let container: [IoctlRequest] = [
        .vfioGetAPIVersion, .vfioCheckExtension, .vfioSetIOMMU, .vfioIOMMUGetInfo, .vfioIOMMUMapDMA,
        .vfioIOMMUUnmapDMA, .vfioIOMMUDirtyPages,
    ]
    public static let device: [IoctlRequest] = [
        .vfioDeviceBindIOMMUFD, .vfioDeviceGetInfo, .vfioDeviceGetRegionInfo, .vfioDeviceGetIRQInfo,
        .vfioDeviceSetIRQs, .vfioDeviceReset, .vfioDeviceGetPCIHotResetInfo, .vfioDevicePCIHotReset,
        .vfioDeviceIOEventFD, .vfioDeviceFeature, .vfioDeviceAttachIOMMUFDPT, .vfioDeviceDetachIOMMUFDPT,
    ]
}

/// Finds requests by name or number for step files and traces.
public enum RequestCatalog {
    public static var all: [IoctlRequest] { IoctlRequest.allIOMMUFD + [.testCmd] + IoctlRequest.allVFIO }

    /// `IOAS_MAP`, `IOMMU_IOAS_MAP`, `ioas-map`, `0x85`, `0x3b85`.
    public static func find(_ text: String) -> IoctlRequest? {
        let upper = text.uppercased().map { $0 == "-" ? "_" : $0 }.reduce(into: "") { $0.append($1) }
        if let byName = all.first(where: { $0.name == upper || $0.name == "IOMMU_" + upper || $0.name == "VFIO_" + upper }) {
            return byName
        }
        guard let n = Numbers.parse(text) else { return nil }
        let iommufdOnly = IoctlRequest.allIOMMUFD + [.testCmd]
        return iommufdOnly.first(where: { $0.number == UInt(n) || $0.number & 0xff == UInt(n) })
            ?? all.first(where: { $0.number == UInt(n) })
    }

    /// The request with this number, for naming trace events that carry only numbers.
    public static func byNumber(_ number: UInt) -> IoctlRequest? { all.first(where: { $0.number == number }) }
}
