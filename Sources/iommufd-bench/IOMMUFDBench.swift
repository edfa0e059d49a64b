import ArgumentParser
import IOMMUFD

/// The Swift side of Scripts/bench: the library's ioctl, region and IRQ paths, timed.
/// It runs the same slots as the C baseline (bench/baseline.c), in the same order, each
/// as `rounds + 1` batches (the first a warm-up); with `--turns` the two programs take
/// turns, one batch each, so every Swift batch has a C batch of the same slot just
/// before it. Prints `@@BENCH swift <session> <slot number> <name> <batch> <ns per op> <allocations per op>`.
@main
struct IOMMUFDBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iommufd-bench",
        abstract: "Time the library's ioctl, region and IRQ paths (needs /dev/iommu and an edu bound to vfio-pci).")
    @Option(help: "Operations per batch.") var iterations = 2000
    @Option(help: "Timed batches per measurement (after one warm-up batch).") var rounds = 10
    @Option(help: "The edu device for the region and IRQ measurements.") var device = "0000:00:10.0"
    @Option(help: "A number for this run's lines (Scripts/bench runs several).") var session = 1
    @Option(help: "WAIT-FIFO,SIGNAL-FIFO: take turns with the C baseline, one batch each.") var turns: String?
    @Flag(help: "With --turns: this side runs the first batch.") var first = false

    func run() throws {
        let turns = try self.turns.map { spec throws(IOMMUFDError) in try Turns(spec, first: first) }
        let bench = Bench(iterations: max(iterations, 1), rounds: max(rounds, 1), session: session, turns: turns)
        try IOMMUFDMeasurements.run(bench)
        try VFIOMeasurements.run(bench, address: device)
        try bench.finish(wentFirst: first)
    }
}
