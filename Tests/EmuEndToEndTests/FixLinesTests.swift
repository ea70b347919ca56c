import Foundation
import Testing

/// A `fix:` line that names a command is run as given: it must work
/// (issue 28). Templates (`emu sink add NAME PATH`) are said as such; the
/// fix lines checked elsewhere run there too (FileHistoryTests,
/// SettingsTests, ExportFindTests, InterruptedCheckoutTests, ExitStatusTests).
@Suite("fix lines run as given")
struct FixLinesTests {
    @Test("log of a sink with no snapshot: its fix makes one")
    func emptyLog() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        let log = try w.emu("log")
        #expect(log.status == 1)
        for fix in try w.runFixes(of: log) { try w.expectSuccess(fix) }
        try w.expectSuccess(w.emu("log", "-q"))
    }

    @Test("a checkout that would lose unsaved changes: its fix keeps them, and the checkout then runs")
    func checkoutOverChanges() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
        #expect(sh("echo changed > '\(w.source)/a'") == 0)
        let refused = try w.emu("checkout", "HEAD")
        #expect(refused.status == 1 && refused.stderr.contains("held by no snapshot and lost"), "\(refused.stderr)")
        #expect(try w.emu("checkout", "HEAD", "-n").status == 1, "-n exits as the real run would")
        for fix in try w.runFixes(of: refused) { try w.expectSuccess(fix) }
        try w.expectSuccess(w.emu("checkout", "HEAD~1"))
    }

    @Test("a file whose content another snapshot holds is not lost: named with where it is, and alone it does not stop the checkout")
    func heldElsewhereIsNotLost() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo v1 > '\(w.source)/a' && echo b1 > '\(w.source)/b'") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
        #expect(sh("echo v2 > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
        try w.expectSuccess(w.emu("checkout", "HEAD~1", "--", "a"))
        #expect(sh("echo unsaved > '\(w.source)/b'") == 0)
        let refused = try w.emu("checkout", "HEAD")
        #expect(refused.status == 1 && refused.stderr.contains("1 of them held by no snapshot and lost")
                && refused.stderr.contains("  a  (not lost: its content is in snapshot ") && refused.stderr.contains(" as a)"), "\(refused.stderr)")
        #expect(sh("echo b1 > '\(w.source)/b'") == 0)
        let done = try w.emu("checkout", "HEAD")
        try w.expectSuccess(done)
        #expect(done.stderr.contains("a: overwritten; its content is in snapshot "), "\(done.stderr)")
        #expect(try String(contentsOfFile: w.source + "/a", encoding: .utf8) == "v2\n")
    }

    @Test("prune of a sink and a snapshot at once: its fix runs")
    func pruneMixed() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
        let mixed = try w.emu("prune", "origin", "HEAD")
        #expect(mixed.status == 2)
        for fix in try w.runFixes(of: mixed) { try w.expectSuccess(fix) }
    }

    @Test("outside a source: its fix makes one")
    func outsideSource() throws {
        let w = try Workspace()
        let run = try w.emu("log")
        #expect(run.status == 2 && run.stderr.contains("emu init"), "\(run.stderr)")
        for fix in try w.runFixes(of: run) { try w.expectSuccess(fix) }
        #expect(FileManager.default.fileExists(atPath: w.source + "/.emu/config"))
    }
}
