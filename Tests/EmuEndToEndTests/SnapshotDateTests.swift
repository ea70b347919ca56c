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

    /// The folder names of a sink's snapshots, as `ls` sorts them.
    static func folderNames(_ w: Workspace) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: w.sink).filter { $0.hasPrefix("20") }.sorted()
    }

    @Test("pushes from two zones: the folder names sort in history order, and log shows each date in the reader's zone")
    func twoZones() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("push", "-q", "-m", "tokyo", environment: ["TZ": "Asia/Tokyo"]))
        #expect(sh("echo b > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("push", "-q", "-m", "los angeles", environment: ["TZ": "America/Los_Angeles"]))
        let byName = try Self.folderNames(w)
        let byHistory = try w.loggedSnapshots().reversed().map { $0["name"] as? String ?? "" }
        #expect(byName == byHistory && byName.allSatisfy { $0.hasSuffix("Z") }, "\(byName) against \(byHistory)")
        let tokyo = try w.emu("log", "-n", "1", "--json", environment: ["TZ": "Asia/Tokyo"])
        #expect(tokyo.stdout.contains("+09:00\""), "\(tokyo.stdout)")
        let text = try w.emu("log", "-n", "1", "--no-pager", environment: ["TZ": "Asia/Tokyo"])
        let name = try #require(byName.last)
        let shown = try w.bash("TZ=Asia/Tokyo date -d \"$(echo '\(name)' | sed 's/\\./:/g; s/ /T/')\" '+%Y-%m-%d %H:%M:%S'").stdout
            .trimmingCharacters(in: .newlines)
        #expect(text.stdout.contains("Date:     \(shown)"), "log shows the local time: \(shown) in \(text.stdout)")
    }

    @Test("at the autumn change two pushes an hour apart at the same wall time both land, named apart")
    func daylightSavingFallBack() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        // 2026-10-25 02:30 in Berlin happens twice: 00:30 and 01:30 UTC.
        for (seconds, content) in [(1_792_888_200, "b"), (1_792_891_800, "c")] {
            #expect(sh("echo \(content) > '\(w.source)/a'") == 0)
            let pushed = try w.emu("push", "-q", "--date", "@\(seconds)", environment: ["TZ": "Europe/Berlin"])
            #expect(pushed.status == 0, "\(pushed.stderr)")
        }
        #expect(try Self.folderNames(w) == ["2026-10-25 00.30.00Z", "2026-10-25 01.30.00Z"])
        let log = try w.emu("log", "--short", environment: ["TZ": "Europe/Berlin"])
        #expect(log.stdout.split(separator: "\n").allSatisfy { $0.contains("2026-10-25 02:30:00") }, "\(log.stdout)")
    }

    @Test("one push to two sinks: their snapshots of one second show different short IDs, each a reference that works")
    func shortIDsAcrossSinks() throws {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.emu("sink", "add", "usb", w.root + "/usb", "-q"))
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("push", "-q", "origin", "--date", "2026-01-02 03:04:05"))
        #expect(sh("echo b > '\(w.source)/a'") == 0)
        // One push to both: the same second, other parents, so other IDs.
        try w.expectSuccess(w.emu("push", "-q", "--date", "2026-01-03 03:04:05"))
        let origin = try w.loggedSnapshots("origin"), usb = try w.loggedSnapshots("usb")
        let (a, b) = (origin[0]["short_id"] as? String ?? "", usb[0]["short_id"] as? String ?? "")
        #expect(origin[0]["name"] as? String == usb[0]["name"] as? String && a != b, "\(a) \(b)")
        #expect(try w.emu("show", "origin:\(a)").stdout.contains(origin[0]["id"] as? String ?? "?"))
        #expect(try w.emu("show", "usb:\(b)").stdout.contains(usb[0]["id"] as? String ?? "?"))
    }
}

