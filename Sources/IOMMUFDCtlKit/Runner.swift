import CIOMMUFD
import IOMMUFD
import SystemPackage
import VFIO

/// What one step did.
public struct StepResult: Sendable, Encodable {
    public enum Status: String, Sendable, Encodable {
        /// The outcome matched the expectation (or, without one, succeeded).
        case passed
        /// The outcome did not match the expectation (or, without one, failed).
        case failed
        /// Not run: an earlier step failed and --keep-going was not given.
        case notRun = "not-run"
    }

    public let line: Int
    public let step: String
    public let expect: String?
    public let status: Status
    /// `ok`, or the errno symbol.
    public let outcome: String?
    public let error: ErrorInfo?
    /// What the step learnt: an IOVA, an id, ranges...
    public let values: [TraceRecord.Field]
    /// The ioctls issued, as they went to the kernel.
    public let ioctls: [TraceRecord]

    public struct ErrorInfo: Sendable, Encodable, Equatable {
        public let ioctl: String
        public let errno: Int32
        public let errnoName: String
        public let meaning: String
        /// `kernel`, `validation` (rejected before the syscall) or the failing local call.
        public let origin: String
        public let argument: String?

        public init(_ e: IOMMUFDError) {
            ioctl = e.ioctl
            errno = e.errno.rawValue
            errnoName = IOMMUFDError.symbol(e.errno)
            meaning = e.meaning
            switch e.origin {
            case .kernel: origin = "kernel"
            case .validation: origin = "validation"
            case .system(let call): origin = call
            }
            argument = e.argument
        }

        enum CodingKeys: String, CodingKey {
            case ioctl, errno, errnoName = "errno_name", meaning, origin, argument
        }
    }

    enum CodingKeys: String, CodingKey { case line, step, expect, status, outcome, error, values, ioctls }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(line, forKey: .line)
        try c.encode(step, forKey: .step)
        try c.encodeIfPresent(expect, forKey: .expect)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(outcome, forKey: .outcome)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encode(FieldList(fields: values), forKey: .values)
        try c.encode(ioctls, forKey: .ioctls)
    }
}

/// The result of a whole step file.
public struct RunReport: Sendable, Encodable {
    public let file: String
    public let summary: [String]
    public let steps: [StepResult]

    public var passed: Int { steps.filter { $0.status == .passed }.count }
    public var failed: Int { steps.filter { $0.status == .failed }.count }
    public var notRun: Int { steps.filter { $0.status == .notRun }.count }
    /// Exit status 0 only when every step ran and every expectation held.
    public var ok: Bool { failed == 0 && notRun == 0 }

    enum CodingKeys: String, CodingKey { case file, summary, steps, passed, failed, notRun = "not_run", ok }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file)
        try c.encode(summary, forKey: .summary)
        try c.encode(steps, forKey: .steps)
        try c.encode(passed, forKey: .passed)
        try c.encode(failed, forKey: .failed)
        try c.encode(notRun, forKey: .notRun)
        try c.encode(ok, forKey: .ok)
    }
}

/// Runs the steps of a file against a session, one ioctl per step, recording what the
/// kernel (or a mock driver) saw through the library's ioctl trace hook.
public struct StepRunner {
    public var keepGoing: Bool
    /// Called after each step (for live output).
    public var onStep: ((StepResult) -> Void)?

    public init(keepGoing: Bool = false, onStep: ((StepResult) -> Void)? = nil) {
        self.keepGoing = keepGoing
        self.onStep = onStep
    }

