import Foundation
import Testing

/// A push stopped by Ctrl-C or SIGTERM says so, is remembered for `emu
/// status`, and the next push resumes from what it copied (issue 28).
@Suite("an interrupted push")
struct InterruptedPushTests {
    @Test("Ctrl-C and SIGTERM: a message naming the signal, exit 128+N, nothing published, status says it, the next push resumes",
          arguments: [(2, "Ctrl-C (SIGINT)"), (15, "SIGTERM")])
    func signalled(signal: Int, name: String) throws {
        let w = try Workspace().initialize()
        #expect(sh("mkdir '\(w.source)/d' && for i in 1 2 3 4; do head -c 300000 /dev/urandom > '\(w.source)'/d/$i; done") == 0)
        // The signal arrives as the copies are done and nothing is durable yet, as a user's would.
        let stopped = try w.emu("push", environment: ["EMU_CRASH_AT": "push.before-sync", "EMU_CRASH_SIGNAL": String(signal)])
        #expect(stopped.status == Int32(128 + signal), "\(stopped.status) \(stopped.stderr)")
        #expect(stopped.stderr.contains("the push to 'origin' was interrupted by \(name): nothing of it was published; "
                                        + "the next push to 'origin' resumes from what this one copied"), "\(stopped.stderr)")
        #expect(try w.loggedSnapshots(arguments: ["--all-sinks"]).isEmpty)
        let status = try w.emu("status", "--check")
        #expect(status.status == 1 && status.stderr.contains("origin: the last push was interrupted (")
                && status.stderr.contains("interrupted by \(name)); the next push resumes from what it copied"), "\(status.stderr)")
        let resumed = try w.emu("push", "--json")
        try w.expectSuccess(resumed)
        #expect(resumed.stdout.contains(#""files_copied":0"#) && resumed.stdout.contains(#""files_linked":4"#),
                "the four copies were checked and linked, not copied again: \(resumed.stdout)")
        #expect(try w.emu("status", "--check").status == 0)
    }

    @Test("a signal ignored when emu started (nohup) stays ignored: it does not stop the push")
    func ignoredSignal() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        // The crash point sends SIGINT and waits for it to end emu; ignored, it never does, and SIGKILL ends it.
        let run = try w.bash("trap '' INT; EMU_CRASH_AT=push.before-sync EMU_CRASH_SIGNAL=2 \"$EMU\" push -q & p=$!; sleep 3; kill -9 $p; wait $p; echo \"status $?\"")
        #expect(run.stdout.contains("status 137"), "\(run.stdout) \(run.stderr)")
        #expect(!run.stderr.contains("interrupted by"), "\(run.stderr)")
    }

    /// emu blocks the signals in its own threads to hear them on one; what it
    /// starts (hooks, ssh, sshfs) must not inherit that, or Ctrl-C stops nothing there.
    @Test("a hook started during a push has no signal blocked")
    func hooksHearSignals() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a' && mkdir -p '\(w.source)/.emu/hooks/push' && printf '#!/usr/bin/python3\\nimport os\\nopen(os.environ[\"EMU_SOURCE\"] + \"/../mask\", \"w\").write([l for l in open(\"/proc/self/status\") if l.startswith(\"SigBlk\")][0])\\n' "
                   + "> '\(w.source)/.emu/hooks/push/mask.pre' && chmod +x '\(w.source)/.emu/hooks/push/mask.pre'") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
        let mask = try String(contentsOfFile: w.root + "/mask", encoding: .utf8)
        #expect(mask.hasSuffix("0000000000000000\n"), "\(mask)")
    }
}
