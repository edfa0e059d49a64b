import CIOMMUFD
import Glibc
import IOMMUFD
import VFIO

/// MOCK: the legacy VFIO container and group ioctls, answering like 6.12's iommufd compat
/// layer over VT-d: a MAP_DMA without READ/WRITE fails EINVAL (6.12 VT-d refused it quietly).
extension MockKernel {
    /// The answer to a legacy VFIO request, or nil for requests this mock does not play.
    func legacyVFIO(_ request: UInt, _ argument: UnsafeMutableRawPointer?) -> Int32? {
        switch request {
        case IoctlRequest.vfioGroupSetContainer.number:
            guard let p = argument else { return -EFAULT }
            return p.load(as: Int32.self) >= 0 ? 0 : -EBADF
        case IoctlRequest.vfioSetIOMMU.number:
            // By value: the pointer's bits are the IOMMU type.
            let type = UInt(bitPattern: argument)
            return type == VFIOExtension.type1.rawValue || type == VFIOExtension.type1v2.rawValue ? 0 : -EINVAL
        case IoctlRequest.vfioGroupGetDeviceFD.number:
            return FakeFD.next()
        case IoctlRequest.vfioIOMMUMapDMA.number:
            guard let p = argument else { return -EFAULT }
            let argsz = p.load(as: UInt32.self), flags = p.load(fromByteOffset: 4, as: UInt32.self)
            let iova = p.load(fromByteOffset: 16, as: UInt64.self), size = p.load(fromByteOffset: 24, as: UInt64.self)
            if argsz < 32 || flags & ~3 != 0 || flags & 3 == 0 || size == 0 || (iova | size) % 0x1000 != 0 { return -EINVAL }
            return state.withLock { s in
                if s.dma.contains(where: { iova < $0.iova + $0.size && $0.iova < iova + size }) { return -EEXIST }
                s.dma.append((iova, size))
                return 0
            }
        case IoctlRequest.vfioIOMMUUnmapDMA.number:
            guard let p = argument else { return -EFAULT }
            let argsz = p.load(as: UInt32.self), flags = p.load(fromByteOffset: 4, as: UInt32.self)
            let iova = p.load(fromByteOffset: 8, as: UInt64.self), size = p.load(fromByteOffset: 16, as: UInt64.self)
            if argsz < 24 { return -EINVAL }
            let all = flags == UInt32(VFIO_DMA_UNMAP_FLAG_ALL)
            if all && (iova != 0 || size != 0) || !all && flags != 0 { return -EINVAL }
            let unmapped: UInt64 = state.withLock { s in
                let gone = s.dma.filter { all || (iova <= $0.iova && $0.iova + $0.size <= iova + size) }
                s.dma.removeAll { a in gone.contains { $0.iova == a.iova } }
                return gone.reduce(0) { $0 + $1.size }
            }
            p.storeBytes(of: unmapped, toByteOffset: 16, as: UInt64.self)
            return 0
        default:
            return nil
        }
    }
}
