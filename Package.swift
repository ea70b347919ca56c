// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "emu",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "emu", targets: ["emu"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .executableTarget(name: "emu", dependencies: ["EmuCLI"]),
        // The layers, each seeing only those below it:
        // EmuPOSIX → EmuRecords → EmuCore → EmuRemote → EmuCLI.
        .target(
            name: "EmuCLI",
            dependencies: [
                "EmuRemote", "EmuCore", "EmuRecords", "EmuPOSIX", "CEmuShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The protocol, the ssh channel, RemoteSink (a SinkStore over it) and emu serve.
        .target(name: "EmuRemote", dependencies: ["EmuCore", "EmuRecords", "EmuPOSIX"]),
        // Sinks and sources, and what commands do with them: push, checkout, compare, export, import, watch.
        .target(
            name: "EmuCore",
            dependencies: [
                "EmuRecords", "EmuPOSIX", "CZstd",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // Records and manifests, snapshots' records, an inode's metadata, and the support they share.
        .target(
            name: "EmuRecords",
            dependencies: [
                "EmuPOSIX", "CZstd",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(
            name: "EmuPOSIX",
            dependencies: [
                "CEmuShims",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .target(
            name: "CEmuShims",
            linkerSettings: [.linkedLibrary("acl"), .linkedLibrary("attr")]),
        .testTarget(name: "EmuPOSIXTests", dependencies: ["EmuPOSIX"]),
        .testTarget(name: "EmuCoreTests", dependencies: ["EmuRemote", "EmuCore", "EmuRecords", "EmuPOSIX"]),
        .testTarget(name: "EmuEndToEndTests", dependencies: ["emu", "EmuPOSIX"]),
        .testTarget(name: "EmuCLITests", dependencies: ["EmuCLI", "EmuCore", "EmuRecords"]),
    ]
)
