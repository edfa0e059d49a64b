// swift-tools-version: 6.0
// libFuzzer targets for swift-iommufd, kept out of the main package so a normal
// `swift build` never sees them. Built and run by Scripts/fuzz:
//   swift build --package-path Fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address
// Each target's main.swift passes its callback to libFuzzer's LLVMFuzzerRunDriver:
// SwiftPM points an executable's `main` at the module's own entry point, so
// libFuzzer's main never runs. The callback is also exported as
// LLVMFuzzerTestOneInput, which libFuzzer's (unused) main object still references.
import Foundation
import PackageDescription

// A path dependency is named after its folder, which differs between checkouts
// (main, a worktree, CI's clone).
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()
let rootPackage = root.lastPathComponent.lowercased()

func library(_ name: String) -> Target.Dependency { .product(name: name, package: rootPackage) }

func fuzzTarget(_ name: String, _ libraries: [String]) -> Target {
    .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzSupport"] + libraries.map(library))
}

let package = Package(
    name: "swift-iommufd-fuzz",
    dependencies: [.package(path: root.path)],
    targets: [
        // Declares LLVMFuzzerRunDriver (libFuzzer's entry for programs with their own main).
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver", library("IOMMUFD"), library("VFIO")]),
        fuzzTarget("step-file", ["IOMMUFDCtlKit"]),
        fuzzTarget("info-chain", ["VFIO", "IOMMUFD"]),
        fuzzTarget("hw-info", ["IOMMUFD", "IOMMUFDCtlKit"]),
        fuzzTarget("request-validation", ["IOMMUFD", "VFIO"]),
        fuzzTarget("results-json", ["Conformance"]),
    ]
)
