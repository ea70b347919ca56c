@testable import EmuCore
import EmuPOSIX
import Testing
@testable import EmuRecords
@testable import EmuRemote

/// A client's requests are values: each crosses as a line and comes back
/// the same, and a line no emu sends is refused with its reason.
@Suite("requests on the wire")
struct RequestTests {
    static let id = "6b16406e9e27e2522996c90b5480ffb2a87fe56b"
    /// A replicated snapshot's record, as `push-begin` carries it.
    static let kept: Snapshot = {
        var snapshot = Snapshot(id: "6b16406e" + String(repeating: "d", count: 32), parent: id, date: Timestamp(seconds: 1_700_000_000, nanoseconds: 7))
        snapshot.message = "a message"
        snapshot.status = .incomplete
        snapshot.counts.files = 12
        return snapshot
    }()

    @Test("every request crosses and comes back the same")
    func roundTrip() throws {
        let path = RelativePath(Array("a dir/f\u{1}".utf8) + [0xFF])
        let requests: [Request] = [
            .snapshots, .head, .records(snapshot: Self.id), .resumeRecords, .file(snapshot: Self.id, path),
            .restore(snapshot: Self.id, path, content: true), .restore(snapshot: Self.id, .root, content: false),
            .uniqueBytes(snapshot: Self.id), .config, .space, .owner, .lock(exclusive: true, wait: 2.5), .lock(exclusive: false, wait: 0),
            .unlock, .recover, .delete(snapshot: Self.id),
            .freeSpace(percent: 12.5, needed: 1 << 40, minKeep: 2, protecting: Self.id, among: [Self.id, "x"]),
            .freeSpace(percent: 0, needed: 0, minKeep: 1, protecting: nil, among: []),
            .finishDeleting, .clean(repair: true, dryRun: false), .clean(repair: false, dryRun: true),
            .writeConfig(text: Array("[Snapshots]\nkeep-last = 3\n".utf8)), .adopt(identity: String(repeating: "a", count: 32)),
            .pushBegin(.init(date: Timestamp(seconds: 1_700_000_000, nanoseconds: 5), message: Array("a message\n".utf8),
                             sourcePath: Array("/home/é".utf8), head: Self.id, digest: String(repeating: "f", count: 64), identity: "b")),
            .pushBegin(.init(date: nil, message: [], sourcePath: [0x2F], head: nil, digest: nil, identity: "b")),
            .pushBegin(.init(date: nil, message: [], sourcePath: [0x2F], head: Self.id, digest: nil, identity: "b", kept: Self.kept)),
            .pushEnd, .pushEndUnlessUnchanged, .verify(snapshot: Self.id, samplePercent: 10), .verify(snapshot: nil, samplePercent: 100),
        ]
        for request in requests {
            #expect(try Request(decoding: request.frame) == request, "\(request.line)")
        }
    }

    @Test("what no emu sends is refused, each for its reason", arguments: [
        ("", "an empty request"), ("record-verification x clean 0", "does not know the request"), ("head now", "other words"),
        ("push-begin now", "a date, a message"), ("push-begin soon 6d 2f - - b", "SECONDS.NANOSECONDS"),
        ("free-space lots 0 1 - -", "a percentage"), ("records", "other words"), ("verify", "a snapshot, or sink"),
    ])
    func refused(line: String, reason: String) {
        #expect { try Request(decoding: Frame(.request, text: line)) } throws: { "\($0)".contains(reason) }
    }
}
