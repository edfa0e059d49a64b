import CAllocationCounter
import Glibc
import IOMMUFD

/// Runs each measurement as `rounds + 1` batches of `iterations` operations (the first
/// a warm-up), taking turns with the C baseline when `turns` is set, and counts the
/// heap allocations of the timed batches (CAllocationCounter sees every malloc-family
/// call). Results are kept and printed by `printResults`, after the last batch, so
/// printing never disturbs a timing.
final class Bench {
    let iterations: Int
    let rounds: Int
    let session: Int
    private let turns: Turns?
    private var results: [String] = []
    /// Slots run so far; the C side numbers its slots the same way.
    private var slots = 0

    init(iterations: Int, rounds: Int, session: Int, turns: Turns?) {
        self.iterations = iterations
        self.rounds = rounds
        self.session = session
        self.turns = turns
    }

    // Inlined, so the operation's body sits in the timed loop without a closure call.
    @inline(__always)
    func measure(_ name: String, _ operation: () throws(IOMMUFDError) -> Void) throws(IOMMUFDError) {
        slots += 1
        let clock = ContinuousClock()
        for batch in 0...rounds {
            try turns?.take()
            let allocationsBefore = bench_allocation_count()
            let start = clock.now
            for _ in 0..<iterations { try operation() }
            let elapsed = clock.now - start
            let allocations = bench_allocation_count() - allocationsBefore
            try turns?.pass()
            if batch > 0 {
                let ns = Double(elapsed / .nanoseconds(1)) / Double(iterations)
                results.append("@@BENCH swift \(session) \(slots) \(name) \(batch) \(rounded(ns)) \(rounded(Double(allocations) / Double(iterations)))")
            }
        }
    }

    /// A measurement this machine cannot make: its turns are still taken, empty.
    func skip(_ name: String, _ why: String) throws(IOMMUFDError) {
        slots += 1
        for _ in 0...rounds {
            try turns?.take()
            try turns?.pass()
        }
        results.append("@@BENCH-SKIP swift \(session) \(slots) \(name) \(why)")
    }

    /// Waits for the other side's last batch when this side went first, then prints.
    func finish(wentFirst: Bool) throws(IOMMUFDError) {
        if wentFirst { try turns?.take() }
        for line in results { print(line) }
    }

    private func rounded(_ x: Double) -> Double { (x * 100).rounded() / 100 }
}

/// One batch each: a byte through one FIFO says "your turn", through the other "mine is done".
final class Turns {
    private let waitFD: Int32
    private let signalFD: Int32
    private var mine: Bool

    /// `spec` is `WAIT-FIFO,SIGNAL-FIFO`. Opened read-write, so opening never blocks on the other side.
    init(_ spec: String, first: Bool) throws(IOMMUFDError) {
        let paths = spec.split(separator: ",").map(String.init)
        guard paths.count == 2 else {
            throw IOMMUFDError(ioctl: "iommufd-bench", errno: .invalidArgument, origin: .validation, argument: "--turns",
                               meaning: "expected WAIT-FIFO,SIGNAL-FIFO")
        }
        waitFD = try Self.open(paths[0])
        signalFD = try Self.open(paths[1])
        mine = first
    }

    func take() throws(IOMMUFDError) {
        if mine { return }
        var p = pollfd(fd: waitFD, events: Int16(POLLIN), revents: 0)
        var token: UInt8 = 0
        guard poll(&p, 1, 120_000) == 1, read(waitFD, &token, 1) == 1 else {
            throw .system("read", Errno(rawValue: errno), on: "turn FIFO", argument: "the C side stopped taking turns")
        }
        mine = true
    }

    func pass() throws(IOMMUFDError) {
        var token: UInt8 = 0
        guard write(signalFD, &token, 1) == 1 else { throw .system("write", Errno(rawValue: errno), on: "turn FIFO") }
        mine = false
    }

    private static func open(_ path: String) throws(IOMMUFDError) -> Int32 {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open", Errno(rawValue: errno), on: path) }
        return fd
    }
}
