import EmuPOSIX
import Foundation
import Testing

/// A sink belongs to one source: two sources on one disk must not expire,
/// follow or restore each other's snapshots.
@Suite("one source a sink")
struct SinkOwnerTests {
    /// A second source beside `w`'s, with a file of its own.
    static func secondSource(_ w: Workspace) throws -> Workspace {
        let other = try Workspace("emu-owner")
        try Fixture.create(["theirs": .file("the other machine")], at: other.source)
        try other.expectSuccess(other.emu("init", "-q"))
        _ = w
        return other
    }

    @Test("sink add of another source's sink is refused with the fix; --adopt takes it over; the first source may then not push")
    func anotherSourcesSink() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["mine": .file("this machine")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        let other = try Self.secondSource(w)
        let before = DirectoryState(of: w.sink)
        let refused = try other.emu("sink", "add", "disk", w.sink)
        #expect(refused.status == 2 && refused.stderr.contains("another source") && refused.stderr.contains("--adopt"), "\(refused.stderr)")
        #expect(DirectoryState(of: w.sink).changes(since: before).isEmpty)
        #expect(try other.emu("sink", "list").stdout.contains("disk") == false)
        // A dry run says what --adopt would do, and does nothing.
        let dry = try other.emu("sink", "add", "disk", w.sink, "--adopt", "-n")
        #expect(dry.status == 0 && dry.stdout.contains("take over"), "\(dry.stdout)\(dry.stderr)")
        #expect(DirectoryState(of: w.sink).changes(since: before).isEmpty)

        let adopted = try other.emu("sink", "add", "disk", w.sink, "--adopt")
        #expect(adopted.status == 0 && adopted.stderr.contains("Took over"), "\(adopted.stderr)")
        try other.expectSuccess(other.emu("push"))
        let log = try other.emu("log", "--short")
        #expect(log.stdout.split(separator: "\n").count == 2, "the adopted snapshot is the new owner's history: \(log.stdout)")
        let pushed = try w.emu("push")
        #expect(pushed.status == 2 && pushed.stderr.contains("another source"), "\(pushed.stderr)")
        try w.expectSuccess(w.emu("verify"))
    }

    @Test("a source's identity survives init --force and a move; the snapshot records it")
    func identityIsKept() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        let identity = try ServePushAttackTests.identity(w)
        #expect(identity.count == 32)
        try w.expectSuccess(w.emu("init", "-f", "-q"))
        #expect(try ServePushAttackTests.identity(w) == identity)
        try w.expectSuccess(w.emu("push"))
        let head = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .newlines)
        let record = try String(contentsOfFile: w.sink + "/.emu/nodes/" + head, encoding: .utf8)
        #expect(record.contains("source-id = \(identity)"), "\(record)")
        #expect(try String(contentsOfFile: w.sink + "/.emu/owner", encoding: .utf8) == identity + "\n")
    }

    @Test("over the protocol: a push of another identity, or of none, is refused and changes nothing")
    func foreignIdentityOverTheWire() throws {
        let w = try ServePushAttackTests.pushedOnce()
        let (head, _, digest) = try ServePushAttackTests.headManifest(w)
        let before = DirectoryState(of: w.sink)
        for identity in [String(repeating: "a", count: 32), "../../x", ""] {
            let session = try ServePushAttackTests.lockedSession(w)
            let answer = session.request("push-begin now 6d 2f \(head) \(digest) \(identity)".trimmingCharacters(in: .whitespaces))
            #expect(answer?.kind == .error, "\(identity): \(String(describing: answer))")
            #expect(session.close() == 0)
        }
        #expect(DirectoryState(of: w.sink).changes(since: before) { $0.hasPrefix("./.emu ") }.isEmpty)
    }
}
