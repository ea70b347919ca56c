import EmuPOSIX
import Foundation
import Glibc
import Testing

/// What a key's mode promises, on a real sshd: `--read-only` writes nothing
/// at all, `--append-only` adds snapshots and nothing else, and two clients
/// pushing at once into one root's shared index both land whole.
@Suite("serve modes and a shared index under load", Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
struct ServeModesTests {
    /// Two snapshots in a local sink, and what a server that finished the
    /// work of others would tidy: a prune cut short after its record (its
    /// tree waits to be deleted), a push cut short after its copy (staging),
    /// and a record whose cached unique size is gone.
    func setUp() throws -> (Workspace, SSHServer) {
        let w = try Workspace("emu-modes").initialize()
        let server = try SSHServer(in: w.root)
        try Fixture.create(["a": .file("one"), "d": .directory(["b": .file("bee")])], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("echo two > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        sh("echo three > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        sh("echo four > '\(w.source)/c'")
        #expect(try w.emu("push", environment: ["EMU_CRASH_AT": "push.after-copy"]).killed)
        #expect(try w.emu("prune", "TAIL", environment: ["EMU_CRASH_AT": "prune.after-record"]).killed)
        sh("sed -i '/unique-size/d' '\(w.sink)'/.emu/nodes/*")
        try w.expectSuccess(w.emu("sink", "rm", "origin"))
        return (w, server)
    }

    func serve(_ server: SSHServer, _ w: Workspace, _ mode: String) throws {
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root) \(mode)")
        let added = try w.emu("sink", "add", "nas", server.address(w.sink), "--ssh-command", server.sshCommand, "--remote-emu", EmuBinary.path)
        #expect(added.status == 0, "\(added.stderr)")
    }

    @Test("a read-only key writes nothing at all: reading commands work, writing ones are refused, and the sink is unchanged to the inode")
    func readOnlyWritesNothing() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        try serve(server, w, "--read-only")
        let before = DirectoryState(of: w.sink)
        #expect(before.mentions("./.emu/trash/") && before.mentions("./.emu/resume"), "the leftovers are there")
        for arguments in [["log", "nas"], ["log", "nas", "--json", "--", "a"], ["show", "nas:HEAD"], ["show", "nas:HEAD:a"], ["diff", "nas:TAIL", "nas:HEAD"],
                          ["diff", "nas:HEAD"], ["verify", "nas"], ["status"], ["checkout", "nas:HEAD", "--to", w.root + "/out"],
                          ["checkout", "nas:TAIL", "-f", "--", "a"]] {
            let run = try w.emu(arguments: arguments)
            #expect(run.status == 0, "emu \(arguments.joined(separator: " ")): \(run.stderr)")
        }
        let push = try w.emu("push", "nas")
        #expect(push.status == 2 && push.stderr.contains("'nas' is read-only"), "emu push nas: \(push.status) \(push.stderr)")
        for arguments in [["prune", "nas:TAIL"], ["prune", "nas", "--keep-last", "1"], ["squash", "nas:HEAD"], ["clean", "nas"],
                          ["clean", "nas", "--repair"]] {
            let run = try w.emu(arguments: arguments)
            #expect(run.status == 1 && run.stderr.contains("this key is read-only"), "emu \(arguments.joined(separator: " ")): \(run.status) \(run.stderr)")
            // The refusal names the action, not the protocol's words (`lock exclusive 0.0`), nor a made-up sink name.
            #expect(!run.stderr.contains("lock exclusive") && !run.stderr.contains("'served'"), "\(run.stderr)")
        }
        let changed = DirectoryState(of: w.sink).changes(since: before)
        #expect(changed.isEmpty, "the read-only key changed the sink: \(changed.joined(separator: "\n"))")
    }

    @Test("an append-only key adds snapshots only: no squash, prune or clean; its push expires nothing and finishes no deletion")
    func appendOnlyDeletesNothing() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        sh("printf '[Retention]\\nkeep-last = 1\\n' >> '\(w.sink)/.emu/config'")
        try serve(server, w, "--append-only")
        let listed = try w.loggedSnapshots("nas").compactMap { $0["id"] as? String }
        let trash = try FileManager.default.contentsOfDirectory(atPath: w.sink + "/.emu/trash")
        #expect(listed.count == 2 && !trash.isEmpty, "two snapshots and a deletion cut short: \(listed) \(trash)")
        for arguments in [["prune", "nas:TAIL"], ["prune", "nas", "--keep-last", "1"], ["squash", "nas:HEAD"], ["clean", "nas"],
                          ["clean", "nas", "--repair"]] {
            let run = try w.emu(arguments: arguments)
            #expect(run.status == 1 && run.stderr.contains("this key is append-only"), "emu \(arguments.joined(separator: " ")): \(run.status) \(run.stderr)")
            #expect(!run.stderr.contains("`"), "no protocol words in backquotes: \(run.stderr)")
        }
        let pruned = try w.emu("prune", "nas:TAIL")
        #expect(pruned.stderr.contains("this key is append-only: deleting snapshot \(listed.last!.prefix(12)) is refused"), "\(pruned.stderr)")
        let pushed = try w.emu("push", "nas")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let after = try w.loggedSnapshots("nas").compactMap { $0["id"] as? String }
        #expect(after.count == 3 && Set(listed).isSubset(of: after), "keep-last 1 expired nothing over an append-only key: \(after)")
        let left = try FileManager.default.contentsOfDirectory(atPath: w.sink + "/.emu/trash")
        #expect(Set(trash).isSubset(of: left), "the deletion cut short is left for a full key: \(trash) then \(left)")
        #expect(try w.emu("diff", "nas:HEAD").stdout.isEmpty)
    }

    @Test("two clients pushing at once into one root's shared index both land whole, the content they share stored once")
    func concurrentSharedIndex() throws {
        let first = try Workspace("emu-share1"), second = try Workspace("emu-share2")
        let server = try SSHServer(in: first.root)
        defer { withExtendedLifetime(server) {} }
        let root = first.root + "/served"
        #expect(sh("mkdir -p '\(root)'") == 0)
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(root)")
        // Many files both hold (same bytes, same metadata), and some only one holds.
        #expect(sh("cd '\(first.source)' && mkdir shared && for i in $(seq 200); do head -c 20000 /dev/urandom > shared/f$i; done "
                   + "&& cp -a shared '\(second.source)/' && echo mine > own && echo theirs > '\(second.source)/own'") == 0)
        for (w, name) in [(first, "laptop1"), (second, "laptop2")] {
            #expect(try w.emu("init", "-q").status == 0)
            let added = try w.emu("sink", "add", "nas", server.address(root + "/" + name), "--ssh-command", server.sshCommand, "--remote-emu", EmuBinary.path)
            #expect(added.status == 0, "\(added.stderr)")
        }
        let pushes = [first, second].map { w in
            let script = "\"$EMU\" push nas -q --lock-wait 600 > '\(w.root)/push.out' 2>&1; echo $? > '\(w.root)/s.tmp'; mv '\(w.root)/s.tmp' '\(w.root)/push.status'"
            return try? w.bash("(\(script)) &")
        }
        #expect(pushes.allSatisfy { $0?.status == 0 })
        for w in [first, second] {
            // A bound against a hang (ten minutes), not a speed.
            for _ in 0..<12_000 where access(w.root + "/push.status", F_OK) != 0 { usleep(50_000) }
            let status = (try? String(contentsOfFile: w.root + "/push.status", encoding: .utf8)) ?? ""
            #expect(status == "0\n", "\((try? String(contentsOfFile: w.root + "/push.out", encoding: .utf8)) ?? "")")
            #expect(try w.emu("verify", "nas").status == 0)
            #expect(try w.emu("diff", "nas:HEAD").stdout.isEmpty, "the snapshot is its own source's")
        }
        let trees = ["laptop1", "laptop2"].map { name in
            let ids = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(name)/.emu/trees")) ?? []
            return "\(root)/\(name)/.emu/trees/\(ids.first ?? "none")"
        }
        for i in 1...200 {
            #expect(inode(trees[0] + "/shared/f\(i)") == inode(trees[1] + "/shared/f\(i)"), "shared/f\(i) is stored once")
        }
        #expect(try String(contentsOfFile: trees[1] + "/own", encoding: .utf8) == "theirs\n")
    }
}
