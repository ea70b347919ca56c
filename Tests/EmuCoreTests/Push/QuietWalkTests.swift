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
    @Test("a watched push links every file it did not read from the newest snapshot, and copies the changed one")
    func watchedPushLinks() throws {
        let bench = try Workbench()
        let paths = (0..<40).map { "d\($0 % 4)/sub\($0 % 3)/f\($0)" } + ["d0/top", "d3/top"]
        for path in paths { try bench.write(path, path) }
        try bench.push()
        let first = try #require(try bench.sink.snapshots().last)
        try bench.write("d2/sub1/f5", "changed")
        var options = PushOptions()
        options.rotate = false
        options.changedDirectories = [RelativePath("d2/sub1")]
        let observer = RecordingObserver()
        let result = try EmuCore.push(bench.source, to: bench.sink, options: options, observer: observer)
        let second = try #require(result.snapshot)
        #expect(result.counts.filesCopied == 1 && result.counts.filesLinked == result.counts.files - 1, "\(result.counts)")
        // Not copied and then found in the content index: linked as unchanged.
        #expect(observer.copied == ["d2/sub1/f5"] && observer.reused.isEmpty, "copied \(observer.copied), reused \(observer.reused)")
        for path in paths where path != "d2/sub1/f5" {
            #expect(try bench.inode(bench.inSnapshot(second, path)) == bench.inode(bench.inSnapshot(first, path)), "\(path) is linked")
            #expect(try bench.read(bench.inSnapshot(second, path)) == path)
        }
        #expect(try bench.read(bench.inSnapshot(second, "d2/sub1/f5")) == "changed")
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
