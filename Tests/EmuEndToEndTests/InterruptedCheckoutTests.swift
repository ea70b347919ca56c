import EmuPOSIX
import Foundation
import Glibc
import Testing

/// A killed checkout leaves no trace that a later command mistakes for data
/// (issue 10).
@Suite("interrupted checkouts")
struct InterruptedCheckoutTests {
    @Test("a checkout --to killed while moving its tree into place is finished by the next checkout of that snapshot")
    func killedWhilePlacing() throws {
        let w = try Workspace().initialize()
        sh("cd '\(w.source)' && mkdir d e && echo 1 > a && echo 2 > d/b && echo 3 > e/c && echo 4 > z")
        try w.expectSuccess(w.emu("push"))
        let out = w.root + "/out"
        let killed = try w.emu("checkout", "HEAD", "--to", out, environment: ["EMU_CRASH_AT": "checkout.placing"])
        #expect(killed.killed)
        let half = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(half.contains { $0.hasPrefix(".emu-checkout.") } && half.count > 1, "\(half)")
        // Another snapshot is no reason to take DIR over: it still asks for --force, and leaves DIR as it was.
        sh("echo 5 > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        let refused = try w.emu("checkout", "HEAD", "--to", out)
        #expect(refused.status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == half.sorted())
        // Its fix finishes the killed checkout, as given.
        let fixes = try w.runFixes(of: refused)
        #expect(fixes.count == 1 && fixes.allSatisfy { $0.status == 0 }, "\(refused.stderr) \(fixes.map(\.stderr))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["a", "d", "e", "z"])
        #expect(try String(contentsOfFile: out + "/a", encoding: .utf8) == "1\n")
        #expect(try String(contentsOfFile: out + "/e/c", encoding: .utf8) == "3\n")
    }

    @Test("a killed checkout's temporary file in the source never goes into a snapshot, and the next checkout removes it")
    func temporaryFileInSource() throws {
        let w = try Workspace().initialize()
        sh("cd '\(w.source)' && mkdir d && echo 1 > a && echo 2 > d/b")
        try w.expectSuccess(w.emu("push"))
        // What a checkout killed between writing a file and renaming it leaves.
        sh("echo half > '\(w.source)/d/.emu-checkout.4242.1'")
        let push = try w.emu("push")
        try w.expectSuccess(push)
        #expect(push.stderr.contains(".emu-checkout.4242.1"), "the push did not say it left the file out: \(push.stderr)")
        let tree = try #require(try w.trees().last)
        #expect(!FileManager.default.fileExists(atPath: tree + "/d/.emu-checkout.4242.1"))
        try w.expectSuccess(w.emu("checkout", "HEAD"))
        #expect(!FileManager.default.fileExists(atPath: w.source + "/d/.emu-checkout.4242.1"))
    }
}
