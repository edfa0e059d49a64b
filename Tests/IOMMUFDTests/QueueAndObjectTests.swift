import CIOMMUFD
import IOMMUFD
import SystemPackage
import Testing

@Suite struct QueueAndObjectTests {
    @Test func faultQueueReadRespondAndTeardownOrder() throws {
        let mock = MockIoctlDriver()
        mock.script(.faultQueueAlloc, .edit { p in
            p.storeBytes(of: 12, toByteOffset: offset(\iommu_fault_alloc.out_fault_id), as: UInt32.self)
            p.storeBytes(of: 77, toByteOffset: offset(\iommu_fault_alloc.out_fault_fd), as: UInt32.self)
        })
        var fault = iommu_hwpt_pgfault()
        fault.flags = UInt32(IOMMU_PGFAULT_FLAGS_PASID_VALID.rawValue | IOMMU_PGFAULT_FLAGS_LAST_PAGE.rawValue)
        fault.dev_id = 3
        fault.pasid = 1
        fault.grpid = 2
        fault.perm = UInt32(IOMMU_PGFAULT_PERM_READ.rawValue | IOMMU_PGFAULT_PERM_WRITE.rawValue)
        fault.addr = 0xdead_beaf
        fault.length = 4096
        fault.cookie = 42
        mock.scriptRead(fd: 77, withUnsafeBytes(of: fault) { Array($0) })
        let iommufd = IOMMUFD(adopting: 401, driver: mock)
        do {
            let queue = try iommufd.allocFaultQueue()
            #expect(queue.id == FaultQueueID(rawValue: 12))
            let faults = try queue.readFaults(timeout: .milliseconds(10))
            #expect(faults.count == 1)
            #expect(faults.first?.device == IOMMUFDDeviceID(rawValue: 3))
            #expect(faults.first?.pasid == 1)
            #expect(faults.first?.permissions == [.read, .write])
            #expect(faults.first?.isLastPage == true)
            #expect(faults.first?.address == 0xdead_beaf)
            #expect(try queue.readFaults().isEmpty)
            try queue.respond(cookie: 42)
        }
        let written = try #require(mock.writes.first)
        #expect(written.fd == 77)
        #expect(written.bytes == [42, 0, 0, 0, 0, 0, 0, 0])
        // The fd pins the object: it is closed before DESTROY.
        #expect(mock.closed == [77])
        #expect(mock.calls.map(\.request) == [CIOMMUFD_REQ_IOMMU_FAULT_QUEUE_ALLOC, CIOMMUFD_REQ_IOMMU_DESTROY])
        #expect(mock.calls.last?.decode(iommu_destroy.self).id == 12)
    }

