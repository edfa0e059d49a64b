// The fail-nth sequences of tools/testing/selftests/iommu/iommufd_fail_nth.c (7.3.4:
// basic :239, map_domain :308, map_file_domain :344, map_two_domains :379, access_rw :426,
// access_pin :506, access_pin_domain :560, device :622; 6.12.117's are the same minus
// map_file_domain, and its device test stops after the two replaces). Each opens its own
// /dev/iommu, arms the injection where the selftest calls fail_nth_enable(), and returns
// the first error.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

extension FailNthCases {
    static func run(_ body: () throws -> Void) -> IOMMUFDError? {
        do { try body(); return nil } catch let error as IOMMUFDError { return error } catch {
            // The sequences call only ioctls; anything else is reported as a failed step.
            return .invalid(.testCmd, argument: "sequence", "not an ioctl error: \(error)")
        }
    }

    /// Opens /dev/iommu as a typed-throws step.
    static func openFD() throws(IOMMUFDError) -> IOMMUFD { try IOMMUFD.open() }

    static let sequences: [(String, KernelVersion, Sequence)] = [
        ("basic", "6.2", { nth, inputs in
            let buf = inputs.buffer
            nth.enable()
            let iommufd: IOMMUFD
            do throws(IOMMUFDError) { iommufd = try openFD() } catch { return error }
            let fd = iommufd.fd
            return run {
                let ioas = try fd.raw.allocIOAS()
                var out = RawIOVARangesReply()
                try fd.raw.iovaRanges(ioas: ioas, capacity: 10, reply: &out)
                try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: 16 * 1024, last: UInt64(buf.count) + 16 * 1024 * 600 - 1)])
                let iova = try fd.raw.map(ioas: ioas, userVA: buf.va, length: UInt64(buf.count))
                try fd.raw.copy(dst: ioas, src: ioas, srcIOVA: iova, length: 160)
                try fd.raw.unmap(ioas: ioas, iova: iova, length: UInt64(buf.count))
                _ = try? fd.raw.unmap(ioas: ioas, iova: iova, length: UInt64(buf.count))
            }
        }),
        ("map_domain", "6.2", { nth, inputs in
            let buf = inputs.buffer
            let iommufd: IOMMUFD
            do throws(IOMMUFDError) { iommufd = try openFD() } catch { return error }
            let fd = iommufd.fd, test = iommufd.testCommands
            return run {
                let ioas = IOASID(rawValue: try fd.raw.allocIOAS())
                try test.setTempMemoryLimit(32)
                nth.enable()
                var md = try test.mockDomain(ioas)
                try fd.raw.map(ioas: ioas.rawValue, userVA: buf.va, length: 262144)
                try fd.raw.destroy(md.stdevID.rawValue)
                md = try test.mockDomain(ioas)
            }
        }),
        ("map_file_domain", "6.13", { nth, inputs in
            let iommufd: IOMMUFD
            do throws(IOMMUFDError) { iommufd = try openFD() } catch { return error }
            let fd = iommufd.fd, test = iommufd.testCommands
            return run {
                let ioas = IOASID(rawValue: try fd.raw.allocIOAS())
                try test.setTempMemoryLimit(32)
                nth.enable()
                var md = try test.mockDomain(ioas)
                try fd.raw.mapFile(ioas: ioas.rawValue, file: inputs.memfd, start: 0, length: 262144)
                try fd.raw.destroy(md.stdevID.rawValue)
                md = try test.mockDomain(ioas)
            }
        }),
        ("map_two_domains", "6.2", { nth, inputs in
            let buf = inputs.buffer
            let iommufd: IOMMUFD
            do throws(IOMMUFDError) { iommufd = try openFD() } catch { return error }
            let fd = iommufd.fd, test = iommufd.testCommands
            return run {
                let ioas = IOASID(rawValue: try fd.raw.allocIOAS())
                try test.setTempMemoryLimit(32)
                let a = try test.mockDomain(ioas)
                nth.enable()
                let b = try test.mockDomain(ioas)
                try fd.raw.map(ioas: ioas.rawValue, userVA: buf.va, length: 262144)
                try fd.raw.destroy(a.stdevID.rawValue)
                try fd.raw.destroy(b.stdevID.rawValue)
                _ = try test.mockDomain(ioas)
                _ = try test.mockDomain(ioas)
            }
        }),
        ("access_rw", "6.2", { nth, inputs in
            let buf = inputs.buffer
            let iommufd: IOMMUFD
            do throws(IOMMUFDError) { iommufd = try openFD() } catch { return error }
            let fd = iommufd.fd, test = iommufd.testCommands
            let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
            let big = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096 * 8, alignment: 8)
            defer { small.deallocate(); big.deallocate() }
            return run {
                let ioas = IOASID(rawValue: try fd.raw.allocIOAS())
                try test.setTempMemoryLimit(32)
                let iova = try fd.raw.map(ioas: ioas.rawValue, userVA: buf.va, length: 262144)
                nth.enable()
                let access = try test.createAccess(ioas)
                try test.accessRW(access.id, iova: iova, buffer: small)
                try test.accessRW(access.id, iova: iova, buffer: small, flags: .write)
                try test.accessRW(access.id, iova: iova, buffer: small, flags: .slowPath)
                try test.accessRW(access.id, iova: iova, buffer: small, flags: [.slowPath, .write])
                try test.accessRW(access.id, iova: iova, buffer: big, flags: .slowPath)
                try access.close()
            }
        }),
        ("access_pin", "6.2", { nth, inputs in
            let buf = inputs.buffer
            let iommufd: IOMMUFD
            do throws(IOMMUFDError) { iommufd = try openFD() } catch { return error }
            let fd = iommufd.fd, test = iommufd.testCommands
            return run {
                let ioas = IOASID(rawValue: try fd.raw.allocIOAS())
                try test.setTempMemoryLimit(32)
                let iova = try fd.raw.map(ioas: ioas.rawValue, userVA: buf.va, length: UInt64(buf.count))
                let access = try test.createAccess(ioas, flags: .needsPinPages)
                nth.enable()
                let pin = try test.accessPages(access.id, iova: iova, length: UInt64(buf.count), userVA: buf.va)
                try test.destroyAccessPages(access.id, pagesID: pin)
                try access.close()
            }
        }),
        ("access_pin_domain", "6.2", { nth, inputs in
            let buf = inputs.buffer
            let iommufd: IOMMUFD
            do throws(IOMMUFDError) { iommufd = try openFD() } catch { return error }
            let fd = iommufd.fd, test = iommufd.testCommands
            return run {
                let ioas = IOASID(rawValue: try fd.raw.allocIOAS())
                try test.setTempMemoryLimit(32)
                let md = try test.mockDomain(ioas)
                let iova = try fd.raw.map(ioas: ioas.rawValue, userVA: buf.va, length: UInt64(buf.count))
                let access = try test.createAccess(ioas, flags: .needsPinPages)
                nth.enable()
                let pin = try test.accessPages(access.id, iova: iova, length: UInt64(buf.count), userVA: buf.va)
                try test.destroyAccessPages(access.id, pagesID: pin)
                try access.close()
                try fd.raw.destroy(md.stdevID.rawValue)
            }
        }),
        ("device", "6.6", { nth, inputs in
            inputs.kernel >= "6.17" ? device(nth, inputs) : device612(nth, inputs)
        }),
    ]
    /// device.c in 6.12.117 (iommufd_fail_nth.c:577): bind, hw info, HWPT_ALLOC, replace twice.
    static func device612(_ nth: Nth, _ inputs: Inputs) -> IOMMUFDError? {
        let buf = inputs.buffer
        let iommufd: IOMMUFD
        do throws(IOMMUFDError) { iommufd = try openFD() } catch { return error }
        let fd = iommufd.fd, test = iommufd.testCommands
        let info = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        defer { info.deallocate() }
        return run {
            let ioas = try fd.raw.allocIOAS(), ioas2 = try fd.raw.allocIOAS()
            try fd.raw.map(ioas: ioas, userVA: buf.va, length: MS.page, iova: MS.apertureStart)
            try fd.raw.map(ioas: ioas2, userVA: buf.va, length: MS.page, iova: MS.apertureStart)
            nth.enable()
            let md = try test.mockDomain(IOASID(rawValue: ioas))
            _ = try fd.raw.hwInfo(device: md.deviceID.rawValue, data: info, dataLength: 8)
            let hwpt = try fd.raw.allocHWPT(device: md.deviceID.rawValue, pt: ioas)
            try test.mockDomainReplace(md.stdevID, with: IOASID(rawValue: ioas2))
            try test.mockDomainReplace(md.stdevID, with: HWPTID(rawValue: hwpt))
        }
    }

    /// device.c in 7.3.4 (iommufd_fail_nth.c:622): a PASID-capable device through hw info,
    /// PASID HWPTs, replace, a vIOMMU with a vDEVICE, a HW queue, a fault-queue nested HWPT,
    /// a vEVENTQ, and PASID attach/replace/detach. Like the selftest's teardown, a PASID
    /// left attached by a failure is detached before the fd closes.
    static func device(_ nth: Nth, _ inputs: Inputs) -> IOMMUFDError? {
        let buf = inputs.buffer
        let iommufd: IOMMUFD
        do throws(IOMMUFDError) { iommufd = try openFD() } catch { return error }
        let fd = iommufd.fd, test = iommufd.testCommands
        let info = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        defer { info.deallocate() }
        var attached: (MockStdevID, UInt32)?
        let pasidFlag = UInt32(IOMMU_HWPT_ALLOC_PASID.rawValue), selftest = UInt32(IOMMU_HWPT_DATA_SELFTEST)
        let result = run {
            let ioas = try fd.raw.allocIOAS(), ioas2 = try fd.raw.allocIOAS()
            try fd.raw.map(ioas: ioas, userVA: buf.va, length: MS.page, iova: MS.apertureStart)
            try fd.raw.map(ioas: ioas2, userVA: buf.va, length: MS.page, iova: MS.apertureStart)
            nth.enable()
            let md = try test.mockDomain(IOASID(rawValue: ioas), flags: .pasid)
            let dev = md.deviceID.rawValue
            _ = try fd.raw.hwInfo(device: dev, data: info, dataLength: 8)
            var hwpt = try fd.raw.allocHWPT(device: dev, pt: ioas, flags: pasidFlag)
            try test.mockDomainReplace(md.stdevID, with: IOASID(rawValue: ioas2))
            try test.mockDomainReplace(md.stdevID, with: HWPTID(rawValue: hwpt))
            hwpt = try fd.raw.allocHWPT(device: dev, pt: ioas, flags: HWPTCases.nestParent | pasidFlag)
            var noData: [UInt8] = []
            let viommu = try fd.raw.allocVIOMMU(type: UInt32(IOMMU_VIOMMU_TYPE_SELFTEST), device: dev, hwpt: hwpt, data: &noData)
            _ = try fd.raw.allocVDevice(viommu: viommu, device: dev, virtID: 0)
            _ = try fd.raw.allocHWQueue(viommu: viommu, type: UInt32(IOMMU_HW_QUEUE_TYPE_SELFTEST), index: 0,
                                        nestingParentIOVA: MS.apertureStart, length: MS.page)
            let fault = try fd.raw.allocFaultQueue()
            close(fault.fd)
            _ = try fd.raw.allocHWPT(device: dev, pt: hwpt, flags: HWPTCases.faultValid, dataType: selftest,
                                     data: HWPTCases.selftestData, faultID: fault.id)
            let veventq = try fd.raw.allocVEventQueue(viommu: viommu, type: UInt32(IOMMU_VEVENTQ_TYPE_SELFTEST), depth: 2)
            close(veventq.fd)
            let testHWPT = try fd.raw.allocHWPT(device: dev, pt: ioas, flags: pasidFlag)
            try test.pasidAttach(md.stdevID, pasid: 200, to: HWPTID(rawValue: hwpt))
            attached = (md.stdevID, 200)
            try test.pasidReplace(md.stdevID, pasid: 200, with: HWPTID(rawValue: testHWPT))
            try test.pasidDetach(md.stdevID, pasid: 200)
            attached = nil
        }
        if let (stdev, pasid) = attached { try? test.pasidDetach(stdev, pasid: pasid) }
        return result
    }
}
