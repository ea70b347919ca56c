@testable import EmuCore
@_spi(Testing) import EmuPOSIX
import Foundation
import Glibc
import SystemPackage
import Testing
@testable import EmuRecords
@testable import EmuRemote

/// The push's decisions when a call fails, reached through the POSIX
/// layer's fault seam: which side failed decides between skipping one
/// entry and stopping, a refused link becomes a copy, and a stopped push
/// leaves the sink as it was.
@Suite("push: what each failure decides")
struct ArchiverFaultTests {
    @Test("a link the sink refuses at its link limit (EMLINK) becomes a copy of its own, and the snapshot is complete")
    func linkLimitCopies() throws {
        let bench = try Workbench()
        try bench.write("a", "alpha")
        try bench.write("dir/b", "beta")
        let first = try #require(try bench.push().snapshot)
        let observer = RecordingObserver()
        // The earlier inode is at the limit: the walk's link and the index's both fail.
        let result = try InjectedFaults.failing("link", under: bench.sinkPath + "/.emu/staging/tree", with: .tooManyLinks) {
            try InjectedFaults.failing("link", under: bench.sinkPath + "/.emu/index/.link", with: .tooManyLinks) {
                try bench.push(observer)
            }
        }
        let second = try #require(result.snapshot)
        #expect(second.status == .complete)
        #expect(result.counts.filesLinked == 0)
        #expect(result.counts.filesCopied == 2)
        #expect(observer.copied.sorted() == ["a", "dir/b"])
        for path in ["a", "dir/b"] {
            #expect(try bench.read(bench.inSnapshot(second, path)) == bench.read(bench.inSnapshot(first, path)))
            #expect(try bench.inode(bench.inSnapshot(second, path)) != bench.inode(bench.inSnapshot(first, path)))
        }
    }

    @Test("another name of a file that reaches the link limit gets a copy of its own, and the names after it link to that copy")
    func hardlinkLimitMovesTheLeader() throws {
        let bench = try Workbench()
        try bench.write("a", "same")
        #expect(link(bench.sourcePath + "/a", bench.sourcePath + "/m") == 0 && link(bench.sourcePath + "/a", bench.sourcePath + "/z") == 0)
        // a's inode is at the limit for m: the walk's link fails, and so does the index's (a's inode is its entry).
        let result = try InjectedFaults.failing("link", under: bench.sinkPath + "/.emu/staging/tree/m", with: .tooManyLinks) {
            try InjectedFaults.failing("link", under: bench.sinkPath + "/.emu/staging/index/.link", with: .tooManyLinks, times: 1) {
                try bench.push()
            }
        }
        let snapshot = try #require(result.snapshot)
        #expect(snapshot.status == .complete && result.counts.files == 3, "\(result.counts)")
        let (a, m, z) = (try bench.inode(bench.inSnapshot(snapshot, "a")), try bench.inode(bench.inSnapshot(snapshot, "m")),
                         try bench.inode(bench.inSnapshot(snapshot, "z")))
        #expect(a != m && z == m, "a \(a), m \(m), z \(z)")
        var leaders: [String: String] = [:]
        let records = try bench.sink.openRecords(snapshot)
        while let record = try records.next() { leaders[record.path.description] = record.hardlinkLeader?.description ?? "-" }
        #expect(leaders["m"] == "-" && leaders["z"] == "m", "z names the inode it shares: \(leaders)")
        #expect(try bench.read(bench.inSnapshot(snapshot, "z")) == "same")
    }

    @Test("a source file that cannot be opened is skipped and reported; the rest is saved and the snapshot is incomplete")
    func unreadableSourceFileIsSkipped() throws {
        let bench = try Workbench()
        try bench.write("kept", "k")
        try bench.write("secret", "s")
        let observer = RecordingObserver()
        let result = try InjectedFaults.failing("open", under: bench.sourcePath + "/secret", with: .permissionDenied) {
            try bench.push(observer)
        }
        let snapshot = try #require(result.snapshot)
        #expect(snapshot.status == .incomplete)
        #expect(result.counts.skipped == 1)
        #expect(observer.skipped.count == 1 && observer.skipped[0].hasPrefix("secret: open "))
        #expect(try bench.read(bench.inSnapshot(snapshot, "kept")) == "k")
        #expect(!FileManager.default.fileExists(atPath: bench.inSnapshot(snapshot, "secret")))
    }

