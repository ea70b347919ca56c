import Foundation
import Testing

/// Reporting that monitoring and scripts can rely on: `status --check`,
/// the errors of unknown names, repair of what `.emu/` holds (issue 11).
@Suite("reporting: status --check, unknown names, hooks, repair")
struct ReportingTests {
    static func pushedWorkspace(date: String? = nil) throws -> Workspace {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one\n"), "d": .directory(["b": .file("two\n")])], at: w.source)
        try w.expectSuccess(date.map { try w.emu("push", "--date", $0) } ?? w.emu("push"))
        return w
    }

    @Test("status --check exits 0 when all is well and 1, with a one-line reason, when a sink is stale, empty, offline or damaged")
    func statusCheck() throws {
        let w = try Self.pushedWorkspace()
        try w.expectSuccess(w.emu("status", "--check"))
        let stale = try Self.pushedWorkspace(date: "2026-01-01 10:00")
        let staleRun = try stale.emu("status", "--check")
        #expect(staleRun.status == 1 && staleRun.stderr.contains("origin: the newest complete snapshot is from"), "\(staleRun.stderr)")
        try stale.expectSuccess(stale.emu("config", "status.max-age", "100y"))
        try stale.expectSuccess(stale.emu("status", "--check"))

        let empty = try Workspace().initialize()
        let emptyRun = try empty.emu("status", "--check")
        #expect(emptyRun.status == 1 && emptyRun.stderr.contains("origin: holds no snapshot yet"), "\(emptyRun.stderr)")

        try w.expectSuccess(w.emu("sink", "add", "usb", w.root + "/usb"))
        sh("rm -rf '\(w.root)/usb'")
        let offline = try w.emu("status", "--check")
        #expect(offline.status == 1 && offline.stderr.contains("usb: offline"), "\(offline.stderr)")
        try w.expectSuccess(w.emu("sink", "rm", "usb"))

        let tree = try #require(try w.trees().first)
        sh("echo rot > '\(tree)/a'")
        #expect(try w.emu("verify").status == 4)
        let damaged = try w.emu("status", "--check")
        #expect(damaged.status == 1 && damaged.stderr.contains("found damage"), "\(damaged.stderr)")
        #expect(try w.emu("status").status == 0, "without --check problems are warnings")
    }

    @Test("status --check reports a push that failed, until one succeeds; the .error hook runs even when the push fails before its walk")
    func failedPushAndErrorHooks() throws {
        let w = try Self.pushedWorkspace()
        let hook = w.source + "/.emu/hooks/push/note.error"
        try "#!/bin/sh\necho \"$EMU_SINK $EMU_STATUS\" >> '\(w.root)/hook.log'\n".write(toFile: hook, atomically: false, encoding: .utf8)
        sh("chmod +x '\(hook)'")
        // The sink is gone (not mounted): offline, the push fails, the hook hears it.
        sh("mv '\(w.sink)' '\(w.sink).away'")
        #expect(try w.emu("push").status == 1)
        #expect(try String(contentsOfFile: w.root + "/hook.log", encoding: .utf8) == "origin offline\n")
        sh("mv '\(w.sink).away' '\(w.sink)'")
        // A push that fails (here: its .pre hook says no) is remembered until one succeeds.
        let veto = w.source + "/.emu/hooks/push/veto.pre"
        try "#!/bin/sh\ntest ! -e '\(w.root)/veto'\n".write(toFile: veto, atomically: false, encoding: .utf8)
        sh("chmod +x '\(veto)' && touch '\(w.root)/veto'")
        #expect(try w.emu("push").status == 1)
        let check = try w.emu("status", "--check")
        #expect(check.status == 1 && check.stderr.contains("origin: the last push failed"), "\(check.stderr)")
        sh("rm '\(w.root)/veto'")
        try w.expectSuccess(w.emu("push"))
        try w.expectSuccess(w.emu("status", "--check"))
        #expect(try w.emu("push", "nosuch").status == 2)
        #expect(try String(contentsOfFile: w.root + "/hook.log", encoding: .utf8) == "origin offline\norigin failed\nnosuch failed\n")
    }

