// The VFIO capability-chain decoder (InfoCapability.chain) and what decodes the
// chains of region info (sparse mmap, type, MSI-X mappable), device info and the
// type1 container's IOMMU info (IOVA ranges, DMA available, migration), plus the
// other variable-size answers (IRQ info, hot-reset info). The kernel here is the
// fuzz input: whatever it answers must decode or fail with an IOMMUFDError.
import FuzzSupport
import Glibc
import IOMMUFD
import VFIO

/// A descriptor number no test opens: the fuzz kernel answers for it.
let fakeFD: Int32 = 0x7000

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzInfoChain(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(inputBytes(data, size))
    let mode = input.pick(6)
    let kernel = FuzzKernel(input)
    kernel.answerArgszQueries([.vfioDeviceGetRegionInfo, .vfioDeviceGetInfo, .vfioIOMMUGetInfo,
                               .vfioDeviceGetIRQInfo, .vfioDeviceGetPCIHotResetInfo])
    do throws(IOMMUFDError) {
        switch mode {
        case 0: try regionInfo(kernel)
        case 1:
            let info = try VFIODevice(adopting: fakeFD, name: "fuzz", driver: kernel).info()
            checkChain(info.capabilities)
        case 2: try containerInfo(kernel)
        case 3:
            let irq = try VFIODevice(adopting: fakeFD, name: "fuzz", driver: kernel).irqInfo(rawIndex: kernel.input.u32() % 8)
            _ = (irq.flags.contains(.eventfd), irq.count)
        case 4:
            let reset = try VFIODevice(adopting: fakeFD, name: "fuzz", driver: kernel).hotResetInfo()
            _ = reset.devices.map(\.address)
        default:
            // The walk on its own, over bytes no kernel struct constrains.
            let first = kernel.input.u32() % 512
            let header = Int(kernel.input.u8())
            checkChain(InfoCapability.chain(in: kernel.input.rest(), first: first, headerSize: header))
        }
    } catch {
        _ = error.description
    }
    return 0
}

func regionInfo(_ kernel: FuzzKernel) throws(IOMMUFDError) {
    let index = RegionIndex(rawValue: kernel.input.u32() % 12)
    let device = VFIODevice(adopting: fakeFD, name: "fuzz", driver: kernel)
    let info = try device.regionInfo(index)
    checkChain(info.capabilities)
    let payload = info.capabilities.reduce(0) { $0 + $1.payload.count }
    invariant((info.sparseAreas?.count ?? 0) * 16 <= payload, "more sparse areas than payload bytes")
    _ = (info.index.description, info.type?.type, info.msixMappable, info.flags.contains(.mmap))
}

func containerInfo(_ kernel: FuzzKernel) throws(IOMMUFDError) {
    let container = VFIOContainer(adopting: fakeFD, kind: kernel.input.bool() ? .vfio : .iommufdCompat, driver: kernel)
    let info = try container.iommuInfo()
    checkChain(info.capabilities)
    _ = (info.pageSizes, info.iovaRanges?.map(\.description), info.dmaAvailable, info.migration?.maxDirtyBitmapSize)
}

/// What any chain must satisfy: bounded length, each payload inside the answer.
func checkChain(_ caps: [InfoCapability]) {
    invariant(caps.count <= 64, "chain of \(caps.count) capabilities")
    for cap in caps { _ = (cap.id, cap.version, cap.payload.count) }
}

exit(runFuzzer(fuzzInfoChain))
