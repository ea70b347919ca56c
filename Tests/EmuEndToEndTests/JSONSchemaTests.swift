import Foundation
import Testing

/// `--json` is one documented schema (emu(1), JSON OUTPUT): one document per
/// command, JSON Lines for `diff`, the same key for the same thing, dates in
/// ISO 8601 with offset, sizes in bytes, full ids (issue 11).
@Suite("--json: one schema for every command")
struct JSONSchemaTests {
    /// Whether `text` is an ISO 8601 date with its offset, as every date is.
    static func isISODate(_ text: String?) -> Bool {
        guard let text else { return false }
        return text.wholeMatch(of: #/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d/#) != nil
    }

    static func document(_ run: Run, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        #expect(run.status == 0, "\(run.stderr)", sourceLocation: sourceLocation)
        let parsed = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
        return try #require(parsed as? [String: Any], "not one JSON object: \(run.stdout)", sourceLocation: sourceLocation)
    }

    /// A snapshot object as every command shows it.
    static func expectSnapshot(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let snapshot = value as? [String: Any] else {
            Issue.record("not a snapshot object: \(String(describing: value))", sourceLocation: sourceLocation)
            return
        }
        #expect((snapshot["id"] as? String)?.count == 40, sourceLocation: sourceLocation)
        #expect(isISODate(snapshot["date"] as? String), "\(snapshot)", sourceLocation: sourceLocation)
        for key in ["sink", "short_id", "name", "status"] {
            #expect(snapshot[key] is String, "\(key) in \(snapshot)", sourceLocation: sourceLocation)
        }
        // A key that does not apply is left out: a push without a message has none, never "".
        #expect(snapshot["message"] == nil || (snapshot["message"] as? String)?.isEmpty == false, "message in \(snapshot)",
                sourceLocation: sourceLocation)
        for key in ["files", "directories", "bytes", "files_copied", "files_linked", "bytes_copied", "skipped"] {
            #expect(snapshot[key] is NSNumber, "\(key) in \(snapshot)", sourceLocation: sourceLocation)
        }
    }

