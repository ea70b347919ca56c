@testable import EmuCore
import EmuPOSIX
import Foundation
import Testing
@testable import EmuRecords
@testable import EmuRemote

/// The push's planner, in-process: given the newest snapshot's records and
/// a directory, the entries it hands its writer, the same whatever the
/// writer is. A writer needs nothing but `PushWriter` and `PushEntry`: the
/// one here only records them.
@Suite("what the push decides for each entry")
struct PushPlannerTests {
    final class RecordingWriter: PushWriter {
        var entries: [String] = []
        let readsNewFiles: Bool
        init(readsNewFiles: Bool) { self.readsNewFiles = readsNewFiles }

        func add(_ entry: PushEntry, from source: SourceEntry) throws {
            switch entry {
            case .entry(let kind, let record, _, let leads):
                entries.append("\(kind.rawValue) \(String(decoding: record.path.bytes, as: UTF8.self))\(leads ? " leads" : "")")
            case .unchanged, .query, .skipped: Issue.record("the planner hands runs, questions and skips to no writer as entries: \(entry)")
            }
        }

        func addUnchanged(ordinal: Int, record: ManifestRecord, from source: SourceEntry) throws {
            entries.append("unchanged #\(ordinal) \(String(decoding: record.path.bytes, as: UTF8.self))")
        }

        func add(_ file: PlannedFile, previous: ManifestRecord?) throws {
            let hashed = file.record.content != nil ? " hashed" : ""
            entries.append("\(previous == nil ? "new" : "changed") \(String(decoding: file.record.path.bytes, as: UTF8.self))\(hashed)")
        }

        func skip(_ path: RelativePath, because error: Error) throws { entries.append("skipped \(String(decoding: path.bytes, as: UTF8.self))") }

        func note(_ path: RelativePath, _ message: String) throws { entries.append("noted \(String(decoding: path.bytes, as: UTF8.self))") }

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
        let planner = PushPlanner(writer: writer, earlier: ManifestCursor(try bench.sink.openRecords(head)), resume: nil)
        let filter = try SourceFilter(source: bench.source, extraExcludes: [], onlyPaths: nil, excludeCaches: false)
        try planner.plan(TreeScanner(root: try DirectoryHandle.open(bench.sourcePath, origin: .source), filter: filter))
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

    @Test("the dry run's count is what the push then does, here and over ssh alike (one planner feeds both)")
    func countMatchesThePush() throws {
        let bench = try Self.pushedThenChanged()
        let observer = RecordingObserver()
        let count = PushCount(observer: observer, checksum: false)
        try withExtendedLifetime(observer) { try Self.sent(bench, to: count) }
        let pushed = try bench.push().counts
        #expect(count.counts == pushed, "counted \(count.counts), pushed \(pushed)")
    }

    @Test("what the walk leaves out unasked reaches the writer as a note, in path order, and is never made")
    func killedCheckoutFilesAreNoted() throws {
        let bench = try Workbench()
        try bench.write("a", "1")
        try bench.push()
        try bench.write("d/.emu-checkout.4242.1", "half")
        let writer = RecordingWriter(readsNewFiles: false)
        try Self.sent(bench, to: writer)
        #expect(writer.entries == ["dir ", "unchanged #1 a", "dir d", "noted d/.emu-checkout.4242.1", "finish"], "\(writer.entries)")
    }
}
