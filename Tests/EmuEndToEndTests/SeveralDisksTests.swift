import EmuPOSIX
import Foundation
import Glibc
import Testing

/// Two USB disks swapped weekly (issue 15): a push goes to whichever is
/// plugged in; `status` and `sink` say which holds the newest snapshot and
/// how far behind the other is, even while it is unplugged; `log
/// --all-sinks` merges their histories; `verify --redundancy` names what
/// only one of them holds.
@Suite("several disks")
struct SeveralDisksTests {
    static func unplug(_ path: String) { #expect(sh("mv '\(path)' '\(path).away'") == 0) }
    static func plug(_ path: String) { #expect(sh("mv '\(path).away' '\(path)'") == 0) }

    @Test("a swap of two disks: per-disk staleness, merged log, and the files on fewer than N disks")
    func weeklySwap() throws {
        let w = try Workspace()
        let (usb1, usb2) = (w.root + "/usb1", w.root + "/usb2")
        try w.expectSuccess(w.emu("init"))
        try w.expectSuccess(w.emu("sink", "add", "usb1", usb1))
        try w.expectSuccess(w.emu("sink", "add", "usb2", usb2))
        try Fixture.create(["a": .file("a1"), "b": .file("b1")], at: w.source)
        try w.expectSuccess(w.emu("push", "--date", "2026-01-01 10:00"))

        // Week 2: usb2 is in the drawer.
        Self.unplug(usb2)
        #expect(sh("echo a2 > '\(w.source)/a'") == 0)
        let pushed = try w.emu("push", "--date", "2026-01-08 10:00")
        try w.expectSuccess(pushed)
        #expect(pushed.stderr.contains("'usb2'") && pushed.stderr.contains("offline"), "\(pushed.stderr)")
        let status = try w.emu("status")
        #expect(status.stdout.contains("usb1\tonline\tnewest 2026-01-08 10.00.00") && status.stdout.contains("holds the newest snapshot"),
                "\(status.stdout)")
        #expect(status.stdout.contains("usb2\toffline") && status.stdout.contains("1 week behind usb1"), "\(status.stdout)")
        let sinks = try w.emu("sink", "--json")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(sinks.stdout.utf8)) as? [String: Any])["sinks"] as? [[String: Any]]
        #expect(rows?.map { $0["behind_seconds"] as? Int } == [0, 7 * 86400], "\(sinks.stdout)")
        let lonely = try w.emu("verify", "--redundancy", "2")
        #expect(lonely.status == 1 && lonely.stdout == "1\ta\tusb1\n1\tb\tusb1\n", "\(lonely.stdout)")
        #expect(lonely.stderr.contains("usb2") && lonely.stderr.contains("not counted"), "\(lonely.stderr)")

        // Week 3: the swap. usb1 goes to the drawer, usb2 comes back.
        Self.unplug(usb1)
        Self.plug(usb2)
        #expect(sh("echo b3 > '\(w.source)/b'") == 0)
        try w.expectSuccess(w.emu("push", "--date", "2026-01-15 10:00"))
        Self.plug(usb1)
        let after = try w.emu("status")
        #expect(after.stdout.contains("usb1\tonline\tnewest 2026-01-08 10.00.00") && after.stdout.contains("1 week behind usb2"), "\(after.stdout)")
        let log = try w.emu("log", "--all-sinks", "--short")
        let ids = log.stdout.split(separator: "\n").map { $0.split(separator: " ")[0].split(separator: ":")[0] }
        // Newest first; both disks' first snapshots share one date.
        #expect(ids.count == 4 && ids.prefix(2) == ["usb2", "usb1"] && Set(ids.suffix(2)) == ["usb1", "usb2"], "\(log.stdout)")
        // a (changed in week 2) reached usb2 in week 3; b (changed in week 3) is on usb2 alone.
        let redundancy = try w.emu("verify", "--redundancy", "2", "--json")
        #expect(redundancy.status == 1)
        let lines = try redundancy.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let line = lines.first ?? nil
        #expect(lines.count == 2 && line?["path"] as? String == "b" && line?["copies"] as? Int == 1 && line?["sinks"] as? [String] == ["usb2"], "\(redundancy.stdout)")
        try w.expectSuccess(w.emu("push", "usb1", "--date", "2026-01-15 12:00"))
        try w.expectSuccess(w.emu("verify", "--redundancy", "2"))
        // Nothing short: --json still answers, with the summary line alone.
        let clean = try w.emu("verify", "--redundancy", "2", "--json")
        let summary = try JSONSerialization.jsonObject(with: Data(clean.stdout.utf8)) as? [String: Any]
        #expect(clean.status == 0 && summary?["files_short"] as? Int == 0 && summary?["required"] as? Int == 2
                && (summary?["files_checked"] as? Int ?? 0) > 0, "\(clean.stdout)")
        let bad = try w.emu("log", "--all-sinks", "usb1")
        #expect(bad.status == 2, "\(bad.stderr)")
    }
}
