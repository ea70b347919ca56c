@testable import EmuCore
import EmuPOSIX
import Testing
@testable import EmuRecords
@testable import EmuRemote

/// The entries of a push over ssh are values: what a writer sends is what
/// the receiver decodes, and what no emu sends is refused with its reason.
@Suite("push entries on the wire")
struct PushEntryTests {
    static func record(_ path: String, kind: FileKind = .regular, content: Bool = true) -> ManifestRecord {
        var record = ManifestRecord(path: RelativePath(path), kind: kind, permissions: 0o640, owner: 1000, group: 100, size: 5,
                                    modified: FileTime(seconds: 1_700_000_000, nanoseconds: 5), changed: FileTime(seconds: 1_700_000_001, nanoseconds: 0),
                                    inode: 42)
        if content { record.content = ContentHasher().finalize() }
        return record
    }

    @Test("every entry crosses and comes back the same", arguments: PushEntry.Kind.allCases)
    func roundTrip(kind: PushEntry.Kind) throws {
        let attributes = [ExtendedAttribute(name: Array("user.a b".utf8), value: [0, 10, 255])]
        var record = Self.record("d/é\tx", kind: Self.fileKind(of: kind))
        if kind == .hardlink { record.hardlinkLeader = RelativePath("d/first") }
        if kind == .symlink { record.symlinkTarget = Array("../t".utf8) }
        for leads in [false, true] {
            let entry = PushEntry.entry(kind, record, attributes: attributes, leads: leads)
            #expect(try PushEntry(decoding: entry.payload) == entry)
        }
    }

    static func fileKind(of kind: PushEntry.Kind) -> FileKind {
        switch kind {
        case .directory: .directory
        case .symlink: .symlink
        case .special: .fifo
        default: .regular
        }
    }

    @Test("an entry whose record is of another type, or another name that names no first name, is refused", arguments: PushEntry.Kind.allCases)
    func mismatchedRecords(kind: PushEntry.Kind) {
        let other = PushEntry.entry(kind, Self.record("a", kind: kind == .directory ? .regular : .directory), attributes: [], leads: false)
        #expect(throws: EmuError.self) { try PushEntry(decoding: other.payload) }
        if kind == .hardlink {
            let unnamed = PushEntry.entry(.hardlink, Self.record("a"), attributes: [], leads: false)
            #expect(throws: EmuError.self) { try PushEntry(decoding: unnamed.payload) }
        }
    }

    @Test("runs, questions and skipped paths cross and come back the same")
    func recordless() throws {
        for entry in [PushEntry.unchanged(first: 0, count: 3), .query([Self.record("a"), Self.record("b/c")]), .query([]),
                      .skipped(RelativePath(Array("bad\u{1}name".utf8) + [0xFF]))] {
            #expect(try PushEntry(decoding: entry.payload) == entry, "\(entry)")
        }
    }

    @Test("what no emu sends is refused, each for its reason", arguments: [
        ("mystery\nx", "does not know"), ("", "does not know"), ("file\nnot a record", "damaged record"),
        ("links\n-1 2", "damaged run"), ("links\n3 0", "damaged run"), ("links\n1", "damaged run"),
    ])
    func refused(text: String, reason: String) {
        #expect { try PushEntry(decoding: Array(text.utf8)) } throws: { "\($0)".contains(reason) }
    }

    @Test("a record that climbs out, and a question about a directory or an unhashed file, are refused")
    func hostileRecords() {
        let escaping = PushEntry.entry(.file, Self.record("../outside"), attributes: [], leads: false).payload
        #expect { try PushEntry(decoding: escaping) } throws: { "\($0)".contains("damaged record") }
        for asked in [Self.record("d", kind: .directory), Self.record("f", content: false)] {
            #expect { try PushEntry(decoding: PushEntry.query([asked]).payload) } throws: { "\($0)".contains("damaged record") }
        }
    }
}
