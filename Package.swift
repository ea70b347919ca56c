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
        .target(
            name: "EmuCLI",
            dependencies: [
                "EmuCore", "EmuPOSIX", "CEmuShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(
            name: "EmuCore",
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
        .testTarget(name: "EmuCoreTests", dependencies: ["EmuCore", "EmuPOSIX"]),
        .testTarget(name: "EmuEndToEndTests", dependencies: ["emu", "EmuPOSIX"]),
        .testTarget(name: "EmuCLITests", dependencies: ["EmuCLI"]),
    ]
)
