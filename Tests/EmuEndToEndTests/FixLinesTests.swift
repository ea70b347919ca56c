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
        #expect(refused.status == 1 && refused.stderr.contains("would be lost"), "\(refused.stderr)")
        for fix in try w.runFixes(of: refused) { try w.expectSuccess(fix) }
        try w.expectSuccess(w.emu("checkout", "HEAD~1"))
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