    public func run(_ file: StepFile, in session: Session) -> RunReport {
        let collector = TraceCollector(fds: session.descriptors)
        var results: [StepResult] = []
        var stopped = false
        IoctlTracer.with(collector.sink) {
            for step in file.steps {
                if stopped {
                    results.append(StepResult(line: step.line, step: step.text, expect: step.expect?.description,
                                              status: .notRun, outcome: nil, error: nil, values: [], ioctls: []))
                    continue
                }
                _ = collector.drain()
                var values: [TraceRecord.Field] = []
                var error: IOMMUFDError?
                do throws(IOMMUFDError) {
                    values = try execute(step.action, session, collector)
                } catch let e {
                    error = e
                }
                let held = Self.holds(step.expect, error)
                let result = StepResult(
                    line: step.line, step: step.text, expect: step.expect?.description,
                    status: held ? .passed : .failed,
                    outcome: error.map { IOMMUFDError.symbol($0.errno) } ?? "ok",
                    error: error.map(StepResult.ErrorInfo.init), values: values, ioctls: collector.drain())
                results.append(result)
                onStep?(result)
                if !held && !keepGoing { stopped = true }
            }
        }
        return RunReport(file: file.name, summary: file.summary, steps: results)
    }

    /// Whether an outcome meets the expectation; without one, success is expected.
    public static func holds(_ expect: Expectation?, _ error: IOMMUFDError?) -> Bool {
        switch (expect ?? .ok, error) {
        case (.ok, nil): return true
        case (.ok, .some): return false
        case (.errno, nil): return false
        case (.errno(let want), .some(let got)): return want == got.errno
        }
    }

