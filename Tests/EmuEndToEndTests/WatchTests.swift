import EmuPOSIX
import Foundation
import Glibc
import Testing

/// `emu watch` (issue 15): pushes when changes settle, reading only the
/// directories that had events; falls back to a whole walk when events
/// are lost or cannot all be watched; stops on SIGTERM only between pushes.
@Suite("watch", .serialized)
struct WatchTests {
    /// `emu watch ARGS` running in the background, its stderr in a file.
    final class Watching {
        let process = Process()
        let stderr: String

        init(_ w: Workspace, _ arguments: [String], wrapper: [String] = []) throws {
            stderr = w.root + "/watch-\(UUID().uuidString).err"
            FileManager.default.createFile(atPath: stderr, contents: nil)
            process.executableURL = URL(fileURLWithPath: wrapper.isEmpty ? EmuBinary.path : "/usr/bin/env")
            process.arguments = wrapper + (wrapper.isEmpty ? [] : [EmuBinary.path]) + ["watch", "-v"] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: w.source)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
            try process.run()
        }

        var log: String { (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "" }

        /// Waits for `condition`; false if it never held. The bound (ten
        /// minutes) guards against a hang, not a slow machine.
        func wait(for condition: () throws -> Bool) rethrows -> Bool {
            for _ in 0..<6000 {
                if try condition() { return true }
                usleep(100_000)
            }
            return false
        }

        /// SIGTERM, then the exit status.
        func stop() -> Int32 {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    static func tree(_ w: Workspace) throws {
        #expect(sh("cd '\(w.source)' && mkdir -p a/b c && for i in $(seq 20); do echo $i > a/f$i; echo $i > a/b/h$i; echo $i > c/g$i; done "
                   + "&& echo shared > a/linked && ln a/linked c/linked") == 0)
    }

    @Test("a change is pushed once it settles, reading only the directories with events, and the snapshot equals the source")
    func pushesWhatChanged() throws {
        let w = try Workspace().initialize()
        try Self.tree(w)
        let watch = try Watching(w, ["--settle", "1s", "--max-interval", "20s"])
        defer { _ = watch.stop() }
        #expect(try watch.wait { try w.trees().count == 1 }, "the first push: \(watch.log)")
        #expect(watch.log.contains("walking everything"))
        // A content change, a new file, a mode change, and a write through a hardlink's other name.
        #expect(sh("cd '\(w.source)' && echo changed > a/b/h3 && echo new > c/new && chmod 600 a/f7 && echo through-c >> c/linked") == 0)
        #expect(try watch.wait { try w.trees().count == 2 }, "the second push: \(watch.log)")
        #expect(watch.log.contains("directories to read"), "\(watch.log)")
        let diff = try w.emu("diff")
        #expect(diff.status == 0 && diff.stdout.isEmpty, "the snapshot is the source: \(diff.stdout)")
        let changes = try w.emu("diff", "HEAD~1", "HEAD", "--name-status")
        #expect(changes.stdout == "M\ta/b/h3\nP\ta/f7\nM\ta/linked\nM\tc/linked\nA\tc/new\n", "\(changes.stdout)")
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", w.root + "/out"))
        expectSameTrees(try describeTree(w.source, ignoring: [.root, RelativePath(".emu")]).filter { !$0.key.bytes.starts(with: Array(".emu/".utf8)) },
                        try describeTree(w.root + "/out", ignoring: [.root]))
        #expect(watch.stop() == 0 && watch.log.contains("stopped; no push was cut short"))
    }