    @Test("checkout's .error hook runs when the checkout fails before it begins, as push's does")
    func checkoutErrorHookBeforeItBegins() throws {
        let w = try Self.pushedWorkspace()
        let hook = w.source + "/.emu/hooks/checkout/note.error"
        try "#!/bin/sh\necho \"$EMU_STATUS $EMU_ERROR\" >> '\(w.root)/hook.log'\n".write(toFile: hook, atomically: false, encoding: .utf8)
        sh("chmod +x '\(hook)'")
        #expect(try w.emu("checkout", "HEAD~5").status == 2)
        let log = try String(contentsOfFile: w.root + "/hook.log", encoding: .utf8)
        #expect(log.hasPrefix("failed no snapshot 'HEAD~5'"), "\(log)")
    }

    @Test("status takes no lock: it works while another emu holds the sink's lock")
    func statusWhileLocked() throws {
        let w = try Self.pushedWorkspace()
        let holder = try LockHolder(w.sink + "/.emu/lock")
        let status = try w.emu("status")
        let check = try w.emu("status", "--check")
        // Held all along: a push after them is still refused.
        #expect(try w.emu("push").status == 5)
        holder.release()
        try w.expectSuccess(status)
        try w.expectSuccess(check)
    }

    @Test("every command names an unknown sink as one, not as a malformed reference or a misplaced flag")
    func unknownNames() throws {
        let w = try Self.pushedWorkspace()
        for arguments in [["prune", "nosuch", "--keep-last", "1"], ["show", "nosuch:HEAD"], ["log", "nosuch:HEAD"], ["clean", "nosuch"],
                          ["push", "nosuch"], ["config", "--sink", "nosuch", "-l"]] {
            let run = try w.emu(arguments: arguments)
            #expect(run.status == 2, "\(arguments)")
            #expect(run.stderr.contains("unknown sink 'nosuch'"), "\(arguments): \(run.stderr)")
        }
        for arguments in [["log", "nosuch"], ["verify", "nosuch"], ["diff", "nosuch"]] {
            let run = try w.emu(arguments: arguments)
            #expect(run.status == 2 && run.stderr.contains("'nosuch' is neither a sink nor a snapshot"), "\(arguments): \(run.stderr)")
        }
    }

    @Test("log on a sink without snapshots says so and how to make one, and fails as git log and emu 0.2.5 do; --json prints the empty list")
    func logOfEmptySink() throws {
        let w = try Workspace().initialize()
        for arguments in [["log"], ["log", "origin"]] {
            let run = try w.emu(arguments: arguments)
            #expect(run.status == 1 && run.stdout.isEmpty, "\(arguments): \(run.status)")
            #expect(run.stderr.contains("sink 'origin' holds no snapshots yet") && run.stderr.contains("make one with `emu push origin`"),
                    "\(arguments): \(run.stderr)")
        }
        let json = try w.emu("log", "--json")
        #expect(json.status == 0 && json.stdout == "{\"snapshots\":[]}\n", "\(json.stdout)")
    }

    @Test("clean --repair rebuilds a damaged snapshot record from its tree and says so; verify names a HEAD that names no snapshot")
    func repairDamagedRecordAndHead() throws {
        let w = try Self.pushedWorkspace(date: "2026-11-20 10:00")
        try w.expectSuccess(w.emu("push", "-m", "second"))
        let first = try #require(try w.trees().first).split(separator: "/").last.map(String.init)!
        sh("head -c 400 /dev/urandom > '\(w.sink)/.emu/nodes/\(first)'")
        let log = try w.emu("log")
        #expect(log.status == 1 && log.stderr.contains("emu clean --repair"), "\(log.stderr)")
        let repair = try w.emu("clean", "--repair")
        try w.expectSuccess(repair)
        #expect(repair.stderr.contains("rebuild record .emu/nodes/\(first) (it was damaged)"), "\(repair.stderr)")
        let snapshots = try w.loggedSnapshots()
        #expect(snapshots.count == 2)
        #expect(snapshots.last?["name"] as? String == "2026-11-20 10.00.00Z")
        try w.expectSuccess(w.emu("verify"))

        sh("echo 0123456789012345678901234567890123456789 > '\(w.sink)/.emu/HEAD'")
        let verify = try w.emu("verify")
        #expect(verify.status == 4 && verify.stdout.contains("head: .emu/HEAD (names 012345678901, which is no snapshot"), "\(verify.stdout)")
        try w.expectSuccess(w.emu("clean", "--repair"))
        try w.expectSuccess(w.emu("verify"))
    }
}
