@testable import EmuCore
import EmuPOSIX
import Foundation
import Testing

/// The ssh push's sender, in-process: given the newest snapshot's records
/// and a directory, the entries it hands its writer. A writer needs nothing
/// but `PushWriter` and `PushEntry`: the one here only records them.
@Suite("what the push decides for each entry")
struct PushPlannerTests {
    final class RecordingWriter: PushWriter {
        var entries: [String] = []
        let readsNewFiles: Bool
        init(readsNewFiles: Bool) { self.readsNewFiles = readsNewFiles }

        func add(_ entry: PushEntry) throws {
            switch entry {
            case .entry(let kind, let record, _, let leads):
                entries.append("\(kind.rawValue) \(String(decoding: record.path.bytes, as: UTF8.self))\(leads ? " leads" : "")")
            case .skipped(let path): entries.append("skipped \(String(decoding: path.bytes, as: UTF8.self))")
            case .unchanged, .query: Issue.record("the sender hands runs and questions to no writer: \(entry)")
            }
        }

        func addUnchanged(ordinal: Int, record: ManifestRecord) throws {
            entries.append("unchanged #\(ordinal) \(String(decoding: record.path.bytes, as: UTF8.self))")
        }

        func add(_ file: PushBatches.PendingFile, previous: ManifestRecord?) throws {
            let hashed = file.record.content != nil ? " hashed" : ""
            entries.append("\(previous == nil ? "new" : "changed") \(String(decoding: file.record.path.bytes, as: UTF8.self))\(hashed)")
        }

        func finish() throws { entries.append("finish") }
    }

    /// A pushed source with a file of two names and a symlink, then one file changed and one added.
    static func pushedThenChanged() throws -> Workbench {
        let bench = try Workbench()
        for path in ["a", "d/b", "d/c"] { try bench.write(path, "1") }
        #expect(link(bench.sourcePath + "/a", bench.sourcePath + "/d/again") == 0)
        #expect(symlink("a", bench.sourcePath + "/d/to-a") == 0)
        try bench.push()
        try bench.write("d/b", "changed")
        try bench.write("e", "new")
        return bench
    }

    static func sent(_ bench: Workbench, to writer: PushWriter) throws {
        let head = try #require(try bench.sink.snapshots().last)
        let observer = RecordingObserver()  // the sender holds it unowned
        let sender = PushSender(writer: writer, earlier: ManifestCursor(try bench.sink.openRecords(head)), resume: nil, observer: observer)
        let filter = try SourceFilter(source: bench.source, extraExcludes: [], onlyPaths: nil, excludeCaches: false)
        try withExtendedLifetime(observer) {
            try sender.send(TreeScanner(root: try DirectoryHandle.open(bench.sourcePath, origin: .source), filter: filter))
        }
    }

    @Test("each entry is decided once: unchanged by its place, changed and new read when the writer asks, other names as hardlinks")
    func entriesInPathOrder() throws {
        let bench = try Self.pushedThenChanged()

        let wire = RecordingWriter(readsNewFiles: true)
        try Self.sent(bench, to: wire)
        #expect(wire.entries == ["dir ", "link a leads", "dir d", "hardlink d/again", "changed d/b hashed", "unchanged #5 d/c",
                                 "symlink d/to-a", "new e hashed", "finish"], "\(wire.entries)")
        let count = RecordingWriter(readsNewFiles: false)
        try Self.sent(bench, to: count)
        #expect(count.entries.contains("changed d/b") && count.entries.contains("new e"), "a count reads nothing it need not: \(count.entries)")
    }

    @Test("the dry run's count over ssh is the local dry run's")
    func countMatchesLocalDryRun() throws {
        let bench = try Self.pushedThenChanged()
        let observer = RecordingObserver()
        let count = PushCount(observer: observer, checksum: false)
        try withExtendedLifetime(observer) { try Self.sent(bench, to: count) }
        var options = PushOptions()
        options.dryRun = true
        let local = try EmuCore.push(bench.source, to: bench.sink, options: options, observer: RecordingObserver()).counts
        #expect(count.counts == local, "over ssh \(count.counts), here \(local)")
    }
}
