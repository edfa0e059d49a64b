// The request validation layer: the client-side checks of IOAS map/unmap/copy,
// HWPT allocation, dirty bitmaps, invalidation, queues and the VFIO container and
// device calls. Each input is a sequence of requests with fuzzed arguments against a
// kernel the input also plays. Every request must end one of three ways: it issues
// its ioctl (and succeeds or reports the kernel's errno), or it is refused with an
// IOMMUFDError before any syscall, or a kernel answer it cannot use is refused with
// an IOMMUFDError. It never traps. Files: IOMMUFDRequests.swift, VFIORequests.swift.
import CIOMMUFD
import FuzzSupport
import Glibc
import IOMMUFD
import VFIO

let fakeFD: Int32 = 0x7000

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzRequestValidation(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let kernel = FuzzKernel(FuzzInput(inputBytes(data, size)))
    emulateKernelOutputs(kernel)
    let iommufd = IOMMUFD(adopting: fakeFD, driver: kernel)
    var ioas = IOAS(id: IOASID(rawValue: 1), fd: iommufd.fd)
    // Some inputs opt in to the alignment check, as a caller who read IOVA_RANGES would.
    if kernel.input.bool() { ioas.iovaAlignment = kernel.input.interesting64() }
    let container = VFIOContainer(adopting: fakeFD + 1, kind: .vfio, driver: kernel)
    let device = VFIODevice(adopting: fakeFD + 2, name: "fuzz", driver: kernel)
    let group = VFIOGroup(adopting: fakeFD + 3, number: 7, driver: kernel)
    for _ in 0..<8 where !kernel.input.isEmpty {
        if kernel.input.bool() {
            iommufdRequest(kernel, iommufd, ioas)
        } else {
            vfioRequest(kernel, iommufd, container, device, group)
        }
    }
    _ = ioas.release()
    return 0
}

/// Runs one request and checks how it ended. `request`: the one ioctl it issues when
/// it gets past validation; nil for calls that issue several (or read a queue).
func check(_ kernel: FuzzKernel, _ request: IoctlRequest?, _ body: () throws(IOMMUFDError) -> Void) {
    let before = kernel.calls.count
    do throws(IOMMUFDError) {
        try body()
        let issued = Array(kernel.calls[before...])
        if let request {
            invariant(issued == [request.number], "\(request.name) returned after \(issued.count) ioctls")
        }
    } catch {
        let issued = kernel.calls.count - before
        switch error.origin {
        case .validation:
            if let request { invariant(issued == 0, "\(request.name) refused after \(issued) ioctls: \(error)") }
        case .kernel:
            invariant(issued >= 1, "a kernel error without an ioctl: \(error)")
        case .system:
            break
        }
        invariant(!error.ioctl.isEmpty && !error.description.isEmpty, "an error that names nothing")
    }
}

/// The kernel writes the library reads back: IOVA ranges, invalidation counts, VFIO
/// argsz answers. Everything else leaves the argument as sent.
func emulateKernelOutputs(_ kernel: FuzzKernel) {
    kernel.answerArgszQueries([.vfioDeviceGetRegionInfo, .vfioDeviceGetInfo, .vfioIOMMUGetInfo,
                               .vfioDeviceGetPCIHotResetInfo])
    kernel.handle(.ioasIOVARanges) { k, arg in
        guard let arg else { return -EFAULT }
        var cmd = arg.load(as: iommu_ioas_iova_ranges.self)
        let capacity = Int(cmd.num_iovas)
        // Usually a handful of ranges; sometimes any count the kernel could claim.
        let total = k.input.bool() ? UInt32(k.input.u8() % 8) : k.input.u32()
        if let ranges = UnsafeMutablePointer<iommu_iova_range>(bitPattern: UInt(cmd.allowed_iovas)) {
            for i in 0..<min(capacity, Int(total)) { ranges[i] = iommu_iova_range(start: k.input.u64(), last: k.input.u64()) }
        }
        cmd.num_iovas = total
        cmd.out_iova_alignment = k.input.interesting64()
        arg.storeBytes(of: cmd, as: iommu_ioas_iova_ranges.self)
        return Int(total) > capacity ? -EMSGSIZE : k.result()
    }
    kernel.handle(.hwptInvalidate) { k, arg in
        guard let arg else { return -EFAULT }
        let r = k.result()
        // entry_num comes back as the number of entries handled.
        arg.storeBytes(of: k.input.u32(), toByteOffset: MemoryLayout<iommu_hwpt_invalidate>.offset(of: \.entry_num)!,
                       as: UInt32.self)
        return r
    }
}

exit(runFuzzer(fuzzRequestValidation))
