// swift-tools-version: 6.0
// Small tools written against the public API of swift-iommufd only, as a user would.
// Build: swift build --package-path Examples. Run them inside the test VM
// (Scripts/check-cli-vm does: they need /dev/iommu and an edu device bound to vfio-pci).
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, which depends on the checkout.
let parent = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()
let library = parent.lastPathComponent

let package = Package(
    name: "swift-iommufd-examples",
    dependencies: [.package(path: parent.path)],
    targets: [
        .executableTarget(name: "edu-dma", dependencies: [
            .product(name: "IOMMUFD", package: library), .product(name: "VFIO", package: library),
        ]),
        .executableTarget(name: "iommu-probe", dependencies: [
            .product(name: "IOMMUFD", package: library), .product(name: "VFIO", package: library),
        ]),
    ]
)