    func execute(_ action: Step.Action, _ s: Session, _ collector: TraceCollector) throws(IOMMUFDError) -> [TraceRecord.Field] {
        switch action {
        case .ioasAlloc(let name):
            let ioas = try s.iommufd.allocIOAS()
            let id = ioas.release()
            s.ioas[name] = id
            return [.init(name, String(describing: id))]

        case .buffer(let name, let size, let kind):
            let b = try StepBuffer.allocate(size: size, kind: kind)
            s.buffers[name] = b
            return [.init(name, "\(kind.rawValue) \(Numbers.hex(size)) bytes at \(Numbers.hex(UInt(bitPattern: b.base)))")]

        case .map(let ioasName, let bufferName, let va, let offset, let length, let iovaArg, let access, let raw, let name):
            let userVA: UInt64
            let len: UInt64
            if let bufferName {
                let b = try s.buffer(bufferName)
                userVA = userPointer(b.base) &+ offset
                len = length ?? (b.size > offset ? b.size - offset : 0)
            } else {
                userVA = (va ?? 0) &+ offset
                len = length ?? 0
            }
            let iova = try iovaArg.map { (a) throws(IOMMUFDError) in try s.number(a) }
            let result: UInt64
            if raw {
                result = try s.iommufd.raw.map(ioas: try s.ioasID(ioasName).rawValue, userVA: userVA, length: len,
                                               iova: iova, flags: access.rawValue)
            } else {
                result = try s.withIOAS(ioasName) { (ioas) throws(IOMMUFDError) in
                    try ioas.map(userVA: userVA, length: len, at: iova, access: access)
                }
            }
            if let name { s.mappings[name] = result }
            return [.init(name ?? "iova", Numbers.hex(result))]

        case .unmap(let ioasName, let iovaArg, let lengthArg, let all, let raw):
            let unmapped: UInt64
            if all {
                unmapped = try s.withIOAS(ioasName) { (ioas) throws(IOMMUFDError) in try ioas.unmapAll() }
            } else {
                let iova = try s.number(iovaArg ?? .literal(0))
                let length = try s.number(lengthArg ?? .literal(0))
                if raw {
                    unmapped = try s.iommufd.raw.unmap(ioas: try s.ioasID(ioasName).rawValue, iova: iova, length: length)
                } else {
                    unmapped = try s.withIOAS(ioasName) { (ioas) throws(IOMMUFDError) in
                        try ioas.unmap(iova: iova, length: length)
                    }
                }
            }
            return [.init("unmapped", Numbers.hex(unmapped))]

        case .copy(let dst, let src, let srcIOVAArg, let length, let iovaArg, let access, let name):
            let srcID = try s.ioasID(src)
            let srcIOVA = try s.number(srcIOVAArg)
            let iova = try iovaArg.map { (a) throws(IOMMUFDError) in try s.number(a) }
            let result = try s.withIOAS(dst) { (ioas) throws(IOMMUFDError) in
                try ioas.copy(from: srcID, sourceIOVA: srcIOVA, length: length, to: iova, access: access)
            }
            if let name { s.mappings[name] = result }
            return [.init(name ?? "iova", Numbers.hex(result))]

        case .iovaRanges(let ioasName):
            let ranges = try s.withIOAS(ioasName) { (ioas) throws(IOMMUFDError) in try ioas.iovaRanges() }
            return [.init("ranges", ranges.ranges.map(\.description).joined(separator: ",")),
                    .init("alignment", Numbers.hex(ranges.alignment))]

        case .allowIOVAs(let ioasName, let ranges):
            try s.withIOAS(ioasName) { (ioas) throws(IOMMUFDError) in try ioas.allowIOVAs(ranges) }
            return [.init("allowed", ranges.isEmpty ? "any" : ranges.map(\.description).joined(separator: ","))]

        case .option(let option, let ioasName, let set):
            let object = try ioasName.map { (n) throws(IOMMUFDError) in try s.ioasID(n).rawValue } ?? 0
            let value = try s.iommufd.fd.raw.option(option.rawID, object: object, set: set)
            return [.init("val64", Numbers.hex(value))]

        case .destroy(let arg):
            let id = try s.number(arg)
            guard id <= UInt32.max else { throw .invalid(.destroy, argument: "id", "ids are 32-bit") }
            try s.iommufd.fd.raw.destroy(UInt32(id))
            return []

        case .rawSize(let request, let size, let bytes, let ioasName):
            var buffer = [UInt8](repeating: 0, count: bytes)
            withUnsafeBytes(of: size.littleEndian) { raw in
                for (i, b) in raw.enumerated() where i < buffer.count { buffer[i] = b }
            }
            if let ioasName, let slot = StructDecoder.layouts[request.number]?.first(where: { $0.name == "ioas_id" }) {
                let id = try s.ioasID(ioasName).rawValue
                withUnsafeBytes(of: id.littleEndian) { raw in
                    for (i, b) in raw.enumerated() where slot.offset + i < buffer.count { buffer[slot.offset + i] = b }
                }
            }
            let fd = s.iommufd.fd
            let count = buffer.count
            let result: Result<Int32, IOMMUFDError> = buffer.withUnsafeMutableBytes { raw in
                do throws(IOMMUFDError) {
                    return .success(try fd.perform(request, bytes: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count])))
                } catch { return .failure(error) }
            }
            return [.init("result", String(try result.get()))]

        case .openDevice(let name, let path):
            let raw = try s.openDevice(path)
            let device = VFIODevice(adopting: raw, name: path, driver: s.iommufd.fd.driver)
            s.devices[name] = Session.Device(device)
            collector.watch(raw)
            return [.init(name, "\(path) fd=\(raw)")]

        case .bind(let name):
            let d = try s.device(name)
            let id = try d.device.bind(iommufd: s.iommufd)
            d.id = id.rawValue
            return [.init("dev_id", String(id.rawValue))]

        case .attach(let name, let ptArg):
            let d = try s.device(name)
            let pt = try s.number(ptArg)
            guard pt <= UInt32.max else { throw .invalid(.vfioDeviceAttachIOMMUFDPT, argument: "pt_id", "ids are 32-bit") }
            // IOAS or HWPT: the kernel decides from the id.
            let hwpt = try d.device.attach(IOASID(rawValue: UInt32(pt)))
            return [.init("hwpt", String(describing: hwpt))]

        case .detach(let name):
            try s.device(name).device.detach()
            return []

        case .legacyVFIO(let step):
            return try executeLegacyVFIO(step, s, collector)
        }
    }
}
