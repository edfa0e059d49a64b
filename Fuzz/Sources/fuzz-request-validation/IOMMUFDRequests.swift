import CIOMMUFD
import FuzzSupport
import IOMMUFD
import SystemPackage

/// One iommufd request (IOAS, HWPT, vIOMMU, queues, options) with fuzzed arguments.
func iommufdRequest(_ kernel: FuzzKernel, _ iommufd: borrowing IOMMUFD, _ ioas: borrowing IOAS) {
    var input: FuzzInput {
        get { kernel.input }
        set { kernel.input = newValue }
    }
    func iova() -> UInt64? { input.bool() ? input.interesting64() : nil }
    func access() -> MapAccess { MapAccess(rawValue: UInt32(input.u8() % 4) << 1) }

    switch input.pick(19) {
    case 0:
        check(kernel, .ioasMap) { () throws(IOMMUFDError) in
            _ = try ioas.map(userVA: input.interesting64(), length: input.interesting64(), at: iova(), access: access())
        }
    case 1:
        check(kernel, .ioasMapFile) { () throws(IOMMUFDError) in
            _ = try ioas.mapFile(FileDescriptor(rawValue: Int32(bitPattern: input.u32())), start: input.interesting64(),
                                 length: input.interesting64(), at: iova(), access: access())
        }
    case 2:
        check(kernel, .ioasUnmap) { () throws(IOMMUFDError) in
            _ = try ioas.unmap(iova: input.interesting64(), length: input.interesting64())
        }
    case 3:
        check(kernel, .ioasUnmap) { () throws(IOMMUFDError) in _ = try ioas.unmapAll() }
    case 4:
        check(kernel, .ioasCopy) { () throws(IOMMUFDError) in
            _ = try ioas.copy(from: IOASID(rawValue: input.u32()), sourceIOVA: input.interesting64(),
                              length: input.interesting64(), to: iova(), access: access())
        }
    case 5:
        let ranges = (0..<input.pick(6)).map { _ in IOVARange(start: input.interesting64(), last: input.interesting64()) }
        check(kernel, .ioasAllowIOVAs) { () throws(IOMMUFDError) in try ioas.allowIOVAs(ranges) }
    case 6:
        check(kernel, nil) { () throws(IOMMUFDError) in
            let r = try ioas.iovaRanges()
            _ = r.ranges.map(\.description)
        }
    case 7:
        let (iova, length, pageSize) = (input.interesting64(), input.interesting64(), input.interesting64())
        if fitsFuzzMemory(length: length, pageSize: pageSize) {
            check(kernel, .hwptGetDirtyBitmap) { () throws(IOMMUFDError) in
                let bitmap = try iommufd.dirtyBitmap(HWPTID(rawValue: input.u32()), iova: iova, length: length,
                                                     pageSize: pageSize, clear: input.bool())
                _ = (bitmap.dirtyCount, bitmap.isDirty(input.u64()), bitmap.isDirty(page: input.interestingInt()))
            }
        }
    case 8:
        check(kernel, .hwptSetDirtyTracking) { () throws(IOMMUFDError) in
            try iommufd.setDirtyTracking(HWPTID(rawValue: input.u32()), enabled: input.bool())
        }
    case 9:
        invalidate(kernel, iommufd)
    case 10:
        let fault: FaultQueueID? = input.bool() ? FaultQueueID(rawValue: input.u32()) : nil
        check(kernel, .hwptAlloc) { () throws(IOMMUFDError) in
            _ = try iommufd.allocHWPT(device: IOMMUFDDeviceID(rawValue: input.u32()), ioas: IOASID(rawValue: input.u32()),
                                      flags: HWPTAllocFlags(rawValue: input.u32()), fault: fault).release()
        }
    case 11:
        let data = hwptData(&kernel.input)
        let parent: NestingParent = input.bool() ? .hwpt(HWPTID(rawValue: input.u32())) : .viommu(VIOMMUID(rawValue: input.u32()))
        check(kernel, .hwptAlloc) { () throws(IOMMUFDError) in
            _ = try iommufd.allocNestedHWPT(device: IOMMUFDDeviceID(rawValue: input.u32()), parent: parent, data: data,
                                            flags: HWPTAllocFlags(rawValue: input.u32())).release()
        }
    case 12:
        check(kernel, .hwQueueAlloc) { () throws(IOMMUFDError) in
            _ = try iommufd.allocHWQueue(viommu: VIOMMUID(rawValue: input.u32()), type: HWQueueType(rawValue: input.u32()),
                                         index: input.u32(), nestingParentIOVA: input.interesting64(),
                                         length: input.interesting64()).release()
        }
    case 13:
        var data = input.data(max: 64)
        check(kernel, .viommuAlloc) { () throws(IOMMUFDError) in
            _ = try iommufd.allocVIOMMU(type: VIOMMUType(rawValue: input.u32()), device: IOMMUFDDeviceID(rawValue: input.u32()),
                                        parent: HWPTID(rawValue: input.u32()), data: &data).release()
        }
    case 14:
        check(kernel, nil) { () throws(IOMMUFDError) in try readEvents(kernel, iommufd) }
    case 15:
        check(kernel, nil) { () throws(IOMMUFDError) in try readFaults(kernel, iommufd) }
    case 16:
        check(kernel, .option) { () throws(IOMMUFDError) in
            _ = try iommufd.raw.option(input.u32(), object: input.u32(), set: input.bool() ? input.u64() : nil)
        }
    case 17:
        check(kernel, .destroy) { () throws(IOMMUFDError) in try iommufd.destroy(IOASID(rawValue: input.u32())) }
    default:
        // A bitmap as a caller may build one (the kernel's always fits its range).
        let bitmap = DirtyBitmap(iova: input.interesting64(), length: input.interesting64(), pageSize: input.interesting64(),
                                 bits: (0..<input.pick(5)).map { _ in input.u64() })
        let dirty = bitmap.dirtyPages
        invariant(dirty.count == bitmap.dirtyCount, "\(dirty.count) dirty pages listed, \(bitmap.dirtyCount) counted")
        _ = (bitmap.pageCount, bitmap.isDirty(input.interesting64()), bitmap.isDirty(page: input.interestingInt()))
    }
}