    @Test("watch pushes to a sink over ssh as to a local one: only the directories with events are read, and the snapshot equals the source",
          Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
    func pushesOverSSH() throws {
        let w = try Workspace("emu-rwatch")
        let server = try SSHServer(in: w.root)
        defer { withExtendedLifetime(server) {} }
        try w.expectSuccess(w.emu("init", "-q"))
        try w.expectSuccess(w.emu("sink", "add", "nas", server.address(w.sink), "--ssh-command", server.sshCommand, "--remote-emu", EmuBinary.path))
        try Self.tree(w)
        let watch = try Watching(w, ["--settle", "1s", "--max-interval", "20s"])
        defer { _ = watch.stop() }
        #expect(try watch.wait { try w.loggedSnapshots("nas").count == 1 }, "the first push: \(watch.log)")
        #expect(sh("cd '\(w.source)' && echo changed > a/b/h3 && echo new > c/new && echo through-c >> c/linked") == 0)
        #expect(try watch.wait { try w.loggedSnapshots("nas").count == 2 }, "the second push: \(watch.log)")
        #expect(watch.log.contains("directories to read"), "\(watch.log)")
        #expect(try w.emu("diff", "nas:HEAD").stdout.isEmpty, "the snapshot is the source")
        let changes = try w.emu("diff", "nas:HEAD~1", "nas:HEAD", "--name-status")
        #expect(changes.stdout == "M\ta/b/h3\nM\ta/linked\nM\tc/linked\nA\tc/new\n", "\(changes.stdout)")
        #expect(watch.stop() == 0)
    }

    @Test("durations without a unit, a zero settle time, a max-interval below it, and misused --redundancy are refused")
    func refusals() throws {
        let w = try Workspace().initialize()
        for (arguments, words) in [(["watch", "--settle", "30"], "not a duration"), (["watch", "--settle", "0s"], "above 0"),
                                   (["watch", "--settle", "1m", "--max-interval", "30s"], "at least --settle"),
                                   (["watch", "nosuch"], "nosuch"), (["verify", "--redundancy", "0"], "1 or more"),
                                   (["verify", "--redundancy", "2", "origin:HEAD"], "no references")] {
            let run = try w.emu(arguments: arguments)
            #expect(run.status == 2 && run.stderr.contains(words), "\(arguments): \(run.stderr)")
        }
    }

    @Test("a sink that was offline catches up at start; one already up to date gets no new snapshot")
    func catchesUpPerSink() throws {
        let w = try Workspace().initialize()
        try Self.tree(w)
        try w.expectSuccess(w.emu("sink", "add", "second", w.root + "/second"))
        try w.expectSuccess(w.emu("push", "origin"))
        let watch = try Watching(w, ["--settle", "1s"])
        defer { _ = watch.stop() }
        #expect(try watch.wait { try w.trees(of: "second", at: w.root + "/second").count == 1 }, "\(watch.log)")
        #expect(watch.stop() == 0)
        #expect(try w.trees().count == 1, "origin was up to date: \(watch.log)")
        #expect(try w.emu("diff", "second:HEAD").stdout.isEmpty)
    }

    @Test("lost events (a queue overflow) make the next push walk everything, and say so")
    func overflow() throws {
        let w = try Workspace().initialize()
        try Self.tree(w)
        try w.expectSuccess(w.emu("push"))
        let watch = try Watching(w, ["--settle", "1s"])
        defer { _ = watch.stop() }
        #expect(watch.wait { watch.log.contains("watching") })
        // Stopped, it reads nothing: more events than its queue holds (16384) pile up.
        kill(watch.process.processIdentifier, SIGSTOP)
        #expect(sh("cd '\(w.source)/c' && for i in $(seq 17000); do : > n$i; done") == 0)
        kill(watch.process.processIdentifier, SIGCONT)
        #expect(try watch.wait { try w.trees().count == 2 }, "\(watch.log)")
        #expect(watch.log.contains("overflowed") && watch.log.contains("walking everything"), "\(watch.log)")
        #expect(try w.emu("diff").stdout.isEmpty)
        // Beyond the overflow it watches again: a directory made, filled and deleted between two pushes leaves no
        // trace, and a change beside it is pushed reading only the directories with events.
        let logged = watch.log.count
        #expect(sh("cd '\(w.source)' && mkdir -p a/gone/deeper && for i in $(seq 50); do echo $i > a/gone/deeper/f$i; done && rm -rf a/gone "
                   + "&& echo after > a/b/h5") == 0)
        #expect(try watch.wait { try w.trees().count == 3 }, "\(watch.log)")
        let since = String(watch.log.dropFirst(logged))
        #expect(since.contains("directories to read") && !since.contains("walking everything"), "\(since)")
        #expect(try w.emu("diff").stdout.isEmpty)
        #expect(try w.emu("diff", "HEAD~1", "HEAD", "--name-status").stdout == "M\ta/b/h5\n")
    }

    @Test("at the watch limit every push walks everything, and only when something changed")
    func watchLimit() throws {
        let w = try Workspace().initialize()
        try Self.tree(w)
        try w.expectSuccess(w.emu("push"))
        // A user namespace of its own lowers the limit for this process only.
        let watch = try Watching(w, ["--settle", "1s", "--max-interval", "2s"], wrapper: [
            "unshare", "--user", "--map-root-user", "sh", "-c", "echo 2 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\""])
        defer { _ = watch.stop() }
        #expect(watch.wait { watch.log.contains("watch limit is reached") }, "\(watch.log)")
        #expect(watch.wait { watch.log.contains("nothing to push") }, "no change, no snapshot: \(watch.log)")
        #expect(sh("echo deep > '\(w.source)/a/b/h1'") == 0)
        #expect(try watch.wait { try w.trees().count == 2 }, "\(watch.log)")
        #expect(try w.emu("diff").stdout.isEmpty)
    }

    @Test("SIGTERM during a push lets it finish: the snapshot is whole and published, nothing is left in staging")
    func stopsBetweenPushes() throws {
        let w = try Workspace().initialize()
        try Self.tree(w)
        try w.expectSuccess(w.emu("push"))
        let watch = try Watching(w, ["--settle", "1s"])
        #expect(watch.wait { watch.log.contains("watching") })
        #expect(sh("head -c 300000000 /dev/zero | tr '\\0' x > '\(w.source)/big'") == 0)
        #expect(watch.wait { watch.log.contains("origin: pushing") }, "\(watch.log)")
        #expect(watch.stop() == 0, "\(watch.log)")
        #expect(try w.trees().count == 2, "the push under way finished: \(watch.log)")
        #expect(!FileManager.default.fileExists(atPath: w.sink + "/.emu/staging"))
        try w.expectSuccess(w.emu("verify", "HEAD"))
    }
}
