import Foundation
import Testing

/// `emu log -- PATH`: a file's versions, what each snapshot did to it, and
/// the one command that restores a version (issue 28).
@Suite("a file's history")
struct FileHistoryTests {
    /// Six snapshots of `a/f1.bin`: added, modified, untouched, renamed to
    /// `a/f2.bin`, deleted; then a chmod of `a/keep`. Returns the workspace.
    static func history() throws -> Workspace {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .directory(["f1.bin": .file("version one"), "keep": .file("k")]), "other": .file("o")], at: w.source)
        for (step, message) in [("true", "one"), ("echo version two > a/f1.bin", "two"), ("echo o2 > other", "three"),
                                ("mv a/f1.bin a/f2.bin", "four"), ("rm a/f2.bin", "five"), ("chmod 600 a/keep", "six")] {
            #expect(sh("cd '\(w.source)' && \(step)") == 0)
            try w.expectSuccess(w.emu("push", "-q", "-m", message))
        }
        return w
    }

    static func changes(_ snapshot: [String: Any]) -> [[String: Any]] { snapshot["changes"] as? [[String: Any]] ?? [] }

    @Test("each snapshot where the file changed says what happened to it, newest first, and only those")
    func versions() throws {
        let w = try Self.history()
        let steps = try w.loggedSnapshots("--", "a/f1.bin")
        try #require(steps.count == 3, "\(steps)")
        #expect(steps.map { $0["message"] as? String } == ["four", "two", "one"])
        #expect(steps.map { Self.changes($0).map { $0["change"] as? String } } == [["renamed"], ["modified"], ["added"]])
        let renamed = Self.changes(steps[0])[0]
        #expect(renamed["old_path"] as? String == "a/f1.bin" && renamed["path"] as? String == "a/f2.bin")
        let version = try #require(Self.changes(steps[1])[0]["version"] as? [String: Any])
        #expect(version["size"] as? Int == 12 && version["type"] as? String == "file" && version["modified"] is String)

        let text = try w.emu("log", "--no-pager", "--", "a/f1.bin")
        try w.expectSuccess(text)
        #expect(text.stdout.contains("renamed       a/f1.bin → a/f2.bin  12 B, modified "), "\(text.stdout)")
        #expect(text.stdout.contains("added         a/f1.bin  11 B, modified "), "\(text.stdout)")
    }

    @Test("a deletion names the snapshot that holds the last version, and the checkout it gives restores it")
    func deletionLeadsToTheLastVersion() throws {
        let w = try Self.history()
        let steps = try w.loggedSnapshots("-n", "1", "--", "a/f2.bin")
        let deleted = try #require(Self.changes(steps.first ?? [:]).first)
        #expect(deleted["change"] as? String == "deleted" && steps[0]["message"] as? String == "five")
        let all = try w.loggedSnapshots()
        try #require(all.count == 6)
        #expect(deleted["last_in"] as? String == all[2]["id"] as? String, "the snapshot of push four")

        let short = try w.emu("log", "--short", "-n", "1", "--", "a/f2.bin")
        let command = try #require(short.stdout.firstMatch(of: /emu checkout [^\s)]+ -- [^\s)]+/)?.output, "\(short.stdout)")
        #expect(command.hasSuffix(" -- a/f2.bin"), "\(short.stdout)")
        try w.expectSuccess(w.bash("emu() { \"$EMU\" \"$@\"; }; " + command))
        #expect(try String(contentsOfFile: w.source + "/a/f2.bin", encoding: .utf8) == "version two\n")
    }

    @Test("checking out a path the snapshot lacks points to the path's history, and that command runs")
    func missingPathPointsToHistory() throws {
        let w = try Self.history()
        let refused = try w.emu("checkout", "HEAD", "--", "a/f2.bin")
        #expect(refused.status == 2 && refused.stderr.contains("'a/f2.bin' is not in snapshot"), "\(refused.stderr)")
        let fixes = try w.runFixes(of: refused)
        #expect(fixes.count == 2 && fixes.allSatisfy { $0.status == 0 }, "\(fixes.map(\.stderr))")
        #expect(fixes.first?.stdout.contains("deleted       a/f2.bin  (the last version is in ") == true, "\(fixes.first?.stdout ?? "")")
        #expect(try w.runFixes(of: w.emu("show", "HEAD:a/f1.bin")).allSatisfy { $0.status == 0 })
    }

    @Test("--all lists every snapshot: the version an unchanged one holds, or that it holds none")
    func everySnapshot() throws {
        let w = try Self.history()
        let steps = try w.loggedSnapshots("--all", "--", "a/f1.bin")
        try #require(steps.count == 6)
        #expect(steps.map { Self.changes($0).count } == [0, 0, 1, 0, 1, 1])
        let unchanged = try #require(steps[3]["unchanged"] as? [String: Any], "push three left it as it was")
        #expect(unchanged["path"] as? String == "a/f1.bin" && unchanged["size"] as? Int == 12)
        #expect(steps[0]["unchanged"] == nil && steps[1]["unchanged"] == nil, "gone after the rename")
        let short = try w.emu("log", "--short", "--all", "--", "a/f1.bin")
        #expect(short.stdout.split(separator: "\n").filter { $0.contains("not in this snapshot") }.count == 2, "\(short.stdout)")
        let alone = try w.emu("log", "--all")
        #expect(alone.status == 2 && alone.stderr.contains("give the path after --"), "\(alone.stderr)")
    }

    @Test("a directory's history lists its files' changes, metadata-only ones included")
    func directory() throws {
        let w = try Self.history()
        let steps = try w.loggedSnapshots("--", "a")
        try #require(steps.count == 5)
        #expect(steps.map { $0["message"] as? String ?? "" } == ["six", "five", "four", "two", "one"])
        #expect(Self.changes(steps[0]).map { "\($0["change"]!) \($0["path"]!)" } == ["metadata a/keep"])
        #expect(Set(Self.changes(steps[4]).map { $0["path"] as? String }) == ["a", "a/f1.bin", "a/keep"])
        let short = try w.emu("log", "--short", "--", "a")
        #expect(short.stdout.contains("3 changes: 3 added  one"), "\(short.stdout)")
        #expect(try w.loggedSnapshots("--", "other").count == 2, "one and three")
    }
}