    static func workspace() throws -> Workspace {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.bash("printf 12345 > a; mkdir d; head -c 5000 /dev/zero > d/b"))
        try w.expectSuccess(w.emu("push", "-m", "first"))
        try w.expectSuccess(w.bash("printf changed > a"))
        return w
    }

    @Test("import, schedule status and serve --report --json print one document, with snapshot objects")
    func importScheduleServe() throws {
        let w = try Workspace().initialize()
        #expect(sh("mkdir -p '\(w.root)/old/2025-01-01' && echo a > '\(w.root)/old/2025-01-01/a'") == 0)
        let imported = try Self.document(w.emu("import", "dirs", w.root + "/old/2025-01-01", "--json"))
        let backups = try #require(imported["backups"] as? [[String: Any]])
        #expect(imported["sink"] as? String == "origin" && imported["dry_run"] as? Bool == false && backups.count == 1)
        Self.expectSnapshot(backups.first?["snapshot"])
        #expect(backups.first?["files"] as? Int == 1 && backups.first?["already_imported"] == nil)
        let again = try Self.document(w.emu("import", "dirs", w.root + "/old/2025-01-01", "--json"))
        #expect((again["backups"] as? [[String: Any]])?.first?["already_imported"] as? Bool == true)

        let schedule = try w.emu("schedule", "status", "--json")
        let state = try #require(try JSONSerialization.jsonObject(with: Data(schedule.stdout.utf8)) as? [String: Any], "\(schedule.stdout)")
        #expect(state["timer"] is String && state["systemd"] is Bool && (state["sinks"] as? [[String: Any]])?.first?["sink"] as? String == "origin")

        let report = try Self.document(EmuBinary.run(["serve", "--root", w.root, "--report", "--json"], in: "/"))
        let clients = try #require(report["clients"] as? [[String: Any]])
        #expect(clients.map { $0["client"] as? String } == ["sink"] && clients.first?["bytes_only_here"] is NSNumber, "\(report)")
        Self.expectSnapshot(clients.first?["newest"])
        #expect(try EmuBinary.run(["serve", "--json"], in: "/").status == 2, "--json alone is not a report")
    }

    @Test("push, log, show, sink and status describe snapshots with one object; newest is that object everywhere")
    func snapshotObjects() throws {
        let w = try Self.workspace()
        let push = try Self.document(w.emu("push", "--json"))
        let pushes = try #require(push["pushes"] as? [[String: Any]])
        Self.expectSnapshot(pushes.first?["snapshot"])
        #expect(pushes.first?["files_copied"] as? Int == 1)
        let log = try Self.document(w.emu("log", "--json"))
        let snapshots = try #require(log["snapshots"] as? [[String: Any]])
        #expect(snapshots.count == 2)
        #expect(snapshots[0]["message"] == nil && snapshots[1]["message"] as? String == "first", "a push without -m has no message key")
        snapshots.forEach { Self.expectSnapshot($0) }
        #expect(snapshots[0]["head"] as? Bool == true && snapshots[1]["head"] as? Bool == false)
        let show = try Self.document(w.emu("show", "HEAD~1", "--json"))
        Self.expectSnapshot(show)
        #expect(show["message"] as? String == "first" && show["files"] as? Int == 2, "numbers are numbers: \(show)")
        let sinks = try Self.document(w.emu("sink", "--json"))
        let sink = try #require((sinks["sinks"] as? [[String: Any]])?.first)
        Self.expectSnapshot(sink["newest"])
        #expect(sink["default"] as? Bool == true && sink["free_bytes"] is NSNumber)
        let status = try Self.document(w.emu("status", "--json"))
        let row = try #require((status["sinks"] as? [[String: Any]])?.first)
        Self.expectSnapshot(row["newest"])
        #expect((row["newest"] as? [String: Any])?["id"] as? String == (sink["newest"] as? [String: Any])?["id"] as? String)
        #expect(row["state"] as? String == "ok" && status["ok"] as? Bool == true)
    }

    @Test("verify --json prints a document when clean too; show REF:PATH, diff --stat, checkout and config have theirs")
    func otherDocuments() throws {
        let w = try Self.workspace()
        let verify = try Self.document(w.emu("verify", "--json"))
        #expect(verify["clean"] as? Bool == true && (verify["snapshots"] as? [Any])?.count == 1, "\(verify)")
        let entry = try Self.document(w.emu("show", "HEAD:d", "--json"))
        let children = try #require(entry["entries"] as? [[String: Any]])
        #expect(children.first?["path"] as? String == "d/b" && children.first?["size"] as? Int == 5000)
        #expect(Self.isISODate(children.first?["mtime"] as? String))
        let stat = try Self.document(w.emu("diff", "--stat", "--json"))
        #expect(stat["modified"] as? Int == 1 && stat["bytes_added"] is NSNumber)
        let checkout = try Self.document(w.emu("checkout", "HEAD", "--to", w.root + "/out", "--json"))
        #expect(checkout["files_written"] as? Int == 2 && checkout["target"] as? String == w.root + "/out")
        let config = try Self.document(w.emu("config", "--sink", "origin", "--list", "--json"))
        let settings = try #require(config["settings"] as? [[String: Any]])
        #expect(settings.contains { $0["key"] as? String == "retention.keep-daily" && $0["origin"] as? String == "default" })
    }

    @Test("prune -n, squash -n and clean take --json and print one document")
    func changingCommandsReport() throws {
        let w = try Self.workspace()
        try w.expectSuccess(w.emu("push"))
        let prune = try Self.document(w.emu("prune", "-n", "TAIL", "--json"))
        #expect((prune["snapshots"] as? [Any])?.count == 1 && prune["dry_run"] as? Bool == true)
        let policy = try Self.document(w.emu("prune", "origin", "--keep-last", "1", "-n", "--json"))
        #expect((policy["snapshots"] as? [Any])?.count == 1)
        let squash = try Self.document(w.emu("squash", "-n", "HEAD", "--json"))
        #expect((squash["snapshots"] as? [Any])?.count == 1)
        let clean = try Self.document(w.emu("clean", "--json"))
        #expect((clean["sinks"] as? [[String: Any]])?.first?["actions"] is [Any])
        #expect(try w.loggedSnapshots().count == 2, "dry runs removed nothing")
    }

    @Test("unique bytes count bytes of content, as every other size does, not allocated blocks")
    func uniqueIsBytes() throws {
        let w = try Self.workspace()
        let log = try w.loggedSnapshots()
        #expect(log.first?["unique_bytes"] as? Int == 5005, "12345 and 5000 zeros: \(log)")
    }
}