/// A legal bitmap is allocated before the ioctl (up to 2 GiB for 2^34 pages): skip
/// those beyond 2^20 pages, which would only measure the allocator. Larger-than-legal
/// ones stay in, since the library must refuse them.
func fitsFuzzMemory(length: UInt64, pageSize: UInt64) -> Bool {
    guard pageSize != 0 else { return true }
    let pages = length / pageSize
    return pages <= 1 << 20 || pages > 1 << 34
}

func invalidate(_ kernel: FuzzKernel, _ iommufd: borrowing IOMMUFD) {
    var input: FuzzInput {
        get { kernel.input }
        set { kernel.input = newValue }
    }
    let request: InvalidationRequest
    switch input.pick(4) {
    case 0: request = .vtdStage1((0..<input.pick(5)).map { _ in VTdStage1Invalidation(addr: input.u64(), npages: input.interesting64(), leaf: input.bool()) })
    case 1: request = .armSMMUv3((0..<input.pick(5)).map { _ in SMMUv3Command(input.u64(), input.u64()) })
    case 2: request = .selftest((0..<input.pick(5)).map { _ in SelftestInvalidation(iotlbID: input.u32(), all: input.bool()) })
    default: request = .raw(type: input.u32(), entryLength: input.interestingInt(), data: input.data(max: 128))
    }
    let before = kernel.calls.count
    do throws(InvalidationError) {
        let handled = try iommufd.invalidate(HWPTID(rawValue: input.u32()), request)
        invariant(kernel.calls.count == before + 1, "invalidate returned \(handled) without one ioctl")
    } catch {
        invariant(error.handled >= 0 && error.handled <= error.requested, "handled \(error.handled) of \(error.requested)")
        if error.error.origin == .validation { invariant(kernel.calls.count == before, "refused after the ioctl") }
        _ = (error.description, error.failedIndex)
    }
}

func hwptData(_ input: inout FuzzInput) -> HWPTData {
    switch input.pick(5) {
    case 0: return .vtdStage1(flags: VTdStage1Flags(rawValue: input.u64()), pgtblAddr: input.u64(), addrWidth: input.u32())
    case 1: return .armSMMUv3(ste0: input.u64(), ste1: input.u64())
    case 2: return .amdGuest(dte: SIMD4(input.u64(), input.u64(), input.u64(), input.u64()))
    case 3: return .selftest(iotlb: input.u32())
    default: return .raw(type: input.u32(), bytes: input.data(max: 64))
    }
}

/// A timeout the way a caller would write one, from none to absurd.
func timeout(_ input: inout FuzzInput) -> Duration? {
    switch input.pick(4) {
    case 0: return nil
    case 1: return .milliseconds(Int64(input.u16()))
    case 2: return .seconds(Int64(bitPattern: input.interesting64()))
    default: return .nanoseconds(Int64(bitPattern: input.u64()))
    }
}

func readEvents(_ kernel: FuzzKernel, _ iommufd: borrowing IOMMUFD) throws(IOMMUFDError) {
    let types: [VEventQueueType] = [.default, .armSMMUv3, .tegra241CMDQV, .selftest, VEventQueueType(rawValue: kernel.input.u32())]
    let type = types[kernel.input.pick(types.count)]
    let eventSize: Int? = kernel.input.bool() ? kernel.input.interestingInt() : nil
    var queue = try iommufd.allocVEventQueue(viommu: VIOMMUID(rawValue: kernel.input.u32()), type: type,
                                             depth: kernel.input.u32(), eventSize: eventSize)
    for _ in 0..<kernel.input.pick(3) {
        let events = try queue.readEvents(max: kernel.input.interestingInt(), timeout: timeout(&kernel.input))
        for e in events { invariant(e.lostEvents ? e.payload.isEmpty : e.payload.count <= queue.eventSize, "payload size") }
    }
}

func readFaults(_ kernel: FuzzKernel, _ iommufd: borrowing IOMMUFD) throws(IOMMUFDError) {
    let queue = try iommufd.allocFaultQueue()
    for _ in 0..<kernel.input.pick(3) {
        let faults = try queue.readFaults(max: kernel.input.interestingInt(), timeout: timeout(&kernel.input))
        for f in faults { _ = (f.isLastPage, f.pasid, f.permissions.contains(.read)) }
    }
    if kernel.input.bool() { try queue.respond(cookie: kernel.input.u32(), code: kernel.input.bool() ? .success : .invalid) }
}
