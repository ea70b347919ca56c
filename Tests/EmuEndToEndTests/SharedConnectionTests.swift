import Foundation
import Glibc
import Testing

/// One ssh connection for the life of an emu process (OpenSSH's
/// ControlMaster), shared by its sessions to one host through one ssh
/// command; none where the user's ssh command says how to share.
@Suite("ssh connections shared within a command", Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
struct SharedConnectionTests {
    @Test("a push to two sinks on one host opens one connection, and it ends with emu; a command that says ControlMaster=no opens two")
    func twoSinksOneConnection() throws {
        let (w, server, count, ssh) = try setUp("emu-shared-ssh", sinks: ["nas", "nas2"])
        defer { withExtendedLifetime(server) {} }
        try w.expectSuccess(w.emu("push", "nas", "nas2", "-q"))
        // Waits for the relay to end, which writes its line then: a connection left open after emu would leave none.
        _ = RemotePushTests.sent(count)
        #expect(connections(count) == 1, "one connection carried both pushes, and it ended with emu")

        for name in ["nas", "nas2"] { try w.expectSuccess(w.emu("config", "sink.\(name).ssh-command", ssh + " -o ControlMaster=no")) }
        try "".write(toFile: count, atomically: true, encoding: .utf8)
        try w.expectSuccess(w.emu("push", "nas", "nas2", "-q"))
        _ = RemotePushTests.sent(count)
        #expect(connections(count) == 2, "the user's ControlMaster=no is kept: one connection a sink")
        try w.expectSuccess(w.emu("verify", "nas", "-q"))
        try w.expectSuccess(w.emu("verify", "nas2", "-q"))
    }

    @Test("a ControlPath in the user's ssh configuration is theirs: emu opens no connection of its own to share")
    func configuredControlPathIsLeftAlone() throws {
        let (w, server, count, ssh) = try setUp("emu-shared-config", sinks: ["nas", "nas2"])
        defer { withExtendedLifetime(server) {} }
        // Their own path, with sharing off: each session connects on its own (the last -F is the one ssh reads).
        let config = w.root + "/ssh_config"
        try "ControlPath \(w.root)/theirs-%C\n".write(toFile: config, atomically: true, encoding: .utf8)
        for name in ["nas", "nas2"] { try w.expectSuccess(w.emu("config", "sink.\(name).ssh-command", ssh + " -F " + config)) }
        try w.expectSuccess(w.emu("push", "nas", "nas2", "-q"))
        _ = RemotePushTests.sent(count)
        #expect(connections(count) == 2, "one connection a sink: the configured ControlPath was left alone")
    }

    @Test("emu watch: its check at start and each push to an ssh sink ride one connection, which ends when the watch stops")
    func watchRidesOneConnection() throws {
        let (w, server, count, _) = try setUp("emu-shared-watch", sinks: ["nas"])
        defer { withExtendedLifetime(server) {} }
        let watch = try WatchTests.Watching(w, ["--settle", "1s", "--max-interval", "20s"])
        defer { _ = watch.stop() }
        // The sink's own directory says what was published: `emu log` would open connections of its own.
        let published = { (try? FileManager.default.contentsOfDirectory(atPath: w.sink + "/.emu/manifests").count) ?? 0 }
        #expect(watch.wait { published() == 1 }, "the first push: \(watch.log)")
        #expect(sh("echo two >> '\(w.source)/a'") == 0)
        #expect(watch.wait { published() == 2 }, "the second push: \(watch.log)")
        #expect(watch.stop() == 0)
        _ = RemotePushTests.sent(count)
        #expect(connections(count) == 1, "the check at start and both pushes rode one connection, and it ended with the watch: \(watch.log)")
    }

    /// A source of one file and `sinks` on a real sshd, reached through
    /// the counting relay; its count starts once `sink add` is done.
    func setUp(_ name: String, sinks: [String]) throws -> (Workspace, SSHServer, count: String, ssh: String) {
        let w = try Workspace(name)
        let server = try SSHServer(in: w.root)
        #expect(sh("echo one > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("init", "-q"))
        let count = w.root + "/wire"
        let ssh = try server.sshCommand(delay: 0, count: count)
        for sink in sinks {
            let path = sink == sinks[0] ? w.sink : w.root + "/" + sink
            try w.expectSuccess(w.emu("sink", "add", sink, server.address(path), "--ssh-command", ssh, "--remote-emu", EmuBinary.path))
        }
        // The relays of `sink add` end after emu does (its master exits on `ssh -O exit`): their lines must land before the count starts.
        _ = RemotePushTests.sent(count)
        try "".write(toFile: count, atomically: true, encoding: .utf8)
        return (w, server, count, ssh)
    }

    /// The connections the counting relay carried: it writes one line each.
    func connections(_ count: String) -> Int {
        ((try? String(contentsOfFile: count, encoding: .utf8)) ?? "").split(separator: "\n").count
    }
}
