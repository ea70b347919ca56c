@testable import EmuCore
import EmuPOSIX
import Foundation
import Glibc
import Testing
@testable import EmuRecords
@testable import EmuRemote

/// A snapshot's records as the planner's walk (`SnapshotWalk`, emu replicate).
@Suite("a snapshot's records as the planner's walk")
struct SnapshotWalkTests {
    /// Records as another reader gives them, each changed by `edit`.
    final class EditedRecords: RecordReader {
        let reader: RecordReader
        let edit: (inout ManifestRecord) -> Void
        init(_ reader: RecordReader, edit: @escaping (inout ManifestRecord) -> Void) { (self.reader, self.edit) = (reader, edit) }
        var origin: RecordOrigin { reader.origin }
        func next() throws -> ManifestRecord? {
            guard var record = try reader.next() else { return nil }
            edit(&record)
            return record
        }
    }

    /// Records keep no device: two groups of hardlinked files whose first
    /// names have one inode number (two filesystems in one source) must stay
    /// two groups, not become one inode holding the first group's bytes.
    @Test("two hardlinked groups with one inode number, from two filesystems, stay apart in the copy")
    func groupsOnTwoFilesystems() throws {
        let bench = try Workbench()
        try bench.write("a", "first group")
        try bench.write("c", "second group")
        #expect(link(bench.sourcePath + "/a", bench.sourcePath + "/b") == 0 && link(bench.sourcePath + "/c", bench.sourcePath + "/d") == 0)
        let snapshot = try #require(try bench.push().snapshot)
        let shared = try bench.inode(bench.sourcePath + "/a")
        let records = { () throws -> RecordReader in
            EditedRecords(try bench.sink.openRecords(snapshot)) { record in if record.kind == .regular { record.inode = shared } }
        }
        let copyPath = bench.root + "/copy"
        #expect(try Sink.create(at: copyPath))
        let target = try RemoteSink.servedHere(name: "copy", path: copyPath)
        defer { target.channel.close() }
        let observer = RecordingObserver()
        try withExtendedLifetime(observer) {
            try target.lock(.exclusive, wait: 0)
            let copy = SnapshotCopy(snapshot, tree: LocalReplicaTree(try bench.sink.openTree(snapshot)), records: records, into: target,
                                    observer: observer)
            _ = try copy.run(after: nil, identity: try bench.source.identity())
        }
        let tree = copyPath + "/.emu/trees/" + snapshot.id
        #expect(try bench.read(tree + "/c") == "second group" && bench.read(tree + "/d") == "second group")
        #expect(try bench.inode(tree + "/a") == bench.inode(tree + "/b") && bench.inode(tree + "/c") == bench.inode(tree + "/d"))
        #expect(try bench.inode(tree + "/a") != bench.inode(tree + "/c"))
    }
}
