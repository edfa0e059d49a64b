import CIOMMUFD
import IOMMUFD
import Testing

@Suite struct HWInfoTests {
    /// QEMU intel-iommu (aw-bits 39, caching mode) legacy mode: cap and ecap as the guest sees them.
    /// Expected values are the spec bit fields of these words, worked out by hand.
    @Test func decodesQEMULegacyVTd() {
        let vtd = VTdInfo(cap: 0x00d2_008c_2226_0286, ecap: 0x0000_0000_00f0_0f4a)
        #expect(vtd.field("ND") == 6)
        #expect(vtd.domainCount == 65536)
        #expect(vtd.cachingMode)
        #expect(vtd.sagaw == 0b00010)
        #expect(vtd.supportedAddressWidths == [39])
        #expect(vtd.field("MGAW") == 38)
        #expect(vtd.mgaw == 39)
        #expect(vtd.field("ZLR") == 0)
        #expect(vtd.field("FRO") == 0x22)
        #expect(vtd.faultRecordingOffset == 0x220)
        #expect(vtd.field("SLLPS") == 3)
        #expect(vtd.secondStage2MiBPages && vtd.secondStage1GiBPages)
        #expect(vtd.pageSelectiveInvalidation)
        #expect(vtd.faultRecordingRegisters == 1)
        #expect(vtd.field("MAMV") == 18)
        #expect(vtd.field("DWD") == 1 && vtd.field("DRD") == 1)
        #expect(!vtd.firstStage1GiBPages && !vtd.postedInterrupts && !vtd.firstStage5Level)

        #expect(!vtd.coherent)
        #expect(vtd.queuedInvalidation)
        #expect(!vtd.deviceTLB)
        #expect(vtd.interruptRemapping)
        #expect(!vtd.extendedInterruptMode)
        #expect(vtd.passThrough)
        #expect(!vtd.snoopControl)
        #expect(vtd.field("IRO") == 0xf)
        #expect(vtd.iotlbRegisterOffset == 0xf0)
        #expect(vtd.field("MHMV") == 0xf)
        #expect(!vtd.nested && !vtd.scalableMode && !vtd.pasid && !vtd.firstStage && !vtd.secondStage)
        #expect(!vtd.dirtyTracking)
        #expect(vtd.pasidBits == nil)
    }

    /// The same QEMU IOMMU with x-scalable-mode=on: adds SRS (31), SMTS (43), SLTS (46).
    @Test func decodesQEMUScalableVTd() {
        let vtd = VTdInfo(cap: 0x00d2_008c_2226_0286, ecap: 0x0000_4800_80f0_0f4a)
        #expect(vtd.scalableMode)
        #expect(vtd.supervisorRequests)
        #expect(vtd.secondStage)
        #expect(!vtd.firstStage)
        #expect(!vtd.pasid)
        #expect(!vtd.nested)
        #expect(!vtd.dirtyTracking)
        #expect(vtd.field("SMTS") == 1 && vtd.field("SRS") == 1 && vtd.field("SLTS") == 1)
        #expect(vtd.field("FLTS") == 0 && vtd.field("SLADS") == 0 && vtd.field("PSS") == 0)
        // Named fields for printing: every set ecap bit is listed with its meaning.
        let set = vtd.fields.filter { $0.register == "ecap" && $0.width == 1 && $0.value == 1 }.map(\.name)
        #expect(set == ["QI", "IR", "PT", "SRS", "SMTS", "SLTS"])
        #expect(vtd.fields.allSatisfy { !$0.meaning.isEmpty })
    }

    @Test func decodesSMMUv3IDRs() {
        // IDR0: S1P|S2P, TTF=2, HTTU=2, ST_LEVEL=1; IDR1: SIDSIZE 16, SSIDSIZE 20.
        let idr0: UInt32 = 0b11 | (2 << 2) | (2 << 6) | (1 << 27)
        let idr1: UInt32 = 16 | (20 << 6)
        let info = SMMUv3Info(idr: [idr0, idr1, 0, 1 << 10, 0, 0b101 | (1 << 4)])
        #expect(info.stage1 && info.stage2)
        #expect(info.dirtyTracking)
        #expect(info.field("ST_LEVEL") == 1)
        #expect(info.streamIDBits == 16)
        #expect(info.substreamIDBits == 20)
        #expect(info.field("RIL") == 1)
        #expect(info.field("OAS") == 5)
        #expect(info.field("GRAN4K") == 1)
    }

    @Test func getHWInfoSendsBufferAndDecodes() throws {
        let mock = MockIoctlDriver()
        mock.script(.getHWInfo, .edit { p in
            let cmd = p.assumingMemoryBound(to: iommu_hw_info.self)
            let data = iommu_hw_info_vtd(flags: 0, __reserved: 0, cap_reg: 0x00d2_008c_2226_0286,
                                         ecap_reg: 0x0000_4800_80f0_0f4a)
            UnsafeMutableRawPointer(bitPattern: UInt(cmd.pointee.data_uptr))?.storeBytes(of: data, as: iommu_hw_info_vtd.self)
            cmd.pointee.data_len = UInt32(MemoryLayout<iommu_hw_info_vtd>.size)
            cmd.pointee.out_data_type = UInt32(IOMMU_HW_INFO_TYPE_INTEL_VTD.rawValue)
            cmd.pointee.out_capabilities = UInt64(IOMMU_HW_CAP_DIRTY_TRACKING.rawValue)
            cmd.pointee.out_max_pasid_log2 = 20
        })
        let iommufd = IOMMUFD(adopting: 201, driver: mock)
        let info = try iommufd.hwInfo(device: IOMMUFDDeviceID(rawValue: 4))
        let sent = try #require(mock.calls(.getHWInfo).first).decode(iommu_hw_info.self)
        #expect(sent.size == UInt32(MemoryLayout<iommu_hw_info>.size))
        #expect(sent.dev_id == 4)
        #expect(sent.flags == 0)
        #expect(sent.data_len == 256)
        #expect(sent.data_uptr != 0)
        #expect(info.type == .intelVTd)
        #expect(info.rawData.count == 24)
        #expect(info.capabilities == .dirtyTracking)
        #expect(info.maxPASIDLog2 == 20)
        #expect(info.vtd?.scalableMode == true)
        #expect(info.vtd?.mgaw == 39)
        #expect(info.smmuv3 == nil)
    }

    @Test func hwInfoTypesMap() {
        #expect(HWInfo.IOMMUType(rawValue: 0) == .none)
        #expect(HWInfo.IOMMUType(rawValue: 2) == .armSMMUv3)
        #expect(HWInfo.IOMMUType(rawValue: 0xfeed_beef) == .selftest)
        #expect(HWInfo.IOMMUType(rawValue: 77) == .unknown(77))
    }
}
