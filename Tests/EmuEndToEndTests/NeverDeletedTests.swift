import EmuPOSIX
import Foundation
import Glibc
import Testing

/// What no command may delete, whatever it is asked: a checkout into the
/// source leaves what the snapshot never held by rule (excluded paths, a
/// sink inside the source: a bug there deletes the backup itself), and a
/// retention policy never deletes HEAD (the newest snapshot by date, which
/// need not be the newest push), whatever the dates say.
@Suite("what is never deleted")
struct NeverDeletedTests {
    @Test("checkout into the source restores and removes only what snapshots hold: excluded paths and a sink inside it stay as they are")
    func checkoutLeavesExcludedAndSink() throws {
        let w = try Workspace("emu-keep", sinkPath: nil)
        try Fixture.create(["a": .file("one"), "junk.tmp": .file("scratch"), "cache": .directory(["big": .file("cached")]),
                            "d": .directory(["b": .file("bee"), "x.tmp": .file("local")])], at: w.source)
        try w.expectSuccess(w.emu("init"))
        try w.expectSuccess(w.emu("sink", "add", "inner", w.source + "/backups"))
        try "*.tmp\n/cache/\n".write(toFile: w.source + "/.emu/excludes", atomically: false, encoding: .utf8)
        try w.expectSuccess(w.emu("push"))
        // Edits since: a changed file, a new one, changed excluded files, and a second snapshot in the inner sink.
        sh("cd '\(w.source)' && echo two > a && echo new > n && echo changed > junk.tmp && echo more > cache/more && echo also > d/x.tmp")
        try w.expectSuccess(w.emu("push"))
        let sinkBefore = DirectoryState(of: w.source + "/backups")
        let kept = try describeTree(w.source, ignoring: [.root]).filter { path, _ in
            ["junk.tmp", "cache", "d/x.tmp", "backups"].contains { path.description == $0 || path.description.hasPrefix($0 + "/") }
        }
        let checkout = try w.emu("checkout", "HEAD~1", "--force")
        #expect(checkout.status == 0, "\(checkout.stderr)")
        #expect(try String(contentsOfFile: w.source + "/a", encoding: .utf8) == "one")
        #expect(!FileManager.default.fileExists(atPath: w.source + "/n"), "a file the snapshot lacks is removed")
        let after = try describeTree(w.source, ignoring: [.root]).filter { path, _ in kept[path] != nil || path.description.hasPrefix("backups/") }
        expectSameTrees(kept, after)
        let sinkChanges = DirectoryState(of: w.source + "/backups").changes(since: sinkBefore)
        #expect(sinkChanges.isEmpty, "the sink inside the source is untouched: \(sinkChanges)")
        #expect(try w.emu("verify").status == 0)
        #expect(try w.loggedSnapshots().count == 2)
    }

    @Test("prune SINK keeps HEAD, whatever the dates: the newest push dated before the others, HEAD the newest by date", arguments: [
        ["--keep-last", "1"], ["--keep-within", "1d"], ["--keep-daily", "1"], ["--keep-monthly", "1"], ["--keep-yearly", "1"],
    ])
    func pruneKeepsHead(policy: [String]) throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        for (date, content) in [("2026-06-01T12:00:00", "june"), ("2026-07-01T12:00:00", "july"), ("2026-01-01T12:00:00", "january")] {
            sh("echo \(content) > '\(w.source)/a'")
            try w.expectSuccess(w.emu("push", "--date", date))
        }
        let head = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try w.emu("show", "HEAD:a").stdout == "july\n", "HEAD is the newest snapshot by date, not the newest push")
        let pruned = try w.emu(arguments: ["prune", "origin"] + policy)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        let ids = try w.loggedSnapshots().compactMap { $0["id"] as? String }
        #expect(ids.contains(head), "prune origin \(policy.joined(separator: " ")) deleted HEAD: \(ids)")
        #expect(try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == head)
        #expect(try w.emu("show", "HEAD:a").stdout == "july\n")
        #expect(try w.emu("verify").status == 0)
    }
}
