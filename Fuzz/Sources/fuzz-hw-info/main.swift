// The hw-info decoders: IOMMU_GET_HW_INFO's answer (HWInfo: type, capabilities,
// PASID width, driver data), the VT-d cap/ecap and SMMUv3 IDR field tables and
// their derived properties, the AMD/Tegra/selftest/unknown types' raw data, and
// what `iommufdctl hw-info` builds and prints from them (HWInfoReport, Format).
// The kernel is the fuzz input; any answer must decode or throw an IOMMUFDError.
import CIOMMUFD
import FuzzSupport
import Glibc
import IOMMUFD
@testable import IOMMUFDCtlKit

let fakeFD: Int32 = 0x7000

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzHWInfo(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let kernel = FuzzKernel(FuzzInput(inputBytes(data, size)))
    let info: HWInfo
    if kernel.input.bool() {
        guard let answered = queryThroughKernel(kernel) else { return 0 }
        info = answered
    } else {
        info = HWInfo(type: .init(rawValue: infoType(&kernel.input)), rawData: kernel.input.data(max: 96),
                      capabilities: .init(rawValue: kernel.input.u64()), maxPASIDLog2: kernel.input.u8())
    }
    decode(info)
    // The registers on their own, as a caller holding raw values would build them.
    decode(VTdInfo(flags: kernel.input.u32(), cap: kernel.input.u64(), ecap: kernel.input.u64()))
    decode(SMMUv3Info(idr: (0..<kernel.input.pick(9)).map { _ in kernel.input.u32() }))
    return 0
}

/// IOMMUFD.hwInfo against a kernel that writes the input into data_uptr (up to the
/// data_len it was given) and answers any data_len, type and capabilities.
func queryThroughKernel(_ kernel: FuzzKernel) -> HWInfo? {
    kernel.handle(.getHWInfo) { k, arg in
        guard let arg else { return -EFAULT }
        var cmd = arg.load(as: iommu_hw_info.self)
        let r = k.result()
        if let user = UnsafeMutableRawPointer(bitPattern: UInt(cmd.data_uptr)) {
            let filled = k.fill(UnsafeMutableRawBufferPointer(start: user, count: Int(cmd.data_len)))
            cmd.data_len = k.input.bool() ? UInt32(filled) : k.input.u32()
        }
        cmd.out_data_type = infoType(&k.input)
        cmd.out_capabilities = k.input.u64()
        cmd.out_max_pasid_log2 = k.input.u8()
        arg.storeBytes(of: cmd, as: iommu_hw_info.self)
        return r
    }
    let iommufd = IOMMUFD(adopting: fakeFD, driver: kernel)
    // The default buffer mostly; sometimes any size a caller could pass.
    let bufferSize = kernel.input.bool() ? 256 : kernel.input.interestingInt()
    let requested: UInt32? = kernel.input.bool() ? kernel.input.u32() : nil
    do throws(IOMMUFDError) {
        return try iommufd.hwInfo(device: IOMMUFDDeviceID(rawValue: kernel.input.u32()), requestedType: requested,
                                  bufferSize: bufferSize)
    } catch {
        _ = error.description
        return nil
    }
}

/// Mostly the known types (their decoders run), sometimes any value.
func infoType(_ input: inout FuzzInput) -> UInt32 {
    let known: [UInt32] = [0, 1, 2, 3, 4, UInt32(IOMMU_HW_INFO_TYPE_SELFTEST)]
    let i = input.pick(known.count + 1)
    return i < known.count ? known[i] : input.u32()
}

func decode(_ info: HWInfo) {
    _ = (info.type.description, info.capabilities.contains(.dirtyTracking), info.maxPASIDLog2)
    if let vtd = info.vtd { decode(vtd) }
    if let smmu = info.smmuv3 { decode(smmu) }
    // What `iommufdctl hw-info` prints and writes as JSON.
    var report = HWInfoReport(device: "0000:00:03.0")
    report.fill(info)
    _ = Format.hwInfo(report)
    _ = Format.json(report, pretty: false)
}

func decode(_ vtd: VTdInfo) {
    for f in vtd.fields { _ = f.description }
    _ = (vtd.supportedAddressWidths, vtd.mgaw, vtd.domainCount, vtd.faultRecordingRegisters,
         vtd.faultRecordingOffset, vtd.iotlbRegisterOffset, vtd.pasidBits, vtd.field("SAGAW"))
    _ = (vtd.cachingMode, vtd.nested, vtd.scalableMode, vtd.dirtyTracking, vtd.firstStage, vtd.secondStage)
}

func decode(_ smmu: SMMUv3Info) {
    for f in smmu.fields { _ = f.description }
    _ = (smmu.stage1, smmu.stage2, smmu.dirtyTracking, smmu.substreamIDBits, smmu.streamIDBits)
}

exit(runFuzzer(fuzzHWInfo))
