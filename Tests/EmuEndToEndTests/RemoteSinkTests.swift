import Foundation
import Testing

/// Sinks on another machine, through a real OpenSSH server on 127.0.0.1
/// started by each test: `emu serve` on the far side of the channel.
@Suite("remote sinks over ssh", Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
struct RemoteSinkTests {
    /// A source with a local sink holding two snapshots, and a server that
    /// serves that same directory: what a remote sink must show is known.
    func setUp() throws -> (Workspace, SSHServer) {
        let w = try Workspace("emu-remote")
        let server = try SSHServer(in: w.root)
        #expect(sh("echo one > '\(w.source)/a' && cd '\(w.source)' && \"$EMU\" init -q && \"$EMU\" sink add here '\(w.sink)' -q && \"$EMU\" push -q && echo two > b && \"$EMU\" push -q".replacingOccurrences(of: "$EMU", with: EmuBinary.path)) == 0)
        return (w, server)
    }

    func addRemote(_ w: Workspace, _ server: SSHServer, name: String = "nas", path: String? = nil) throws -> Run {
        try w.emu("sink", "add", name, server.address(path ?? w.sink), "--ssh-command", server.sshCommand, "--remote-emu", EmuBinary.path)
    }

    @Test("sink add over ssh names the directories it makes there, and -n asks the server, making nothing")
    func addNamesWhatItMakes() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        let far = w.root + "/far/away/sink"
        let plan = try w.emu("sink", "add", "nas", server.address(far), "--ssh-command", server.sshCommand, "--remote-emu", EmuBinary.path, "-n")
        try w.expectSuccess(plan)
        #expect(plan.stdout.contains("would create directory \(w.root)/far on \(NSUserName())@127.0.0.1") && plan.stdout.contains("would make a sink at \(far)"), "\(plan.stdout)")
        let listed = try w.emu("sink").stdout
        #expect(!FileManager.default.fileExists(atPath: w.root + "/far") && !listed.contains("nas"))
        let attach = try w.emu("sink", "add", "nas", server.address(w.sink), "--ssh-command", server.sshCommand, "--remote-emu", EmuBinary.path, "-n")
        #expect(attach.stdout.contains("would attach the existing sink at \(w.sink)"), "\(attach.stdout)")
        let added = try addRemote(w, server, path: far)
        try w.expectSuccess(added)
        #expect(added.stderr.contains("Created directory \(w.root)/far/away on \(NSUserName())@127.0.0.1"), "\(added.stderr)")
    }

    @Test("a sink added as ssh://user@host:port/path lists, shows and reports what the server holds")
    func readsOverSSH() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        let added = try addRemote(w, server)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stderr.contains("Registered the sink 'nas' at ssh://"))
        #expect(added.stderr.contains("which holds 2 snapshots"))
        let local = try w.emu("log", "here", "--oneline"), remote = try w.emu("log", "nas", "--oneline")
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(remote.stdout == local.stdout)
        // Found: the log asked a remote sink for its HEAD as if it were a directory here, and marked none.
        let json = try w.emu("log", "nas", "--json")
        #expect(json.stdout.contains(#""head":true"#) && json.stdout.contains(#""sink":"nas""#), "\(json.stdout)")
        let show = try w.emu("show", "nas:HEAD")
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout == (try w.emu("show", "here:HEAD")).stdout)
        #expect(try w.emu("show", "nas:HEAD:b").stdout == "two\n", "a file's bytes come from the server")
        let status = try w.emu("status")
        #expect(status.stdout.contains("nas\tonline\tnewest"), "\(status.stdout)\(status.stderr)")
        #expect(status.stdout.contains("source unchanged since"))
        let settings = try w.emu("config", "--list")
        #expect(settings.stdout.contains("sink.nas.remote-emu=\(EmuBinary.path)\t(source)"))
        #expect(try w.emu("sink", "rm", "nas").status == 0)
        #expect(!(try w.emu("config", "--list")).stdout.contains("sink.nas"), "forgetting a sink forgets how it was reached")
    }

    @Test("export over ssh writes on the server the archive the same sink gives here, byte for byte; a path it lacks is the same usage error")
    func exportOverSSH() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(try addRemote(w, server).status == 0)
        try w.expectSuccess(w.emu("export", "here:HEAD", "--to", w.root + "/here.tar"))
        let remote = try w.emu("export", "nas:HEAD", "--to", w.root + "/nas.tar", "-v")
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(remote.stderr.contains("exported 2 entries, ") && remote.stderr.contains(" of data, from nas:"), "\(remote.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: w.root + "/nas.tar")) == Data(contentsOf: URL(fileURLWithPath: w.root + "/here.tar")))
        let piped = try w.bash("\"$EMU\" export nas:HEAD~1 | tar -xOf - a")
        #expect(piped.status == 0 && piped.stdout == "one\n", "\(piped.stdout)\(piped.stderr)")
        let missing = try w.emu("export", "nas:HEAD", "nope", "--to", w.root + "/y.tar")
        #expect(missing.status == 2 && missing.stderr.contains("'nope' is not in snapshot"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: w.root + "/y.tar"))
    }

    @Test("verify runs on the server and reports what it finds there; diff and squash read and change the server's sink")
    func verifyDiffSquashOverSSH() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(try addRemote(w, server).status == 0)
        let clean = try w.emu("verify", "nas")
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.stderr.contains("verified 2 snapshots, read"), "\(clean.stderr)")
        // Damage made on the server's disk is found by the server's verify.
        #expect(sh("chmod 600 '\(w.sink)'/.emu/trees/*/a") == 0)
        let damaged = try w.emu("verify", "nas:HEAD", "--json")
        #expect(damaged.status == 4, "\(damaged.stderr)")
        #expect(damaged.stdout.contains(#""detail":"recorded 644, found 600","kind":"mode","path":"a""#), "\(damaged.stdout)")
        #expect(sh("echo three > '\(w.source)/b' && rm '\(w.source)/a'") == 0)
        let local = try w.emu("diff", "here:HEAD"), remote = try w.emu("diff", "nas:HEAD")
        #expect(remote.stdout == local.stdout && remote.stdout == "D\ta\nM\tb\n", "\(remote.stdout)\(remote.stderr)")
        let squashed = try w.emu("squash", "nas:HEAD")
        #expect(squashed.status == 0, "\(squashed.stderr)")
        #expect(try w.emu("log", "here", "--oneline").stdout.split(separator: "\n").count == 1)
    }

    @Test("prune over ssh deletes on the server; an append-only key may not, a read-only key may not lock to write")
    func pruneAndForcedCommands() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(try addRemote(w, server).status == 0)
        let root = (w.sink as NSString).deletingLastPathComponent
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(root) --append-only")
        let refused = try w.emu("prune", "nas:TAIL")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("this key is append-only"), "\(refused.stderr)")
        #expect(try w.emu("log", "here", "--oneline").stdout.split(separator: "\n").count == 2)
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(root) --read-only")
        let readOnly = try w.emu("prune", "nas:TAIL")
        #expect(readOnly.status == 1 && readOnly.stderr.contains("this key is read-only"), "\(readOnly.stderr)")
        #expect(try w.emu("log", "nas", "--oneline").stdout.split(separator: "\n").count == 2, "reading is allowed")
        try server.authorize(forcedCommand: nil)
        let pruned = try w.emu("prune", "nas:TAIL")
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(try w.emu("log", "here", "--oneline").stdout.split(separator: "\n").count == 1)
    }

    @Test("a read-only key's sink is learned on contact: plain push skips it and says so, naming it is refused, neither is a failed push")
    func readOnlySinkIsSkipped() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(try addRemote(w, server, path: w.root + "/remote").status == 0)
        try w.expectSuccess(w.emu("push", "nas"))
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root) --read-only")
        sh("echo three > '\(w.source)/c'")
        let learned = try w.emu("push")
        #expect(learned.status == 0 && learned.stderr.contains("'nas' is read-only"), "\(learned.stderr)")
        #expect(try w.emu("config", "--list").stdout.contains("sink.nas.read-only=true"))
        let skipped = try w.emu("push")
        #expect(skipped.status == 0 && skipped.stderr.contains("skipped 'nas': read-only"), "\(skipped.stderr)")
        let named = try w.emu("push", "nas")
        #expect(named.status == 2, "\(named.stderr)")
        let check = try w.emu("status", "--check")
        #expect(check.status == 0, "a read-only sink is no failed push: \(check.stdout)\(check.stderr)")
        try server.authorize(forcedCommand: nil)
        try w.expectSuccess(w.emu("push", "nas"))
        #expect(try w.emu("config", "--list").stdout.contains("sink.nas.read-only=true") == false, "the server's new key is learned too")
    }

    @Test("a host that never answers (a ProxyCommand that hangs) costs connect-timeout, not a hang: status shows the other sinks and why")
    func silentHost() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        let silent = w.root + "/silent-proxy"
        // Reads and never answers; it ends when ssh does (its input closes).
        try "#!/bin/sh\nwhile read -r line; do :; done\n".write(toFile: silent, atomically: true, encoding: .utf8)
        #expect(chmod(silent, 0o755) == 0)
        try "ssh://nobody@192.0.2.1/srv/emu\n".write(toFile: w.source + "/.emu/sinks/far", atomically: true, encoding: .utf8)
        let config = try String(contentsOfFile: w.source + "/.emu/config", encoding: .utf8)
        try (config + "\n[sink.far]\nssh-command = ssh -o BatchMode=yes -o ProxyCommand=\(silent)\nconnect-timeout = 2\n")
            .write(toFile: w.source + "/.emu/config", atomically: true, encoding: .utf8)
        // A bound against a hang only (exit 124): the sink's timeout is 2 seconds.
        let status = try w.bash("timeout 300 \"$EMU\" status")
        #expect(status.status != 124, "status hung on the silent host")
        #expect(status.stdout.contains("here\tonline"), "\(status.stdout)")
        #expect(status.stdout.contains("far\toffline") && status.stderr.contains("did not answer within 2 seconds"), "\(status.stdout)\(status.stderr)")
        #expect(sh("pgrep -f '[P]roxyCommand=\(silent)'", mayFail: true) != 0, "the hanging ssh was ended")
    }

    @Test("config --sink reads and sets a remote sink's settings on the server; an append-only key may not, nor may any key change emu's own keys")
    func remoteSinkSettings() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(try addRemote(w, server).status == 0)
        let listed = try w.emu("config", "--sink", "nas", "--list")
        #expect(listed.status == 0 && listed.stdout.contains("retention.keep-daily"), "\(listed.stdout)\(listed.stderr)")
        try w.expectSuccess(w.emu("config", "--sink", "nas", "retention.keep-last", "5"))
        let config = try String(contentsOfFile: w.sink + "/.emu/config", encoding: .utf8)
        #expect(config.contains("keep-last = 5") && config.contains("checksum = sha256"), "\(config)")
        #expect(try w.emu("config", "--sink", "nas", "retention.keep-last").stdout == "5\n")
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root) --append-only")
        let refused = try w.emu("config", "--sink", "nas", "retention.keep-last", "1")
        #expect(refused.status == 1 && refused.stderr.contains("append-only"), "\(refused.stderr)")
        let session = try ServeSession(["--sink", w.sink], in: w.root)
        #expect(session.hello(sink: w.sink)?.kind == .hello)
        #expect(session.request("lock exclusive 0")?.kind == .reply)
        let forged = Array("[Snapshots]\nchecksum = md5\n".utf8).map { String(format: "%02x", $0) }.joined()
        #expect(session.request("write-config \(forged)")?.kind == .error)
        #expect(session.close() == 0)
        #expect(try String(contentsOfFile: w.sink + "/.emu/config", encoding: .utf8) == config)
    }

    @Test("a server without emu and a path outside the served root: each a clear error")
    func clearErrors() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        let missing = try w.emu("sink", "add", "nas", server.address(w.sink), "--ssh-command", server.sshCommand, "--remote-emu", "/nonexistent/emu")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("emu is not installed on 127.0.0.1"), "\(missing.stderr)")
        // The sink is not registered, so the fix is sink add's own option, not `emu config`, which would refuse it.
        #expect(missing.stderr.contains("--remote-emu PATH") && !missing.stderr.contains("emu config"), "\(missing.stderr)")
        #expect(!(try w.emu("sink").stdout.contains("nas")), "an unreachable sink is not registered")
        // A registered sink's ssh errors name its own key (sink.NAME.ssh-command) and the port ssh must use.
        try w.expectSuccess(w.emu("sink", "add", "nas", server.address(w.sink), "--ssh-command", server.sshCommand, "--remote-emu", EmuBinary.path))
        try w.expectSuccess(w.emu("config", "sink.nas.ssh-command", "/nonexistent/ssh"))
        let noSSH = try w.emu("log", "nas")
        #expect(noSSH.status == 1 && noSSH.stderr.contains("`emu config sink.nas.ssh-command CMD`"), "\(noSSH.stderr)")
        try w.expectSuccess(w.emu("config", "sink.nas.ssh-command", server.sshCommand + " -o ConnectTimeout=2 -o HostKeyAlias=x -o ProxyCommand=false"))
        let unreachable = try w.emu("log", "nas")
        #expect(unreachable.status == 1 && unreachable.stderr.contains("`ssh -p \(server.port) ") && unreachable.stderr.contains("sink.nas.ssh-command"),
                "\(unreachable.stderr)")
        try w.expectSuccess(w.emu("sink", "rm", "nas"))
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root)/served")
        #expect(sh("mkdir -p '\(w.root)/served' && ln -s '\(w.sink)' '\(w.root)/served/escape'") == 0)
        let escaped = try addRemote(w, server, path: w.root + "/served/escape")
        #expect(escaped.status != 0)
        #expect(escaped.stderr.contains("is not a sink below this server's root"), "\(escaped.stderr)")
    }

    @Test("emu serve checks the protocol version first and answers garbage with an error, not a hang")
    func serveRefusesOtherVersions() throws {
        let w = try Workspace("emu-serve")
        #expect(sh("mkdir -p '\(w.sink)'") == 0)
        _ = try w.emu("init", "-q")
        #expect(try w.emu("sink", "add", "s", w.sink, "-q").status == 0)
        // A hello of protocol 99, framed: length, kind 1 (hello), payload.
        let script = """
            python3 -c 'import sys; h = b"emu-serve 99\\nsink \(w.sink)\\n"; sys.stdout.buffer.write((len(h) + 1).to_bytes(4, "big") + b"\\x01" + h)' \
              | "$EMU" serve --sink '\(w.sink)' | tail -c +6
            """
        let answer = try w.bash(script)
        #expect(answer.stdout.hasPrefix("failed\nthis server's emu"), "\(answer.stdout)\(answer.stderr)")
        #expect(answer.stdout.contains("speaks protocol 4, the client's speaks 99"))
        let garbage = try w.bash("printf 'GET / HTTP/1.1\\r\\n\\r\\n' | \"$EMU\" serve --sink '\(w.sink)'")
        #expect(garbage.status == 1)
        #expect(garbage.stderr.contains("the client sent a frame of"), "\(garbage.stderr)")
    }
}
