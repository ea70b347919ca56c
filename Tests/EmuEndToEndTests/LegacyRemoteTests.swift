import EmuPOSIX
import Foundation
import Glibc
import Testing

/// A sink emu 0.2.5 made, reached over ssh: the push and the checkout treat
/// it as they do the same sink read as a local directory.
@Suite("an emu 0.2.5 sink over ssh", Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
struct LegacyRemoteTests {
    func setUp() throws -> (Workspace, SSHServer) {
        let w = try Workspace("emu-legacy-remote")
        let server = try SSHServer(in: w.root)
        #expect(sh("""
            cd '\(w.source)' && mkdir -p docs && echo one > a && echo two > docs/b && head -c 100000 /dev/urandom > docs/big \
              && setfattr -n user.tag -v kept docs/b && chmod 640 docs/b
            """) == 0)
        LegacySink.snapshot(of: w.source, in: w.sink, id: LegacySink.firstID, name: "2026-01-05 10.00.00", parent: "")
        LegacySink.configure(w.sink)
        try w.expectSuccess(w.emu("init", "-q"))
        try w.expectSuccess(w.emu("sink", "add", "nas", server.address(w.sink), "--ssh-command", server.sshCommand,
                                  "--remote-emu", EmuBinary.path))
        return (w, server)
    }

    @Test("a push over ssh that changed nothing links every file to the 0.2.5 snapshot's, as a local push does")
    func noChangePushLinks() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        let pushed = try w.emu("push", "nas", "--json")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout.contains(#""files_copied":0"#), "\(pushed.stdout)")
        let trees = try w.trees(of: "nas", at: w.sink)
        try #require(trees.count == 2)
        for file in ["a", "docs/b", "docs/big"] {
            #expect(inode(trees[0] + "/" + file) == inode(trees[1] + "/" + file), "\(file) is linked, not copied")
        }
    }

    @Test("a diff of the source with a 0.2.5 snapshot over ssh shows only what changed, as with the sink read here")
    func diffOverSSH() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(sh("echo edited > '\(w.source)/a'") == 0)
        let diff = try w.emu("diff", "nas:HEAD", "--name-status")
        #expect(diff.stdout == "M\ta\n", "\(diff.stdout)\(diff.stderr)")
    }

    @Test("a checkout over ssh of a 0.2.5 snapshot restores its xattrs")
    func checkoutRestoresAttributes() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        let out = w.root + "/restored"
        let restored = try w.emu("checkout", "nas:HEAD", "--to", out)
        #expect(restored.status == 0, "\(restored.stderr)")
        expectSameTrees(try describeTree(w.source, ignoring: [RelativePath(".emu")]), try describeTree(out))
        #expect(try w.bash("getfattr --only-values -n user.tag '\(out)/docs/b'").stdout == "kept")
    }
}
