import CIOMMUFD

/// What IOMMU_GET_HW_INFO wrote back.
public struct RawHWInfoReply: Sendable, Equatable {
    /// out_data_type.
    public var dataType: UInt32
    /// data_len as written back (what the kernel filled when the buffer was larger).
    public var dataLength: UInt32
    /// out_capabilities.
    public var capabilities: UInt64
    /// out_max_pasid_log2.
    public var maxPASIDLog2: UInt8
}

// MARK: - HWPT and hardware info

extension RawIOMMUFD {
    /// IOMMU_HWPT_ALLOC. `data` goes as data_uptr unless it is empty or `nullData`;
    /// `dataLength` overrides data_len (to send a length that disagrees with the bytes).
    /// Returns out_hwpt_id.
    public func allocHWPT(device: UInt32, pt: UInt32, flags: UInt32 = 0, dataType: UInt32 = 0,
                          data: [UInt8] = [], dataLength: UInt32? = nil, nullData: Bool = false,
                          faultID: UInt32 = 0) throws(IOMMUFDError) -> UInt32 {
        var cmd = iommu_hwpt_alloc()
        cmd.size = UInt32(MemoryLayout<iommu_hwpt_alloc>.size)
        cmd.flags = flags
        cmd.dev_id = device
        cmd.pt_id = pt
        cmd.data_type = dataType
        cmd.data_len = dataLength ?? UInt32(data.count)
        cmd.fault_id = faultID
        try withArrayBuffer(data) { (buf) throws(IOMMUFDError) in
            cmd.data_uptr = (nullData || data.isEmpty) ? 0 : userPointer(buf.baseAddress)
            try fd.perform(.hwptAlloc, &cmd)
        }
        return cmd.out_hwpt_id
    }

    /// IOMMU_HWPT_SET_DIRTY_TRACKING with raw flags (ENABLE is bit 0).
    public func setDirtyTracking(hwpt: UInt32, flags: UInt32) throws(IOMMUFDError) {
        var cmd = iommu_hwpt_set_dirty_tracking()
        cmd.size = UInt32(MemoryLayout<iommu_hwpt_set_dirty_tracking>.size)
        cmd.flags = flags
        cmd.hwpt_id = hwpt
        try fd.perform(.hwptSetDirtyTracking, &cmd, argumentName: "hwpt_id")
    }

    /// IOMMU_HWPT_GET_DIRTY_BITMAP into caller-owned memory (which may be unaligned or nil).
    public func getDirtyBitmap(hwpt: UInt32, iova: UInt64, length: UInt64, pageSize: UInt64, flags: UInt32 = 0,
                               bitmap: UnsafeMutableRawPointer?) throws(IOMMUFDError) {
        var cmd = iommu_hwpt_get_dirty_bitmap()
        cmd.size = UInt32(MemoryLayout<iommu_hwpt_get_dirty_bitmap>.size)
        cmd.hwpt_id = hwpt
        cmd.flags = flags
        cmd.iova = iova
        cmd.length = length
        cmd.page_size = pageSize
        cmd.data = userPointer(bitmap)
        try fd.perform(.hwptGetDirtyBitmap, &cmd)
    }

    /// IOMMU_HWPT_INVALIDATE (a HWPT or, 6.13+, a vIOMMU id). `entryCount` goes in and comes
    /// back as the number of entries the kernel handled, also when it fails. `entries` is
    /// followed by 64 zero bytes, so an entry_len larger than the data reads zeros.
    public func invalidate(hwpt: UInt32, dataType: UInt32, entryLength: UInt32, entries: [UInt8],
                           entryCount: inout UInt32, nullData: Bool = false) throws(IOMMUFDError) {
        var cmd = iommu_hwpt_invalidate()
        cmd.size = UInt32(MemoryLayout<iommu_hwpt_invalidate>.size)
        cmd.hwpt_id = hwpt
        cmd.data_type = dataType
        cmd.entry_len = entryLength
        cmd.entry_num = entryCount
        var failure: IOMMUFDError?
        try withArrayBuffer(entries + [UInt8](repeating: 0, count: 64)) { (buf) throws(IOMMUFDError) in
            cmd.data_uptr = nullData ? 0 : userPointer(buf.baseAddress)
            do throws(IOMMUFDError) { try fd.perform(.hwptInvalidate, &cmd) } catch { failure = error }
        }
        entryCount = cmd.entry_num
        if let failure { throw failure }
    }

    /// IOMMU_GET_HW_INFO into caller-owned memory of `dataLength` bytes (`data` may be nil).
    /// `inputType` goes as in_data_type (meaningful with IOMMU_HW_INFO_FLAG_INPUT_TYPE, 6.17+).
    public func hwInfo(device: UInt32, flags: UInt32 = 0, inputType: UInt32 = 0,
                       data: UnsafeMutableRawPointer?, dataLength: UInt32) throws(IOMMUFDError) -> RawHWInfoReply {
        var cmd = iommu_hw_info()
        cmd.size = UInt32(MemoryLayout<iommu_hw_info>.size)
        cmd.flags = flags
        cmd.dev_id = device
        cmd.in_data_type = inputType
        cmd.data_len = dataLength
        cmd.data_uptr = userPointer(data)
        try fd.perform(.getHWInfo, &cmd, argumentName: "dev_id")
        return RawHWInfoReply(dataType: cmd.out_data_type, dataLength: cmd.data_len,
                              capabilities: cmd.out_capabilities, maxPASIDLog2: cmd.out_max_pasid_log2)
    }
}

