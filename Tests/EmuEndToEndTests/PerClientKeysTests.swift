import Foundation
import Testing

/// One server, a key a machine, as emu-serve(1) sets it up: each key
/// reaches its own machine's sinks only, adds snapshots and deletes none,
/// dates are the server's, and a second source cannot take a sink over.
@Suite("per-client keys on a real sshd", Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
struct PerClientKeysTests {
    @Test("--client keys: each machine reaches its own area only; future dates and another source's sink are refused")
    func perClientKeys() throws {
        let laptop = try Workspace("emu-keys"), desktop = try Workspace("emu-keys")
        let server = try SSHServer(in: laptop.root)
        defer { withExtendedLifetime(server) {} }
        let root = laptop.root + "/served"
        #expect(sh("mkdir -m 700 '\(root)'") == 0)
        var commands: [String: String] = [:]
        for (name, w) in [("laptop", laptop), ("desktop", desktop)] {
            commands[name] = try server.clientKey(name, forcedCommand: "\(EmuBinary.path) serve --root \(root) --client \(name) --append-only")
            try Fixture.create(["own": .file("\(name)'s file")], at: w.source)
            try w.expectSuccess(w.emu("init", "-q"))
            try w.expectSuccess(w.emu("sink", "add", "nas", server.address(root + "/" + name), "--ssh-command", commands[name]!,
                                      "--remote-emu", EmuBinary.path))
            try w.expectSuccess(w.emu("push"))
        }
        // The laptop's key does not reach the desktop's sink, to read or to write.
        let across = try laptop.emu("sink", "add", "theirs", server.address(root + "/desktop"), "--ssh-command", commands["laptop"]!,
                                    "--remote-emu", EmuBinary.path)
        #expect(across.status != 0 && across.stderr.contains("area for laptop"), "\(across.stderr)")
        // A date after the server's clock, forced or not, is refused over an append-only key.
        for extra in [[], ["-f"]] {
            let future = try laptop.emu(arguments: ["push", "--date", "2062-12-06"] + extra)
            #expect(future.status != 0 && future.stderr.contains("clock"), "\(extra): \(future.stderr)")
        }
        // A second source with the laptop's key cannot add the laptop's sink.
        let intruder = try Workspace("emu-keys")
        try Fixture.create(["x": .file("another machine")], at: intruder.source)
        try intruder.expectSuccess(intruder.emu("init", "-q"))
        let refused = try intruder.emu("sink", "add", "nas", server.address(root + "/laptop"), "--ssh-command", commands["laptop"]!,
                                       "--remote-emu", EmuBinary.path)
        #expect(refused.status == 2 && refused.stderr.contains("another source"), "\(refused.stderr)")
        // An append-only key deletes nothing.
        let prune = try laptop.emu("prune", "nas:HEAD")
        #expect(prune.status == 1 && prune.stderr.contains("append-only"), "\(prune.stderr)")
        for (name, w) in [("laptop", laptop), ("desktop", desktop)] {
            #expect(try w.emu("log", "nas", "--oneline").stdout.split(separator: "\n").count == 1, "\(name)")
            #expect(try w.emu("show", "nas:HEAD:own").stdout.hasPrefix("\(name)'s file"))
        }
        #expect(try String(contentsOfFile: root + "/laptop/.emu/shared-index", encoding: .utf8).hasSuffix("/served/.emu-shared/index\n"))
    }
}
