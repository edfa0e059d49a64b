import FuzzSupport
import IOMMUFD
import SystemPackage
import VFIO

/// One VFIO request (type1 container, device, group) with fuzzed arguments.
func vfioRequest(_ kernel: FuzzKernel, _ iommufd: borrowing IOMMUFD, _ container: borrowing VFIOContainer,
                 _ device: borrowing VFIODevice, _ group: borrowing VFIOGroup) {
    var input: FuzzInput {
        get { kernel.input }
        set { kernel.input = newValue }
    }
    switch input.pick(16) {
    case 0:
        check(kernel, .vfioIOMMUMapDMA) { () throws(IOMMUFDError) in
            try container.mapDMA(vaddr: input.u64(), iova: input.interesting64(), size: input.interesting64(),
                                 access: DMAAccess(rawValue: UInt32(input.u8() % 8)))
        }
    case 1:
        check(kernel, .vfioIOMMUUnmapDMA) { () throws(IOMMUFDError) in
            _ = input.bool() ? try container.unmapAll() : try container.unmapDMA(iova: input.interesting64(), size: input.interesting64())
        }
    case 2:
        let (iova, size, pageSize) = (input.interesting64(), input.interesting64(), input.interesting64())
        if fitsFuzzMemory(length: size, pageSize: pageSize) {
            check(kernel, .vfioIOMMUDirtyPages) { () throws(IOMMUFDError) in
                _ = try container.dirtyBitmap(iova: iova, size: size, pageSize: pageSize)
            }
        }
    case 3:
        check(kernel, .vfioSetIOMMU) { () throws(IOMMUFDError) in try container.setIOMMU(VFIOExtension(rawValue: UInt(input.u32()))) }
    case 4:
        setIRQs(kernel, device)
    case 5:
        check(kernel, nil) { () throws(IOMMUFDError) in
            _ = try device.readBytes(RegionIndex(rawValue: input.u32() % 10), at: input.interesting64(), count: input.interestingInt())
        }
    case 6:
        let bytes = input.data(max: 16)
        check(kernel, nil) { () throws(IOMMUFDError) in
            try withArrayBuffer(bytes) { (buf) throws(IOMMUFDError) in
                try device.write(RegionIndex(rawValue: input.u32() % 10), at: input.interesting64(), from: UnsafeRawBufferPointer(buf))
            }
        }
    case 7:
        let token: [UInt8]? = input.bool() ? input.data(max: 20) : nil
        check(kernel, .vfioDeviceBindIOMMUFD) { () throws(IOMMUFDError) in _ = try device.bind(iommufd: iommufd, token: token) }
    case 8:
        if input.bool() {
            check(kernel, .vfioDeviceAttachIOMMUFDPT) { () throws(IOMMUFDError) in _ = try device.attach(IOASID(rawValue: input.u32())) }
        } else {
            check(kernel, .vfioDeviceAttachPASID) { () throws(IOMMUFDError) in
                _ = try device.attach(pasid: input.u32(), to: HWPTID(rawValue: input.u32()))
            }
        }
    case 9:
        let payload = input.data(max: 32)
        check(kernel, .vfioDeviceFeature) { () throws(IOMMUFDError) in
            _ = try device.feature(DeviceFeature(rawValue: input.u16()), FeatureOperation(rawValue: input.u32()), payload: payload)
        }
    case 10:
        let ranges = (0..<input.pick(4)).map { _ in (iova: input.interesting64(), length: input.interesting64()) }
        check(kernel, .vfioDeviceFeature) { () throws(IOMMUFDError) in
            try device.startDMALogging(pageSize: input.interesting64(), ranges: ranges)
        }
    case 11:
        let (iova, length, pageSize) = (input.interesting64(), input.interesting64(), input.interesting64())
        if fitsFuzzMemory(length: length, pageSize: pageSize) {
            check(kernel, .vfioDeviceFeature) { () throws(IOMMUFDError) in
                _ = try device.dmaLoggingReport(iova: iova, length: length, pageSize: pageSize)
            }
        }
    case 12:
        let fds = (0..<input.pick(5)).map { _ in FileDescriptor(rawValue: Int32(bitPattern: input.u32())) }
        check(kernel, .vfioDevicePCIHotReset) { () throws(IOMMUFDError) in try device.hotReset(groupFDs: fds) }
    case 13:
        let name = String(decoding: input.data(max: 24), as: UTF8.self)
        check(kernel, .vfioGroupGetDeviceFD) { () throws(IOMMUFDError) in _ = try group.deviceFD(name) }
    case 14:
        check(kernel, .vfioGroupSetContainer) { () throws(IOMMUFDError) in try group.setContainer(container) }
    default:
        check(kernel, nil) { () throws(IOMMUFDError) in
            let info = try container.iommuInfo()
            _ = info.iovaRanges?.count
        }
    }
}

func setIRQs(_ kernel: FuzzKernel, _ device: borrowing VFIODevice) {
    var input: FuzzInput {
        get { kernel.input }
        set { kernel.input = newValue }
    }
    let actions: [IRQAction] = [.mask, .unmask, .trigger]
    let action = actions[input.pick(3)]
    let data: IRQData
    switch input.pick(3) {
    case 0: data = .none
    case 1: data = .bools((0..<input.pick(9)).map { _ in input.bool() })
    default: data = .eventFDs((0..<input.pick(9)).map { _ in Int32(bitPattern: input.u32()) })
    }
    let count: UInt32? = input.bool() ? input.u32() % 16 : nil
    check(kernel, .vfioDeviceSetIRQs) { () throws(IOMMUFDError) in
        try device.setIRQs(input.u32() % 8, action: action, start: input.u32(), count: count, data: data)
    }
    if input.bool() {
        check(kernel, .vfioDeviceSetIRQs) { () throws(IOMMUFDError) in
            try device.enableIRQs(IRQIndex.allCases[input.pick(5)], eventFDs: [], start: input.u32())
        }
    }
}
