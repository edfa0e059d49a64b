// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-iommufd",
    products: [
        .library(name: "IOMMUFD", targets: ["IOMMUFD"]),
        .library(name: "VFIO", targets: ["VFIO"]),
        .library(name: "Conformance", targets: ["Conformance"]),
        // iommufdctl's parser and runner, as a library for the fuzz targets (Fuzz/Package.swift).
        .library(name: "IOMMUFDCtlKit", targets: ["IOMMUFDCtlKit"]),
        .executable(name: "iommufd-conformance", targets: ["iommufd-conformance"]),
        .executable(name: "iommufdctl", targets: ["iommufdctl"]),
        .executable(name: "iommufd-bench", targets: ["iommufd-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` for the DocC catalogs (Scripts/docs).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // uAPI definitions and ioctl request numbers, written here (host headers are too old).
        .target(name: "CIOMMUFD", cSettings: [.define("_GNU_SOURCE")]),
        .target(
            name: "IOMMUFD",
            dependencies: ["CIOMMUFD", .product(name: "SystemPackage", package: "swift-system")],
            exclude: ["CMakeLists.txt"]  // the CMake build's (Scripts/cmake-build)
        ),
        .target(name: "VFIO", dependencies: ["IOMMUFD", "CIOMMUFD"], exclude: ["CMakeLists.txt"]),
        .target(name: "Conformance", dependencies: ["IOMMUFD", "VFIO", "CIOMMUFD"]),
        .executableTarget(
            name: "iommufd-conformance",
            dependencies: ["Conformance", "IOMMUFD", "CIOMMUFD",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Scripts/bench's Swift side; CAllocationCounter replaces malloc in it, so nothing else links it.
        .target(name: "CAllocationCounter"),
        .executableTarget(
            name: "iommufd-bench",
            dependencies: ["IOMMUFD", "VFIO", "CIOMMUFD", "CAllocationCounter",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "IOMMUFDCtlKit", dependencies: ["IOMMUFD", "VFIO", "CIOMMUFD"]),
        .executableTarget(
            name: "iommufdctl",
            dependencies: ["IOMMUFDCtlKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "IOMMUFDTests", dependencies: ["IOMMUFD", "CIOMMUFD"]),
        .testTarget(name: "VFIOTests", dependencies: ["VFIO", "IOMMUFD", "CIOMMUFD"]),
        .testTarget(name: "ConformanceTests", dependencies: ["Conformance"]),
        .testTarget(name: "IOMMUFDCtlTests", dependencies: ["IOMMUFDCtlKit", "iommufdctl"]),
    ]
)