    @Test func veventQueueSequenceGapsAndLostEvents() throws {
        let mock = MockIoctlDriver()
        mock.script(.veventqAlloc, .edit { p in
            p.storeBytes(of: 30, toByteOffset: offset(\iommu_veventq_alloc.out_veventq_id), as: UInt32.self)
            p.storeBytes(of: 88, toByteOffset: offset(\iommu_veventq_alloc.out_veventq_fd), as: UInt32.self)
        })
        func record(_ flags: UInt32, _ seq: UInt32, _ payload: [UInt8]) -> [UInt8] {
            withUnsafeBytes(of: flags.littleEndian) { Array($0) } + withUnsafeBytes(of: seq.littleEndian) { Array($0) } + payload
        }
        // Selftest events carry a 4-byte virt_id. Sequence 0, 1, then a lost-events record, then 5.
        mock.scriptRead(fd: 88, record(0, 0, [1, 0, 0, 0]) + record(0, 1, [2, 0, 0, 0])
                        + record(UInt32(IOMMU_VEVENTQ_FLAG_LOST_EVENTS.rawValue), 2, []) + record(0, 5, [3, 0, 0, 0]))
        let iommufd = IOMMUFD(adopting: 402, driver: mock)
        var queue = try iommufd.allocVEventQueue(viommu: VIOMMUID(rawValue: 2), type: .selftest, depth: 16)
        let events = try queue.readEvents()
        #expect(events.map(\.sequence) == [0, 1, 2, 5])
        #expect(events.map(\.lostEvents) == [false, false, true, false])
        #expect(events.map(\.gap) == [0, 0, 0, 2])
        #expect(events[3].payload == [3, 0, 0, 0])
        #expect(queue.lastSequence == 5)
        let sent = try #require(mock.calls.first).decode(iommu_veventq_alloc.self)
        #expect(sent.size == 32 && sent.viommu_id == 2 && sent.veventq_depth == 16)
        #expect(sent.type == UInt32(IOMMU_VEVENTQ_TYPE_SELFTEST))
        try queue.destroy()
        #expect(mock.closed == [88])

        #expect(throws: IOMMUFDError.self) {
            _ = try iommufd.allocVEventQueue(viommu: VIOMMUID(rawValue: 2), type: .armSMMUv3, depth: 0)
        }
        #expect(mock.calls.count == 2)
    }

    @Test func viommuAndVDeviceAlloc() throws {
        let mock = MockIoctlDriver()
        mock.script(.viommuAlloc, .u32(40, at: offset(\iommu_viommu_alloc.out_viommu_id)))
        mock.script(.vdeviceAlloc, .u32(41, at: offset(\iommu_vdevice_alloc.out_vdevice_id)))
        let iommufd = IOMMUFD(adopting: 403, driver: mock)
        do {
            let viommu = try iommufd.allocVIOMMU(type: .armSMMUv3, device: IOMMUFDDeviceID(rawValue: 1), parent: HWPTID(rawValue: 2))
            let vdev = try iommufd.allocVDevice(viommu: viommu.id, device: IOMMUFDDeviceID(rawValue: 1), virtID: 0x10)
            #expect(vdev.id == VDeviceID(rawValue: 41))
        }
        let calls = mock.calls
        let v = calls[0].decode(iommu_viommu_alloc.self)
        #expect(v.size == UInt32(MemoryLayout<iommu_viommu_alloc>.size))
        #expect(v.type == UInt32(IOMMU_VIOMMU_TYPE_ARM_SMMUV3.rawValue) && v.dev_id == 1 && v.hwpt_id == 2)
        #expect(v.data_len == 0 && v.data_uptr == 0)
        let d = calls[1].decode(iommu_vdevice_alloc.self)
        #expect(d.size == 24 && d.viommu_id == 40 && d.dev_id == 1 && d.virt_id == 0x10)
        // Reverse order of creation: vDEVICE first, then vIOMMU.
        #expect(calls[2...].map { $0.decode(iommu_destroy.self).id } == [41, 40])
    }

    @Test func hwQueueValidationAndFields() throws {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 404, driver: mock)
        #expect(throws: IOMMUFDError.self) {
            _ = try iommufd.allocHWQueue(viommu: VIOMMUID(rawValue: 1), type: .selftest, index: 0,
                                         nestingParentIOVA: 0x1000, length: 0)
        }
        let wrap = #expect(throws: IOMMUFDError.self) {
            _ = try iommufd.allocHWQueue(viommu: VIOMMUID(rawValue: 1), type: .selftest, index: 0,
                                         nestingParentIOVA: .max, length: 2)
        }
        #expect(wrap?.errno == .overflow)
        #expect(mock.calls.isEmpty)
        let queue = try iommufd.allocHWQueue(viommu: VIOMMUID(rawValue: 1), type: .selftest, index: 1,
                                             nestingParentIOVA: 0x8000, length: 0x1000)
        let cmd = try #require(mock.calls.first).decode(iommu_hw_queue_alloc.self)
        #expect(cmd.size == 40 && cmd.viommu_id == 1 && cmd.index == 1)
        #expect(cmd.nesting_parent_iova == 0x8000 && cmd.length == 0x1000)
        _ = queue.release()
    }

    @Test func vfioCompatOps() throws {
        let mock = MockIoctlDriver()
        mock.script(.vfioIOAS, .u32(6, at: offset(\iommu_vfio_ioas.ioas_id)))
        let iommufd = IOMMUFD(adopting: 405, driver: mock)
        #expect(try iommufd.vfioCompatIOAS() == IOASID(rawValue: 6))
        try iommufd.setVFIOCompatIOAS(IOASID(rawValue: 7))
        try iommufd.clearVFIOCompatIOAS()
        let sent = mock.calls(.vfioIOAS).map { $0.decode(iommu_vfio_ioas.self) }
        #expect(sent.map(\.op) == [0, 1, 2])
        #expect(sent.map(\.ioas_id) == [0, 7, 0])
        #expect(sent.allSatisfy { $0.size == 12 })

        mock.script(.vfioIOAS, .fail(.operationNotSupportedByDevice))
        let error = #expect(throws: IOMMUFDError.self) { _ = try iommufd.vfioCompatIOAS() }
        #expect(error?.meaning == "no compat IOAS has been set or created yet")
    }
}
