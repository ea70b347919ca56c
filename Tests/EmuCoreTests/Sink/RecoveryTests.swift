@testable import EmuCore
@_spi(Testing) import EmuPOSIX
import Foundation
import SystemPackage
import Testing
@testable import EmuRecords
@testable import EmuRemote

/// Recovery's decisions, each from the state a command stopped at one of
/// its steps leaves (the step's call failed through the fault seam, as a
/// kill or a power cut there would stop it).
@Suite("recovery: finishing what a stopped command left")
struct RecoveryTests {
    @Test("a push stopped between its tree's rename and its record's leaves no snapshot; recovery makes the tree the next push's resume area, which copies nothing again")
    func pushStoppedBeforeItsRecord() throws {
        let bench = try Workbench()
        try bench.write("a", "alpha")
        try bench.write("dir/b", String(repeating: "b", count: 70_000))
        #expect(throws: FileSystemError.self) {
            try InjectedFaults.failing("rename", under: bench.sinkPath + "/.emu/nodes/", with: .ioError) { try bench.push() }
        }
        #expect(try bench.sink.snapshots().isEmpty)
        #expect(bench.names(below: bench.sinkPath + "/.emu/trees").count > 0, "the tree was published before the record failed")
        try bench.locked { try bench.sink.recover() }
        #expect(bench.names(below: bench.sinkPath + "/.emu/trees").isEmpty)
        #expect(bench.names(below: bench.sinkPath + "/.emu/resume").contains("tree/dir/b"))
        let result = try bench.push()
        #expect(result.snapshot?.status == .complete)
        #expect(result.counts.filesCopied == 0)
        #expect(result.counts.filesLinked == 2)
        #expect(result.snapshot?.uniqueBytes == 70_005, "the resumed copies are the new snapshot's own")
        #expect(!FileManager.default.fileExists(atPath: bench.sinkPath + "/.emu/resume"))
    }

    @Test("a deletion stopped after its record went to trash: the snapshot is gone at once, and recovery removes the rest")
    func deletionStoppedAfterItsRecord() throws {
        let bench = try Workbench()
        try bench.write("a", "one")
        let first = try #require(try bench.push().snapshot)
        try bench.write("a", "two")
        let second = try #require(try bench.push().snapshot)
        #expect(throws: FileSystemError.self) {
            try InjectedFaults.failing("rename", under: bench.sinkPath + "/.emu/trash/\(first.id).tree", with: .ioError) {
                try bench.locked { try bench.sink.delete(first) }
            }
        }
        #expect(try bench.sink.snapshots().map(\.id) == [second.id])
        #expect(FileManager.default.fileExists(atPath: bench.inSnapshot(first, "a")), "the stopped deletion left the tree")
        try bench.locked { try bench.sink.recover() }
        #expect(!FileManager.default.fileExists(atPath: bench.inSnapshot(first, "")))
        #expect(bench.names(below: bench.sinkPath + "/.emu/trash").isEmpty)
        #expect(try bench.sink.headID() == second.id)
        let observer = RecordingObserver()
        #expect(try Verifier(observer: observer).verify(second, in: bench.sink).isEmpty)
    }
}