    @Test("a source directory that cannot be listed is kept, empty, and reported")
    func unlistableSourceDirectoryIsSkipped() throws {
        let bench = try Workbench()
        try bench.write("dir/inner", "i")
        try bench.write("other", "o")
        let observer = RecordingObserver()
        let result = try InjectedFaults.failing("read directory", under: bench.sourcePath + "/dir", with: .ioError) {
            try bench.push(observer)
        }
        let snapshot = try #require(result.snapshot)
        #expect(snapshot.status == .incomplete)
        #expect(observer.skipped.count == 1 && observer.skipped[0].hasPrefix("dir: read directory "))
        #expect(bench.names(below: bench.inSnapshot(snapshot, "")) == ["dir", "other"])
    }

    @Test("the same error raised by the sink stops the push, names the sink's path, and leaves no trace", arguments: [
        ("set time of", Errno.ioError), ("copy to", Errno.ioError), ("create", Errno.permissionDenied), ("make directory", Errno.ioError),
    ])
    func sinkErrorStops(operation: String, errno: Errno) throws {
        let bench = try Workbench()
        try bench.write("a", String(repeating: "x", count: 5000))
        try bench.write("dir/b", "b")
        let before = try bench.sink.snapshots()
        let failure = #expect(throws: FileSystemError.self) {
            try InjectedFaults.failing(operation, under: bench.sinkPath + "/.emu/staging/tree/", with: errno) { try bench.push() }
        }
        #expect(failure?.origin == .sink)
        #expect(failure.map { String(decoding: $0.path, as: UTF8.self).hasPrefix(bench.sinkPath + "/.emu/staging/tree/") } == true)
        #expect(try bench.sink.snapshots() == before)
        #expect(!bench.names(below: bench.sinkPath + "/.emu").contains { $0.hasPrefix("staging") })
        #expect(try bench.push().snapshot?.status == .complete)
    }

    @Test("a full sink (ENOSPC) stops the push with the sink as it was, and the next push saves everything")
    func fullSinkStops() throws {
        let bench = try Workbench()
        try bench.write("a", "one")
        let first = try #require(try bench.push().snapshot)
        try bench.write("b", String(repeating: "y", count: 100_000))
        let failure = #expect(throws: FileSystemError.self) {
            try InjectedFaults.failing("copy to", under: bench.sinkPath, with: .noSpace) { try bench.push() }
        }
        #expect(failure?.isOutOfSpace == true)
        #expect(try bench.sink.snapshots().map(\.id) == [first.id])
        let second = try #require(try bench.push().snapshot)
        #expect(try bench.read(bench.inSnapshot(second, "b")).count == 100_000)
    }

    @Test("a device node the sink may not make (EPERM) is left out with a note; the snapshot is complete",
          // Run (to fail) where every test must run: EMU_NO_SKIPS=1, as CI sets it.
          .enabled(if: geteuid() == 0 || ProcessInfo.processInfo.environment["EMU_NO_SKIPS"] == "1", "making a device node in the source needs root"))
    func deviceNotPermitted() throws {
        let bench = try Workbench()
        try bench.write("a", "a")
        #expect(mknod(bench.sourcePath + "/null", S_IFCHR | 0o644, dev_t(1 << 8 | 3)) == 0)
        let observer = RecordingObserver()
        let result = try InjectedFaults.failing("make node", under: bench.sinkPath, with: .notPermitted) { try bench.push(observer) }
        #expect(result.snapshot?.status == .complete)
        #expect(observer.notes == ["null: device skipped (only root can make device files)"])
        #expect(result.counts.specials == 0)
    }
}
