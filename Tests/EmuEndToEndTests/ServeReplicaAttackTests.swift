import EmuPOSIX
import Foundation
import Glibc
import Testing

/// The record a replicating client sends with `push-begin` (the snapshot it
/// copies), forged by a hostile client straight to `emu serve`: each is
/// refused with an error frame before any push begins, the sink keeps what
/// it had, and the session ends cleanly.
@Suite("a hostile client's replicated records")
struct ServeReplicaAttackTests {
    /// The HEAD snapshot's record, its ID first, with `edit` applied to the record's text.
    static func keptRecord(_ w: Workspace, id: String? = nil, _ edit: (String) -> String = { $0 }) throws -> String {
        let head = try ServePushAttackTests.headManifest(w).head
        let node = try String(contentsOfFile: w.sink + "/.emu/nodes/" + head, encoding: .utf8)
        return "\(id ?? head)\n" + edit(node)
    }

    static func hex(_ text: String) -> String { text.utf8.map { String(format: "%02x", $0) }.joined() }

    static func replacing(_ key: String, with value: String) -> @Sendable (String) -> String {
        { text in text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(key + " =") ? "\(key) = \(value)" : String($0) }.joined(separator: "\n") }
    }

    static let newID = "6b000000" + String(repeating: "c", count: 32)

    /// Each forged record, the key it needs, and what the refusal says.
    static let attacks: [(name: String, mode: [String], record: @Sendable (Workspace) throws -> String, says: String)] = [
        ("an ID the sink holds", [], { try keptRecord($0) }, "holds snapshot"),
        ("another source's snapshot", [], { try keptRecord($0, id: newID) { text in
            replacing("source-id", with: String(repeating: "e", count: 32))(replacing("timestamp", with: "1700000000.000000001")(text)) } },
         "another source's"),
        ("a date after the server's clock", [], { try keptRecord($0, id: newID, replacing("timestamp", with: "4102444800.000000000")) },
         "after this machine's clock"),
        ("a record whose first line is no ID", [], { try "../../etc\n" + keptRecord($0) }, "does not start with its ID"),
        ("a record with no date", [], { try keptRecord($0, id: newID) { text in
            replacing("timestamp", with: "never")(replacing("date", with: "never")(replacing("name", with: "never")(text))) } }, "no readable date"),
        ("another snapshot of the same second", [], { try keptRecord($0, id: newID) }, "at the same second"),
        ("an older date through an append-only key", ["--append-only"],
         { try keptRecord($0, id: newID, replacing("timestamp", with: "1600000000.000000000")) }, "not after the sink's newest complete snapshot"),
    ]

    @Test("each is refused before a push begins; the sink is as it was", arguments: attacks.map(\.name))
    func attack(_ name: String) throws {
        let attack = try #require(Self.attacks.first { $0.name == name })
        let w = try ServePushAttackTests.pushedOnce()
        let (head, _, digest) = try ServePushAttackTests.headManifest(w)
        let record = try attack.record(w)
        let before = DirectoryState(of: w.sink)
        let session = try ServePushAttackTests.lockedSession(w, attack.mode)
        let begun = session.request("push-begin now 6d 2f \(head) \(digest) \(try ServePushAttackTests.identity(w)) \(Self.hex(record))")
        #expect(begun?.kind == .error && begun?.text.contains(attack.says) == true, "\(name): \(String(describing: begun))")
        #expect(session.request("push-end")?.kind == .error, "no push began")
        #expect(session.close(within: 60) == 0)
        let changed = DirectoryState(of: w.sink).changes(since: before) { $0.hasPrefix("./.emu ") || $0.contains("/.emu/staging") }
        #expect(changed.isEmpty, "\(name) changed the sink: \(changed)")
        try w.expectSuccess(w.emu("verify"))
    }

    @Test("a valid record publishes under its ID, date and message, whatever date and message push-begin names")
    func keptRecordPublishes() throws {
        let w = try ServePushAttackTests.pushedOnce()
        let (head, lines, digest) = try ServePushAttackTests.headManifest(w)
        let record = try Self.keptRecord(w, id: Self.newID) { text in
            Self.replacing("message", with: "kept")(Self.replacing("timestamp", with: "1700000000.000000001")(text))
        }
        let session = try ServePushAttackTests.lockedSession(w, [])
        let begun = session.request("push-begin now 6f74686572 2f \(head) \(digest) \(try ServePushAttackTests.identity(w)) \(Self.hex(record))")
        #expect(begun?.kind == .reply, "\(String(describing: begun))")
        session.send(.data, "dir\n" + (try #require(lines.first { $0.hasPrefix("d\t") && $0.hasSuffix("\t") })))
        let ended = session.request("push-end")
        #expect(ended?.kind == .reply && ended?.text.hasPrefix(Self.newID) == true, "\(String(describing: ended))")
        #expect(session.close(within: 60) == 0)
        let copy = try #require(try w.loggedSnapshots().first { $0["id"] as? String == Self.newID })
        #expect(copy["message"] as? String == "kept" && (copy["date"] as? String)?.hasPrefix("2023-11-14") == true, "\(copy)")
    }
}
