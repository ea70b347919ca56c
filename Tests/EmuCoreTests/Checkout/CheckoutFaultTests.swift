@testable import EmuCore
@_spi(Testing) import EmuPOSIX
import Foundation
import SystemPackage
import Testing
@testable import EmuRecords
@testable import EmuRemote

/// The checkout's decisions when a call fails, through the POSIX layer's
/// fault seam: a failure while staging changes nothing the user has, and
/// metadata the restore may not set does not fail it.
@Suite("checkout: what each failure decides")
struct CheckoutFaultTests {
    @Test("a target that fills up (ENOSPC) while the restore is staged keeps the user's files as they were, and no temporary name")
    func fullTargetChangesNothing() throws {
        let bench = try Workbench()
        try bench.write("a", "saved a")
        try bench.write("dir/b", String(repeating: "b", count: 50_000))
        let snapshot = try #require(try bench.push().snapshot)
        try bench.write("a", "edited a")
        try FileManager.default.removeItem(atPath: bench.sourcePath + "/dir/b")
        let userNames = { bench.names(below: bench.sourcePath).filter { !$0.hasPrefix(".emu") } }
        let before = userNames()
        let failure = #expect(throws: FileSystemError.self) {
            try InjectedFaults.failing("copy to", under: bench.sourcePath, with: .noSpace) {
                try bench.checkout(snapshot, force: true)
            }
        }
        #expect(failure?.isOutOfSpace == true)
        #expect(try bench.read(bench.sourcePath + "/a") == "edited a")
        #expect(userNames() == before)
        let result = try bench.checkout(snapshot, force: true)
        #expect(result.filesWritten == 2)
        #expect(try bench.read(bench.sourcePath + "/a") == "saved a")
    }

    @Test("into --to DIR, a failure partway leaves DIR without half a tree")
    func failureIntoDirectoryLeavesNoHalfTree() throws {
        let bench = try Workbench()
        for i in 0..<20 { try bench.write("f\(i)", "file \(i)") }
        let snapshot = try #require(try bench.push().snapshot)
        let destination = bench.root + "/restored"
        #expect(throws: FileSystemError.self) {
            try InjectedFaults.failing("create", under: destination + "/", with: .ioError, times: 1) {
                try bench.checkout(snapshot, to: destination)
            }
        }
        #expect(bench.names(below: destination).isEmpty)
        #expect(try bench.checkout(snapshot, to: destination).filesWritten == 20)
    }

    @Test("an owner the restore may not set (EPERM) leaves the file restored with its bytes, mode and mtime")
    func ownerNotPermitted() throws {
        let bench = try Workbench()
        try bench.write("a", "bytes")
        chmod(bench.sourcePath + "/a", 0o640)
        let snapshot = try #require(try bench.push().snapshot)
        let destination = bench.root + "/restored"
        let result = try InjectedFaults.failing("change owner of", under: destination + "/", with: .notPermitted) {
            try bench.checkout(snapshot, to: destination)
        }
        #expect(result.filesWritten == 1)
        #expect(try bench.read(destination + "/a") == "bytes")
        let attributes = try FileManager.default.attributesOfItem(atPath: destination + "/a")
        #expect((attributes[.posixPermissions] as! NSNumber).intValue == 0o640)
        let saved = try FileManager.default.attributesOfItem(atPath: bench.sourcePath + "/a")
        #expect(attributes[.modificationDate] as? Date == saved[.modificationDate] as? Date)
    }
}