// MARK: - Fault queues, vIOMMUs and their children

extension RawIOMMUFD {
    /// IOMMU_FAULT_QUEUE_ALLOC (6.11+). Returns (out_fault_id, out_fault_fd); the fd is the caller's to close.
    public func allocFaultQueue(flags: UInt32 = 0) throws(IOMMUFDError) -> (id: UInt32, fd: Int32) {
        var cmd = iommu_fault_alloc()
        cmd.size = UInt32(MemoryLayout<iommu_fault_alloc>.size)
        cmd.flags = flags
        try fd.perform(.faultQueueAlloc, &cmd)
        return (cmd.out_fault_id, Int32(bitPattern: cmd.out_fault_fd))
    }

    /// IOMMU_VIOMMU_ALLOC (6.13+). `data` (6.17+) goes as data_uptr and comes back as the
    /// kernel left it. Returns out_viommu_id.
    public func allocVIOMMU(type: UInt32, device: UInt32, hwpt: UInt32, flags: UInt32 = 0,
                            data: inout [UInt8]) throws(IOMMUFDError) -> UInt32 {
        var cmd = iommu_viommu_alloc()
        cmd.size = UInt32(MemoryLayout<iommu_viommu_alloc>.size)
        cmd.flags = flags
        cmd.type = type
        cmd.dev_id = device
        cmd.hwpt_id = hwpt
        cmd.data_len = UInt32(data.count)
        let count = data.count
        data = try withArrayBuffer(data) { (buf) throws(IOMMUFDError) in
            cmd.data_uptr = count == 0 ? 0 : userPointer(buf.baseAddress)
            try fd.perform(.viommuAlloc, &cmd)
            return Array(buf)
        }
        return cmd.out_viommu_id
    }

    /// IOMMU_VDEVICE_ALLOC (6.13+). Returns out_vdevice_id.
    public func allocVDevice(viommu: UInt32, device: UInt32, virtID: UInt64) throws(IOMMUFDError) -> UInt32 {
        var cmd = iommu_vdevice_alloc()
        cmd.size = UInt32(MemoryLayout<iommu_vdevice_alloc>.size)
        cmd.viommu_id = viommu
        cmd.dev_id = device
        cmd.virt_id = virtID
        try fd.perform(.vdeviceAlloc, &cmd)
        return cmd.out_vdevice_id
    }

    /// IOMMU_VEVENTQ_ALLOC (6.15+). Returns (out_veventq_id, out_veventq_fd); the fd is the caller's to close.
    public func allocVEventQueue(viommu: UInt32, type: UInt32, depth: UInt32,
                                 flags: UInt32 = 0) throws(IOMMUFDError) -> (id: UInt32, fd: Int32) {
        var cmd = iommu_veventq_alloc()
        cmd.size = UInt32(MemoryLayout<iommu_veventq_alloc>.size)
        cmd.flags = flags
        cmd.viommu_id = viommu
        cmd.type = type
        cmd.veventq_depth = depth
        try fd.perform(.veventqAlloc, &cmd)
        return (cmd.out_veventq_id, Int32(bitPattern: cmd.out_veventq_fd))
    }

    /// IOMMU_HW_QUEUE_ALLOC (6.17+). Returns out_hw_queue_id.
    public func allocHWQueue(viommu: UInt32, type: UInt32, index: UInt32, nestingParentIOVA: UInt64,
                             length: UInt64, flags: UInt32 = 0) throws(IOMMUFDError) -> UInt32 {
        var cmd = iommu_hw_queue_alloc()
        cmd.size = UInt32(MemoryLayout<iommu_hw_queue_alloc>.size)
        cmd.flags = flags
        cmd.viommu_id = viommu
        cmd.type = type
        cmd.index = index
        cmd.nesting_parent_iova = nestingParentIOVA
        cmd.length = length
        try fd.perform(.hwQueueAlloc, &cmd)
        return cmd.out_hw_queue_id
    }

    /// IOMMU_TEST_CMD (CONFIG_IOMMUFD_TEST kernels only): `op` on object `id`, with the
    /// op's payload filled by `fill`. Returns the command as the kernel left it.
    @discardableResult
    public func testCommand(op: UInt32, id: UInt32,
                            _ fill: (inout iommu_test_cmd) -> Void = { _ in }) throws(IOMMUFDError) -> iommu_test_cmd {
        var cmd = iommu_test_cmd()
        cmd.size = UInt32(MemoryLayout<iommu_test_cmd>.size)
        cmd.op = op
        cmd.id = id
        fill(&cmd)
        try fd.perform(.testCmd, &cmd, argumentName: iommu_test_cmd.opName(cmd.op))
        return cmd
    }
}
