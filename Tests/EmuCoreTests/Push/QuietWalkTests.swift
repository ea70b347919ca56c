@testable import EmuCore
import EmuPOSIX
import Foundation
import Testing
@testable import EmuRecords
@testable import EmuRemote

/// The walk a push over ssh makes for `emu watch`: a directory no event
/// touched is not read, its entries come from the newest snapshot's records
/// (but for subdirectories and names of files with others).
@Suite("quiet directories in the walk")
struct QuietWalkTests {
    /// Every record the scanner yields, by path, with its size.
    static func sizes(_ scanner: TreeScanner) throws -> [String: Int64] {
        var sizes: [String: Int64] = [:]
        while let record = try scanner.next() {
            if record.kind == .regular { sizes[String(decoding: record.path.bytes, as: UTF8.self)] = record.size }
        }
        return sizes
    }

    @Test("a directory without events is taken from the records; one with events and a name of a file with others are read")
    func recordedEntries() throws {
        let bench = try Workbench()
        for path in ["a/x", "b/y", "b/deep/z"] { try bench.write(path, "1") }
        #expect(link(bench.sourcePath + "/a/x", bench.sourcePath + "/b/shared") == 0)
        try bench.push()
        let head = try #require(try bench.sink.snapshots().last)
        // Written in place: no directory's own status moves, only events would tell.
        for path in ["a/x", "b/y", "b/deep/z"] { try bench.write(path, "longer") }

        let root = try DirectoryHandle.open(bench.sourcePath, origin: .source)
        let filter = try SourceFilter(source: bench.source, extraExcludes: [], onlyPaths: nil, excludeCaches: false)
        let quiet = TreeScanner(root: root, filter: filter)
        quiet.quiet = (try QuietDirectories(changed: [RelativePath("a")], newest: head.id, in: bench.sink.path, records: { try bench.sink.openRecords(head) }),
                       ManifestCursor(try bench.sink.openRecords(head)))
        let walked = try Self.sizes(quiet)
        #expect(walked["a/x"] == 6, "a had events: read")
        #expect(walked["b/y"] == 1, "b had none: its record stands")
        #expect(walked["b/shared"] == 6, "a name of a file with others is looked at")
        #expect(walked["b/deep/z"] == 1, "b/deep is looked at; no event touched it either: its record stands")
        #expect(try Self.sizes(TreeScanner(root: root, filter: filter))["b/y"] == 6, "without events everything is read")
    }
    @Test("a watch keeps one set of hardlinked names a sink: the newest push's, whatever snapshot the next push starts from")
    func oneRememberedSetPerSink() throws {
        let sink = "/sinks/\(UUID().uuidString)"
        for snapshot in ["s1", "s2", "s3"] { QuietDirectories.remember([RelativePath("a/x")], of: snapshot, in: sink) }
        #expect(QuietDirectories.remembered(for: sink) == "s3", "each push's set replaces the last: a watch over weeks holds one")
        // Another process pushed in between: the set is for a snapshot that is not the head, and is dropped.
        let bench = try Workbench()
        try bench.write("a/x", "1")
        try bench.push()
        let head = try #require(try bench.sink.snapshots().last)
        let quiet = try QuietDirectories(changed: [], newest: head.id, in: sink, records: { try bench.sink.openRecords(head) })
        #expect(quiet.hardlinked.isEmpty, "read from the head's records, which name no hardlink")
        #expect(QuietDirectories.remembered(for: sink) == nil)
    }
}
