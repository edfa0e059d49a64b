import CIOMMUFD
import IOMMUFD
import VFIO

/// Decodes the raw bytes the library traces for an ioctl argument into named uAPI fields.
///
/// The library traces an argument as `bytes=<hex>` unless its type names its own fields;
/// this table gives the CLI the field names (offsets from the 6.12/newest uAPI headers).
/// Fields that do not fit a short buffer are left out; bytes past the known struct are shown as `tail`.
public enum StructDecoder {
    enum Format { case dec, hex, mapFlags, optionOp, signed, dmaMapFlags, dmaUnmapFlags }
    struct Slot {
        let name: String
        let offset: Int
        let width: Int
        let format: Format
        init(_ name: String, _ offset: Int, _ width: Int, _ format: Format = .dec) {
            self.name = name; self.offset = offset; self.width = width; self.format = format
        }
    }

    static let layouts: [UInt: [Slot]] = {
        var t: [UInt: [Slot]] = [:]
        t[IoctlRequest.destroy.number] = [Slot("size", 0, 4), Slot("id", 4, 4)]
        t[IoctlRequest.ioasAlloc.number] = [Slot("size", 0, 4), Slot("flags", 4, 4, .hex), Slot("out_ioas_id", 8, 4)]
        t[IoctlRequest.ioasIOVARanges.number] = [
            Slot("size", 0, 4), Slot("ioas_id", 4, 4), Slot("num_iovas", 8, 4), Slot("__reserved", 12, 4),
            Slot("allowed_iovas", 16, 8, .hex), Slot("out_iova_alignment", 24, 8, .hex),
        ]
        t[IoctlRequest.ioasAllowIOVAs.number] = [
            Slot("size", 0, 4), Slot("ioas_id", 4, 4), Slot("num_iovas", 8, 4), Slot("__reserved", 12, 4),
            Slot("allowed_iovas", 16, 8, .hex),
        ]
        t[IoctlRequest.ioasMap.number] = [
            Slot("size", 0, 4), Slot("flags", 4, 4, .mapFlags), Slot("ioas_id", 8, 4), Slot("__reserved", 12, 4),
            Slot("user_va", 16, 8, .hex), Slot("length", 24, 8, .hex), Slot("iova", 32, 8, .hex),
        ]
        t[IoctlRequest.ioasMapFile.number] = [
            Slot("size", 0, 4), Slot("flags", 4, 4, .mapFlags), Slot("ioas_id", 8, 4), Slot("fd", 12, 4, .signed),
            Slot("start", 16, 8, .hex), Slot("length", 24, 8, .hex), Slot("iova", 32, 8, .hex),
        ]
        t[IoctlRequest.ioasCopy.number] = [
            Slot("size", 0, 4), Slot("flags", 4, 4, .mapFlags), Slot("dst_ioas_id", 8, 4), Slot("src_ioas_id", 12, 4),
            Slot("length", 16, 8, .hex), Slot("dst_iova", 24, 8, .hex), Slot("src_iova", 32, 8, .hex),
        ]
        t[IoctlRequest.ioasUnmap.number] = [
            Slot("size", 0, 4), Slot("ioas_id", 4, 4), Slot("iova", 8, 8, .hex), Slot("length", 16, 8, .hex),
        ]
        t[IoctlRequest.option.number] = [
            Slot("size", 0, 4), Slot("option_id", 4, 4), Slot("op", 8, 2, .optionOp), Slot("__reserved", 10, 2),
            Slot("object_id", 12, 4), Slot("val64", 16, 8, .hex),
        ]
        t[IoctlRequest.vfioIOAS.number] = [
            Slot("size", 0, 4), Slot("ioas_id", 4, 4), Slot("op", 8, 2), Slot("__reserved", 10, 2),
        ]
        t[IoctlRequest.hwptAlloc.number] = [
            Slot("size", 0, 4), Slot("flags", 4, 4, .hex), Slot("dev_id", 8, 4), Slot("pt_id", 12, 4),
            Slot("out_hwpt_id", 16, 4), Slot("__reserved", 20, 4), Slot("data_type", 24, 4), Slot("data_len", 28, 4),
            Slot("data_uptr", 32, 8, .hex), Slot("fault_id", 40, 4), Slot("__reserved2", 44, 4),
        ]
        t[IoctlRequest.getHWInfo.number] = [
            Slot("size", 0, 4), Slot("flags", 4, 4, .hex), Slot("dev_id", 8, 4), Slot("data_len", 12, 4),
            Slot("data_uptr", 16, 8, .hex), Slot("out_data_type", 24, 4), Slot("out_max_pasid_log2", 28, 1),
            Slot("__reserved", 29, 3), Slot("out_capabilities", 32, 8, .hex),
        ]
        t[IoctlRequest.vfioDeviceBindIOMMUFD.number] = [
            Slot("argsz", 0, 4), Slot("flags", 4, 4, .hex), Slot("iommufd", 8, 4, .signed), Slot("out_devid", 12, 4),
            Slot("token_uuid_ptr", 16, 8, .hex),
        ]
        t[IoctlRequest.vfioDeviceAttachIOMMUFDPT.number] = [
            Slot("argsz", 0, 4), Slot("flags", 4, 4, .hex), Slot("pt_id", 8, 4), Slot("pasid", 12, 4),
        ]
        t[IoctlRequest.vfioDeviceDetachIOMMUFDPT.number] = [Slot("argsz", 0, 4), Slot("flags", 4, 4, .hex), Slot("pasid", 8, 4)]
        // Legacy container and group (the argument of SET_CONTAINER is a pointer to the container fd).
        t[IoctlRequest.vfioIOMMUMapDMA.number] = [
            Slot("argsz", 0, 4), Slot("flags", 4, 4, .dmaMapFlags), Slot("vaddr", 8, 8, .hex), Slot("iova", 16, 8, .hex),
            Slot("size", 24, 8, .hex),
        ]
        t[IoctlRequest.vfioIOMMUUnmapDMA.number] = [
            Slot("argsz", 0, 4), Slot("flags", 4, 4, .dmaUnmapFlags), Slot("iova", 8, 8, .hex), Slot("size", 16, 8, .hex),
        ]
        t[IoctlRequest.vfioGroupSetContainer.number] = [Slot("container_fd", 0, 4, .signed)]
        return t
    }()

