import CIOMMUFD
import Glibc
import SystemPackage

/// An open `/dev/iommu`. Closing it destroys every object created through it.
public struct IOMMUFD: ~Copyable {
    public let fd: KernelFD

    /// Opens the iommufd character device.
    public static func open(_ path: String = "/dev/iommu") throws(IOMMUFDError) -> IOMMUFD {
        let raw = Glibc.open(path, O_RDWR | O_CLOEXEC)
        guard raw >= 0 else {
            let err = Errno(rawValue: Glibc.errno)
            throw IOMMUFDError(ioctl: "open(\(path))", errno: err, origin: .system(call: "open"), argument: "path",
                               meaning: openMeaning(err, path))
        }
        return IOMMUFD(adopting: raw)
    }

    /// Takes ownership of an already open descriptor (or a fake one, with a mock driver).
    public init(adopting raw: Int32, driver: any IoctlDriver = SystemIoctlDriver()) {
        fd = KernelFD(adopting: raw, driver: driver)
    }

    /// Closes the descriptor and reports close(2)'s error.
    public consuming func close() throws(IOMMUFDError) {
        try fd.closeReportingErrors("/dev/iommu")
    }

    deinit { _ = fd.close() }

    /// IOMMU_DESTROY of any object by id (the owners call this from their deinit).
    public func destroy(_ id: some ObjectID) throws(IOMMUFDError) {
        try fd.raw.destroy(id.rawValue)
    }

    /// IOMMU_IOAS_ALLOC: a new, empty IO address space.
    public func allocIOAS() throws(IOMMUFDError) -> IOAS {
        IOAS(id: IOASID(rawValue: try fd.raw.allocIOAS()), fd: fd)
    }

    /// IOMMU_IOAS_CHANGE_PROCESS: move pinned-page accounting to the calling process (6.14+).
    public func changeProcess() throws(IOMMUFDError) {
        try fd.raw.changeProcess()
    }

    static func openMeaning(_ err: Errno, _ path: String) -> String {
        switch err {
        case .noSuchFileOrDirectory: return "\(path) does not exist: the kernel lacks CONFIG_IOMMUFD or devtmpfs"
        case .permissionDenied: return "no permission on \(path): run as root or grant access to the node"
        default: return err.description
        }
    }
}
