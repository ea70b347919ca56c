import EmuPOSIX
import Foundation
import Glibc
import Testing

/// A snapshot's date decides what retention keeps, so no one may pick one
/// that erases history: never after the clock of the machine that keeps
/// the sink (locally `--force` may), never a date that is no date, over an
/// append-only key never older than the newest complete snapshot; and
/// retention measures from the newest snapshot that is not in the future.
@Suite("snapshot dates")
struct SnapshotDateTests {
    @Test("push --date after the clock is refused unless --force; --force alone is bad usage")
    func futureDateLocally() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        let refused = try w.emu("push", "--date", "2062-12-06")
        #expect(refused.status == 2 && refused.stderr.contains("after this machine's clock"), "\(refused.stderr)")
        #expect(try w.loggedSnapshots().isEmpty)
        let lone = try w.emu("push", "--force")
        #expect(lone.status == 2 && lone.stderr.contains("--force goes with --date"), "\(lone.stderr)")
        try w.expectSuccess(w.emu("push", "--date", "2062-12-06", "--force"))
        #expect(try w.loggedSnapshots().count == 1)
    }

    @Test("retention measures from the newest snapshot not in the future: future-dated ones are kept and expire nothing")
    func retentionIgnoresTheFuture() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        let past = ["2026-01-01", "2026-02-01", "2026-03-01"], future = ["2061-01-01", "2062-01-01", "2063-01-01"]
        for date in past { try w.expectSuccess(w.emu("push", "--date", date)) }
        for date in future { try w.expectSuccess(w.emu("push", "--date", date, "--force")) }
        let names = { try w.loggedSnapshots().compactMap { $0["name"] as? String }.map { String($0.prefix(10)) }.sorted() }
        for (policy, kept) in [(["--keep-daily", "2"], ["2026-02-01", "2026-03-01"]), (["--keep-within", "40d"], ["2026-02-01", "2026-03-01"]),
                               (["--keep-last", "1"], ["2026-03-01"])] {
            try w.expectSuccess(w.emu(arguments: ["prune", "origin"] + policy))
            let left = try names()
            #expect(left == kept + future, "prune \(policy.joined(separator: " ")) counts from March, not from 2063: \(left)")
        }
    }

    @Test("over the protocol: a date that is no date, one after the server's clock, and for an append-only key one not after the newest, are refused")
    func datesOverTheWire() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        try w.expectSuccess(w.emu("push", "--date", "2026-06-01"))
        let head = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .newlines)
        let now = Int(Date().timeIntervalSince1970)
        for (mode, date, words) in [("--append-only", "1780000000.2000000000", "not a date"), ("--append-only", "-5.0", "not a date"),
                                    ("--append-only", "99999999999999.0", "not a date"), ("--append-only", "\(now + 86400 * 365).0", "after this machine's clock"),
                                    ("--append-only", "1700000000.0", "may only add newer"), ("--append-only", "abc", "is not SECONDS"),
                                    ("", "\(now + 86400 * 365).0", "after this machine's clock")] {
            let session = try ServeSession(["--sink", w.sink] + (mode.isEmpty ? [] : [mode]), in: w.root)
            #expect(session.hello(sink: w.sink)?.kind == .hello)
            #expect(session.request("lock exclusive 0")?.kind == .reply)
            let answer = session.request("push-begin \(date) 6d 2f \(head) - \(try ServePushAttackTests.identity(w))")
            #expect(answer?.kind == .error && answer?.text.contains(words) == true, "\(mode) \(date): \(String(describing: answer))")
            #expect(session.close() == 0)
        }
        try w.expectSuccess(w.emu("verify"))
        #expect(try w.loggedSnapshots().count == 1)
    }
}
