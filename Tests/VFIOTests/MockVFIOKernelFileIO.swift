import CIOMMUFD
import Glibc
import IOMMUFD
@testable import VFIO

/// MOCK: the device file side of MockVFIOKernel (config space and the edu BAR0 registers and DMA).
extension MockVFIOKernel {
    // MARK: DeviceFileIO: config space + the edu's BAR0

    func pread(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: UInt64) -> Int {
        if realFDs.contains(fd) { return SystemFileIO().pread(fd: fd, into: buffer, offset: offset) }
        return state.withLock { s in
            let index = UInt32(offset >> 40), off = Int(offset & ((1 << 40) - 1))
            switch index {
            case 7:
                guard off + buffer.count <= 256 else { return -Int(EINVAL) }
                for i in 0..<buffer.count { buffer[i] = s.config[off + i] }
            case 0:
                var v = eduRead(&s.edu, off, buffer.count)
                for i in 0..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: v); v >>= 8 }
            default:
                return -Int(EINVAL)
            }
            return buffer.count
        }
    }

    func pwrite(fd: Int32, from buffer: UnsafeRawBufferPointer, offset: UInt64) -> Int {
        if realFDs.contains(fd) { return SystemFileIO().pwrite(fd: fd, from: buffer, offset: offset) }
        return state.withLock { s in
            let index = UInt32(offset >> 40), off = Int(offset & ((1 << 40) - 1))
            var v: UInt64 = 0
            for i in (0..<buffer.count).reversed() { v = v << 8 | UInt64(buffer[i]) }
            switch index {
            case 7:
                guard off + buffer.count <= 256 else { return -Int(EINVAL) }
                for i in 0..<buffer.count { s.config[off + i] = buffer[i] }
            case 0:
                eduWrite(&s, off, buffer.count, v)
            default:
                return -Int(EINVAL)
            }
            return buffer.count
        }
    }

    func eduRead(_ e: inout EduState, _ off: Int, _ size: Int) -> UInt64 {
        if off >= 0x40000 && off < 0x41000 { return UInt64(e.buffer[off - 0x40000]) }
        if size != 4 && (off < 0x80 || size != 8) { return .max }
        switch off {
        case 0x00: return eduID
        case 0x04: return UInt64(e.liveness)
        case 0x24: return UInt64(e.irqStatus)
        case 0x80: return e.src
        case 0x88: return e.dst
        case 0x90: return e.cnt
        case 0x98:
            // The copy already happened; report "running" for a few polls, like the timer.
            if e.pollsLeft > 0 { e.pollsLeft -= 1; if e.pollsLeft == 0 { e.cmd &= ~1 } }
            return e.cmd
        default: return size == 4 ? 0xffff_ffff : .max
        }
    }

    func eduWrite(_ s: inout State, _ off: Int, _ size: Int, _ v: UInt64) {
        if size != 4 && (off < 0x80 || size != 8) { return }
        let running = s.edu.cmd & 1 != 0
        switch off {
        case 0x04: s.edu.liveness = ~UInt32(truncatingIfNeeded: v)
        case 0x60: s.edu.irqStatus |= UInt32(truncatingIfNeeded: v)
        case 0x64: s.edu.irqStatus &= ~UInt32(truncatingIfNeeded: v)
        case 0x80 where !running: s.edu.src = v
        case 0x88 where !running: s.edu.dst = v
        case 0x90 where !running: s.edu.cnt = v
        case 0x98 where !running && v & 1 != 0:
            s.edu.cmd = v
            runDMA(&s)
            s.edu.pollsLeft = dmaPolls
            if dmaPolls == 0 { s.edu.cmd &= ~1 }
        default: break
        }
    }

    /// The copy, through the mock IOMMU: unmapped IOVAs fault and nothing lands.
    func runDMA(_ s: inout State) {
        let toRAM = s.edu.cmd & 2 != 0
        let ramIOVA = toRAM ? s.edu.dst : s.edu.src
        let devOff = Int((toRAM ? s.edu.src : s.edu.dst) &- 0x40000)
        let n = Int(s.edu.cnt)
        guard s.config.le(UInt16.self, at: 4).map({ $0 & 4 != 0 }) == true,
              devOff >= 0, devOff + n <= 4096,
              let (iova, m) = s.iommu.first(where: { $0.key <= ramIOVA && ramIOVA + UInt64(n) <= $0.key + $0.value.0 }),
              let host = UnsafeMutableRawPointer(bitPattern: UInt(m.1 + (ramIOVA - iova))) else {
            s.faults.append(ramIOVA)
            return
        }
        for i in 0..<n {
            if toRAM { host.storeBytes(of: s.edu.buffer[devOff + i], toByteOffset: i, as: UInt8.self) }
            else { s.edu.buffer[devOff + i] = host.load(fromByteOffset: i, as: UInt8.self) }
        }
        if s.edu.cmd & 4 != 0 { s.edu.irqStatus |= 0x100 }
    }
}