    /// Requests whose by-value argument is a VFIO extension or IOMMU type.
    static let extensionArgument: Set<UInt> = [IoctlRequest.vfioSetIOMMU.number, IoctlRequest.vfioCheckExtension.number]

    /// Replaces a lone `bytes=<hex>` field by named fields when the request's layout is known.
    public static func decode(number: UInt, fields: [TraceField]) -> [TraceRecord.Field] {
        if let special = decodeSpecial(number: number, fields: fields) { return special }
        guard fields.count == 1, fields[0].name == "bytes", let layout = layouts[number],
              let bytes = parseHex(fields[0].value)
        else { return fields.map { TraceRecord.Field($0.name, $0.value) } }
        return decode(bytes: bytes, layout: layout)
    }

    /// Arguments that are not a struct: GET_DEVICE_FD's device name, SET_IOMMU's type.
    static func decodeSpecial(number: UInt, fields: [TraceField]) -> [TraceRecord.Field]? {
        guard fields.count == 1 else { return nil }
        if number == IoctlRequest.vfioGroupGetDeviceFD.number, fields[0].name == "bytes", let bytes = parseHex(fields[0].value) {
            return [.init("name", String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self))]
        }
        if extensionArgument.contains(number), fields[0].name == "value", let v = Numbers.parse(fields[0].value) {
            return [.init("value", fields[0].value), .init("type", VFIOExtension(rawValue: UInt(v)).description)]
        }
        return nil
    }

    static func decode(bytes: [UInt8], layout: [Slot]) -> [TraceRecord.Field] {
        var out: [TraceRecord.Field] = []
        var end = 0
        for slot in layout where slot.offset + slot.width <= bytes.count {
            var v: UInt64 = 0
            for i in 0..<slot.width { v |= UInt64(bytes[slot.offset + i]) << (8 * UInt64(i)) }
            end = max(end, slot.offset + slot.width)
            // Reserved fields are shown only when non-zero: that is when they matter.
            if slot.name.hasPrefix("__reserved") && v == 0 { continue }
            out.append(TraceRecord.Field(slot.name, format(v, slot)))
        }
        if bytes.count > end {
            let tail = bytes[end...]
            out.append(TraceRecord.Field(end == 0 ? "bytes" : "tail",
                                         tail.allSatisfy { $0 == 0 } ? "\(tail.count) zero bytes" : hex(Array(tail))))
        }
        return out
    }

    static func format(_ v: UInt64, _ slot: Slot) -> String {
        switch slot.format {
        case .dec: return String(v)
        case .hex: return Numbers.hex(v)
        case .signed: return String(Int32(truncatingIfNeeded: v))
        case .optionOp: return v == 0 ? "SET" : v == 1 ? "GET" : String(v)
        case .mapFlags:
            var names: [String] = []
            if v & 1 != 0 { names.append("FIXED_IOVA") }
            if v & 2 != 0 { names.append("WRITEABLE") }
            if v & 4 != 0 { names.append("READABLE") }
            if v & ~7 != 0 { names.append(Numbers.hex(v & ~7)) }
            return names.isEmpty ? "0" : names.joined(separator: "|")
        case .dmaMapFlags: return flagNames(v, ["READ", "WRITE", "VADDR"])
        case .dmaUnmapFlags: return flagNames(v, ["GET_DIRTY_BITMAP", "ALL", "VADDR"])
        }
    }

    /// `READ|WRITE` for bits 0 and 1; unknown bits in hex; `0` for none.
    static func flagNames(_ v: UInt64, _ names: [String]) -> String {
        var out: [String] = []
        for (bit, name) in names.enumerated() where v & (1 << UInt64(bit)) != 0 { out.append(name) }
        let known: UInt64 = (1 << UInt64(names.count)) - 1
        if v & ~known != 0 { out.append(Numbers.hex(v & ~known)) }
        return out.isEmpty ? "0" : out.joined(separator: "|")
    }

    static func parseHex(_ s: String) -> [UInt8]? {
        let chars = Array(s.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
