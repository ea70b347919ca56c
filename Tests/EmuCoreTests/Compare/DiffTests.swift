@testable import EmuCore
import EmuPOSIX
import Testing
@testable import EmuRecords
@testable import EmuRemote

/// Records handed to a diff as a manifest would hand them, in path order.
final class RecordList: RecordReader {
    private var records: IndexingIterator<[ManifestRecord]>
    init(_ records: [ManifestRecord]) { self.records = records.sorted { $0.path < $1.path }.makeIterator() }
    func next() throws -> ManifestRecord? { records.next() }
}

@Suite("Diff and renames")
struct DiffTests {
    /// A regular file whose content is `text`; `inode` tells files apart.
    func file(_ path: String, _ text: String, inode: UInt64, permissions: UInt32 = 0o644) -> ManifestRecord {
        var hasher = ContentHasher()
        hasher.update(Array(text.utf8))
        var record = ManifestRecord(path: RelativePath(path), kind: .regular, permissions: permissions, owner: 0, group: 0,
                                    size: Int64(text.utf8.count), modified: FileTime(seconds: 1_700_000_000, nanoseconds: 0),
                                    changed: FileTime(seconds: 1_700_000_000, nanoseconds: Int32(inode)), inode: inode)
        record.content = hasher.finalize()
        return record
    }

    func side(_ records: [ManifestRecord]) -> DiffSide {
        DiffSide(.manifest({ _ in RecordList(records) }), recordsSourceIdentity: true)
    }

    /// Each change as `diff --name-status` prints it, and the summary.
    func changes(_ old: [ManifestRecord], _ new: [ManifestRecord], budget: Int = 1 << 20) throws -> ([String], DiffSummary) {
        var lines: [String] = []
        let summary = try diff(from: side(old), to: side(new), renameBudget: budget) { change in
            lines.append(([change.kind.rawValue] + [change.oldPath, change.path].compactMap { $0?.description }).joined(separator: " "))
        }
        return (lines, summary)
    }

    @Test("each added file takes the next deleted file of its content, in path order; empty files are never paired")
    func renamePairing() throws {
        let old = [file("a/x1", "photo", inode: 1), file("a/x2", "photo", inode: 2), file("a/x3", "photo", inode: 3),
                   file("empty", "", inode: 4), file("kept", "same", inode: 5)]
        let new = [file("b/y1", "photo", inode: 11), file("b/y2", "photo", inode: 12),
                   file("empty2", "", inode: 14), file("kept", "same", inode: 5)]
        let (lines, summary) = try changes(old, new)
        #expect(lines == ["D a/x3", "R a/x1 b/y1", "R a/x2 b/y2", "D empty", "A empty2"])
        #expect(summary.counts[.renamed] == 2 && summary.bytesAdded == 0 && summary.bytesRemoved == 5)
    }

    @Test("a diff with more rename candidates than its budget finds what one with room for all finds")
    func budgetSplitsTheHashSpace() throws {
        var old: [ManifestRecord] = [], new: [ManifestRecord] = []
        for i in 0..<400 {
            // Contents repeat (i % 150), so pairing must keep path order within one content.
            old.append(file("old/\(i)", "content \(i % 150)", inode: UInt64(i)))
            if i % 3 != 0 { new.append(file("new/\(i)", "content \(i % 150)", inode: UInt64(1000 + i))) }
            if i % 7 == 0 { new.append(file("fresh/\(i)", "fresh \(i)", inode: UInt64(2000 + i))) }
        }
        let (whole, wholeSummary) = try changes(old, new)
        #expect(wholeSummary.counts[.renamed] == 266)
        for budget in [10, 100, 500] {
            let (split, summary) = try changes(old, new, budget: budget)
            #expect(split == whole, "budget \(budget)")
            #expect(summary.counts == wholeSummary.counts && summary.bytesAdded == wholeSummary.bytesAdded)
        }
    }

    @Test("bytes added leave out what the old side holds with the same content and inode metadata")
    func bytesAddedCountNewInodesOnly() throws {
        let old = (0..<5).map { file("kept\($0)", "content \($0)", inode: UInt64($0)) }
        let copies = (0..<5).map { file("copy\($0)", "content \($0)", inode: UInt64(10 + $0)) }
        let otherMode = file("copy9", "content 0", inode: 19, permissions: 0o600)
        // A budget of 1 settles held content in passes of its own, one part at a time.
        for budget in [1, 2, 100] {
            let (lines, summary) = try changes(old, old + copies + [otherMode], budget: budget)
            #expect(lines.count == 6 && lines.allSatisfy { $0.hasPrefix("A ") })
            #expect(summary.bytesAdded == 9, "budget \(budget)")
        }
    }

    @Test("a scratch directory that cannot take the file is an error that names it")
    func unusableScratchDirectory() throws {
        let spill = ScratchSpace(memoryLimit: 100, directory: "/nonexistent/emu-scratch")
        #expect {
            for i in 0..<100 { _ = try spill.append(path: RelativePath("path \(i)")) }
        } throws: { error in
            "\(error)".contains("/nonexistent/emu-scratch")
        }
    }

    @Test("values set aside come back in order from memory and from the scratch file")
    func scratchValues() throws {
        let scratch = ScratchSpace(memoryLimit: 1000)
        for i in 0..<5000 { try scratch.append(value: (Int64(i), Int32(i % 3))) }
        let kept = try scratch.values { (value: (Int64, Int32)) in value.1 == 1 }
        #expect(kept.map(\.0) == Array(stride(from: 1, to: 5000, by: 3)).map(Int64.init))
    }

    @Test("paths set aside come back the same from memory and from the scratch file")
    func pathSpill() throws {
        let spill = ScratchSpace(memoryLimit: 100)
        let paths = (0..<500).map { RelativePath("dir \($0)/" + String(repeating: "n", count: $0 % 37)) }
        let offsets = try paths.map { try spill.append(path: $0) }
        for i in stride(from: 499, through: 0, by: -7) { #expect(try spill.path(at: offsets[i]) == paths[i]) }
        #expect(try spill.path(at: offsets[0]) == paths[0] && spill.path(at: offsets[499]) == paths[499])
    }
}
