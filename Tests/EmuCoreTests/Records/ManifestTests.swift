@testable import EmuCore
import EmuPOSIX
import Foundation
import Glibc
import SystemPackage
import Testing
@testable import EmuRecords
@testable import EmuRemote

@Suite("Manifest format")
struct ManifestTests {
    func write(_ records: [ManifestRecord], finish: Bool = true) throws -> (String, [UInt8]) {
        let path = NSTemporaryDirectory() + "manifest-\(UUID().uuidString)"
        let fd = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
        let writer = try ManifestWriter(file: OpenFile(fd, path: []))
        for record in records { try writer.append(record) }
        if finish { _ = try writer.finish() } else { try writer.flush() }
        return (path, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    func read(_ path: String, allowsTruncation: Bool = false) throws -> [ManifestRecord] {
        let reader = try ManifestReader(file: OpenFile(try FileDescriptor.open(path, .readOnly), path: []), allowsTruncation: allowsTruncation)
        var records: [ManifestRecord] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }

    func record(_ path: [UInt8], _ kind: FileKind = .regular) -> ManifestRecord {
        var r = ManifestRecord(path: RelativePath(path), kind: kind, permissions: 0o4755, owner: 1000, group: 100, size: 12,
                               modified: FileTime(seconds: 1_700_000_000, nanoseconds: 5), changed: FileTime(seconds: 1_700_000_001, nanoseconds: 999_999_999), inode: 42)
        if kind == .regular { r.content = ContentHash.empty }
        return r
    }

    @Test("records with awkward names, targets and devices survive a round trip")
    func roundTrip() throws {
        var root = record([], .directory)
        root.size = 0
        var link = record(Array("l\tink".utf8), .symlink)
        link.symlinkTarget = Array("-".utf8)
        var device = record(Array("null".utf8), .characterDevice)
        device.device = DeviceNumber(major: 1, minor: 3)
        var member = record(Array("z".utf8))
        member.hardlinkLeader = RelativePath([0x62, 0x5C, 0x0A])
        member.attributes = ContentHash.empty
        let records = [root, record([0x62, 0x5C, 0x0A]), record([0x63, 0x83]), link, device, member]
        let (path, bytes) = try write(records)
        #expect(bytes.starts(with: Array("emu-manifest 1\n".utf8)))
        #expect(try read(path) == records)
    }

    @Test("a manifest cut short fails, unless read as a killed push's leftover")
    func truncated() throws {
        let (path, _) = try write([record([], .directory), record(Array("a".utf8)), record(Array("b".utf8))], finish: false)
        #expect { try read(path) } throws: { ($0 as? EmuError)?.message.contains("end line") == true }
        #expect(try read(path, allowsTruncation: true).count == 3)
        // A torn last line is dropped, not misread.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("f\t644\t0".utf8))
        handle.closeFile()
        #expect(try read(path, allowsTruncation: true).count == 3)
    }

    @Test("unsafe paths and disorder in a sink's manifest are refused, each for its reason", arguments: [
        ("emu-manifest 1\nd\t755\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t-\t\nf\t644\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t-\t../etc/passwd\nend\t2\n", "unsafe path"),
        ("emu-manifest 1\nd\t755\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t-\t\nf\t644\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t-\t/abs\nend\t2\n", "unsafe path"),
        ("emu-manifest 1\nd\t755\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t-\t\nf\t644\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t-\tb\nf\t644\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t-\ta\nend\t3\n", "paths out of order at a"),
        ("emu-manifest 1\nd\t755\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t-\t\nf\t644\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t../x\ta\nend\t2\n", "unsafe"),
        ("emu-manifest 1\nd\t755\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t-\t\nf\t9999\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t-\ta\nend\t2\n", "the line is not a record"),
        ("emu-manifest 1\nd\t755\t0\t0\t0\t1.000000000\t1.000000000\t1\t-\t-\t-\t\nend\t5\n", "the end line's count is wrong"),
    ])
    func refused(text: String, reason: String) throws {
        let path = NSTemporaryDirectory() + "manifest-\(UUID().uuidString)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: EmuError.self) { try read(path) }
        #expect(error.message.contains(reason), "\(error.message)")
    }
}

@Suite("INI, dates, IDs")
struct SmallFormatTests {
    @Test("INI reads emu 0.2.5's ConfigParser output and writes it back")
    func ini() throws {
        let text = "[Snapshot]\nsnapshot = abc\nparent: \n; comment\n[Tree]\nStatus = CLEAN\n"
        var document = try INIDocument(parsing: text)
        #expect(document["snapshot", "SNAPSHOT"] == "abc")
        #expect(document["Snapshot", "parent"] == "")
        #expect(document["Tree", "status"] == "CLEAN")
        document["Tree", "Last-Verified"] = "now"
        #expect(try INIDocument(parsing: document.text) == document)
        #expect(throws: EmuError.self) { try INIDocument(parsing: "no section = 1\n") }
    }

    @Test("dates parse in local time; snapshots are named in UTC with a Z, which parses back; local names still parse")
    func dates() throws {
        let date = try #require(Timestamp.parse("2026-11-21 09:15:07"))
        let utc = try #require(Timestamp.parse("@\(date.seconds)"))
        #expect(utc.snapshotName.hasSuffix("Z") && Timestamp.parse(utc.snapshotName) == date)
        #expect(Timestamp.parse("2026-11-21 09.15.07Z") == Timestamp(seconds: 1_795_252_507))
        #expect(Timestamp.parse("2026-11-21T09:15:07Z") == Timestamp(seconds: 1_795_252_507))
        #expect(Timestamp.isSnapshotName("2026-11-21 09.15.07Z") && !Timestamp.isSnapshotName("2026-11-21 09.15.07ZZ"))
        #expect(Timestamp.parse("2026-11-21 09.15.07") == date)
        #expect(Timestamp.parse("2026-11-21T09:15:07") == date)
        #expect(Timestamp(exact: date.description) == date)
        #expect(Timestamp.parse("2026-02-30x") == nil)
        #expect(Timestamp.isSnapshotName("2026-11-21 09.15.07"))
        #expect(!Timestamp.isSnapshotName("Latest"))
    }

    @Test("IDs are 40 hex digits that start with the time and differ with the parent")
    func ids() {
        let date = Timestamp(seconds: 0x6000_0000)
        let a = Snapshot.makeID(date: date, manifest: .empty, parent: nil)
        let b = Snapshot.makeID(date: date, manifest: .empty, parent: a)
        #expect(Snapshot.isID(a) && Snapshot.isID(b))
        #expect(a.hasPrefix("60000000"))
        #expect(a != b)
    }
}
