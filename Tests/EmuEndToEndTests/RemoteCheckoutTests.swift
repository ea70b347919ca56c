import EmuPOSIX
import Foundation
import Glibc
import Testing

/// Restores from a sink on a real sshd on 127.0.0.1: the client walks, the
/// server sends each file's bytes and xattrs, and the result is what a
/// checkout from the same sink read as a local directory makes.
@Suite("checkout and clean over ssh", Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
struct RemoteCheckoutTests {
    /// Every kind of entry and metadata, pushed over ssh to `nas`; `here` is
    /// the same sink registered as a local directory.
    func setUp() throws -> (Workspace, SSHServer, [RelativePath: EntryDescription]) {
        let w = try Workspace("emu-rcheckout")
        let server = try SSHServer(in: w.root)
        #expect(try w.emu("init", "-q").status == 0)
        try PushCheckoutTests.richSource(w)
        let added = try w.emu("sink", "add", "nas", server.address(w.sink), "--ssh-command", server.sshCommand, "--remote-emu", EmuBinary.path)
        #expect(added.status == 0, "\(added.stderr)")
        let pushed = try w.emu("push", "nas", "-q")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(try w.emu("sink", "add", "here", w.sink, "-q").status == 0)
        return (w, server, try describeTree(w.source, ignoring: [RelativePath(".emu")]))
    }

    @Test("checkout --to from a sink over ssh restores every entry and its metadata, sparse files and hardlinks too")
    func checkoutInto() throws {
        let (w, server, original) = try setUp()
        defer { withExtendedLifetime(server) {} }
        let out = w.root + "/restored"
        let restored = try w.emu("checkout", "nas:HEAD", "--to", out)
        #expect(restored.status == 0, "\(restored.stderr)")
        let tree = try describeTree(out)
        expectSameTrees(original, tree)
        #expect(tree[RelativePath("sparse")]?.isSparse == true, "holes stay holes across the wire")
        #expect(tree[RelativePath("hard-b")]?.linkGroup == RelativePath("deep/er/hard-c"))
        #expect(try w.emu("checkout", "here:HEAD", "--to", w.root + "/local", "-q").status == 0)
        expectSameTrees(try describeTree(w.root + "/local"), tree)
        let again = try w.emu("checkout", "nas:HEAD", "--to", out, "--force")
        #expect(again.status == 0 && again.stdout.contains("0 files written"), "\(again.stdout)\(again.stderr)")
    }

    @Test("a snapshot whose root has xattrs restores them over ssh (the root's question is sent before its answer is awaited)")
    func rootAttributes() throws {
        let (w, server, _) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(sh("setfattr -n user.root -v here '\(w.source)'") == 0)
        try w.expectSuccess(w.emu("push", "nas", "-q"))
        let out = w.root + "/restored"
        // A question left unsent would hold the checkout until a keep-alive (a minute here) flushed it.
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root) --idle-timeout 240")
        let restored = try w.bash("timeout 30 \"$EMU\" checkout nas:HEAD --to '\(out)'")
        #expect(restored.status == 0, "\(restored.status) \(restored.stderr)")
        #expect(try w.bash("getfattr --only-values -n user.root '\(out)'").stdout == "here")
    }

    @Test("checkout into the source over ssh refuses to lose edits, then with --force restores, mends and removes")
    func checkoutIntoSource() throws {
        let (w, server, original) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(sh("""
            cd '\(w.source)' && echo edited > exec.sh && chmod 600 plain.txt && setfattr -n user.color -v red plain.txt \
              && setfacl -d -m u:nobody:r setgid-dir && rm hard-b && mkdir -p new && echo fresh > new/f && rm -r deep
            """) == 0)
        let refused = try w.emu("checkout", "nas:HEAD")
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("exec.sh") && refused.stderr.contains("new/f"), "\(refused.stderr)")
        let dry = try w.emu("checkout", "nas:HEAD", "-n", "-f")
        #expect(dry.stdout.contains("would mend metadata of plain.txt"), "\(dry.stdout)\(dry.stderr)")
        let forced = try w.emu("checkout", "nas:HEAD", "-f")
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.contains("1 mended, 1 removed"), "\(forced.stdout)")
        expectSameTrees(original, try describeTree(w.source, ignoring: [RelativePath(".emu")]))
        #expect(inode(w.source + "/hard-b") == inode(w.source + "/hard-a"), "a hardlink comes back as one")
    }

    @Test("a hardlinked file changed in place under all its names comes back over ssh as one inode under all of them")
    func hardlinkChangedInPlace() throws {
        let (w, server, original) = try setUp()
        defer { withExtendedLifetime(server) {} }
        // One write changes the inode that hard-a, hard-b and deep/er/hard-c share; a push records it.
        #expect(sh("cd '\(w.source)' && echo rewritten >> hard-b") == 0)
        #expect(try w.emu("push", "nas", "-q").status == 0)
        // The filler writes hard-a behind the walk: the later names must not be judged by the inode it still has.
        let restored = try w.emu("checkout", "nas:HEAD~1")
        #expect(restored.status == 0, "\(restored.stderr)")
        expectSameTrees(original, try describeTree(w.source, ignoring: [RelativePath(".emu")]))
        #expect(inode(w.source + "/hard-b") == inode(w.source + "/hard-a") && inode(w.source + "/deep/er/hard-c") == inode(w.source + "/hard-a"))
    }

    @Test("checkout of some paths over ssh restores those only; a read-only key may restore")
    func checkoutPaths() throws {
        let (w, server, original) = try setUp()
        defer { withExtendedLifetime(server) {} }
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root) --read-only")
        #expect(sh("cd '\(w.source)' && rm -r deep readonly-dir/inner 2>/dev/null; chmod u+w readonly-dir; rm -f readonly-dir/inner; echo mine > plain.txt") == 0)
        let restored = try w.emu("checkout", "nas:HEAD", "--", "deep", "readonly-dir")
        #expect(restored.status == 0, "\(restored.stderr)")
        let tree = try describeTree(w.source, ignoring: [RelativePath(".emu")])
        // deep/er/hard-c comes back as a file of its own: its other names were not asked for.
        func unlinked(_ entry: EntryDescription?, _ path: String) -> EntryDescription? {
            entry.map { var copy = $0; copy.linkGroup = RelativePath(path); return copy }
        }
        for path in ["deep", "deep/er", "deep/er/hard-c", "readonly-dir", "readonly-dir/inner"] {
            #expect(unlinked(tree[RelativePath(path)], path) == unlinked(original[RelativePath(path)], path), "\(path)")
        }
        #expect(try String(contentsOfFile: w.source + "/plain.txt", encoding: .utf8) == "mine\n", "outside the paths nothing changes")
    }

    @Test("a checkout --to whose connection is cut leaves no half tree; the next one restores it all")
    func cutCheckout() throws {
        let (w, server, original) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(sh("head -c 30000000 /dev/urandom > '\(w.source)/large'") == 0)
        #expect(try w.emu("push", "nas", "-q").status == 0)
        let out = w.root + "/restored"
        // Cut in the records, early in the data, and late in it (the tree is about 33 MB).
        for cut in [20_000, 2_000_000, 25_000_000] {
            let count = w.root + "/wire-\(cut)"
            #expect(try w.emu("config", "sink.nas.ssh-command", try server.sshCommand(delay: 0, count: count, cutAfter: cut)).status == 0)
            let cutCheckout = try w.emu("checkout", "nas:HEAD", "--to", out, "-q")
            #expect(SSHServer.wasCut(count), "the link was cut after \(cut) bytes")
            #expect(cutCheckout.status == 1 && !cutCheckout.killed, "a checkout whose link is cut fails: \(cutCheckout.status) \(cutCheckout.stderr)")
            let left = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            #expect(left.isEmpty, "no half tree: \(left)")
        }
        #expect(try w.emu("config", "sink.nas.ssh-command", server.sshCommand).status == 0)
        let finished = try w.emu("checkout", "nas:HEAD", "--to", out, "-f")
        #expect(finished.status == 0, "\(finished.stderr)")
        var expected = original
        expected[RelativePath("large")] = try describeTree(w.source)[RelativePath("large")]
        expectSameTrees(expected, try describeTree(out))
    }

    @Test("clean over ssh runs on the server: it lists and removes what a killed command left; an append-only key may not")
    func cleanOverSSH() throws {
        let (w, server, _) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(sh("mkdir -p '\(w.sink)/.emu/staging/tree' && echo half > '\(w.sink)/.emu/staging/tree/f'") == 0)
        let local = try w.emu("clean", "here", "-n")
        let dry = try w.emu("clean", "nas", "-n")
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would remove leftover") && dry.stdout == local.stdout.replacingOccurrences(of: "here:", with: "nas:"),
                "\(dry.stdout)\(dry.stderr)")
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root) --append-only")
        let refused = try w.emu("clean", "nas")
        #expect(refused.status == 1 && refused.stderr.contains("this key is append-only"), "\(refused.stderr)")
        try server.authorize(forcedCommand: nil)
        let cleaned = try w.emu("clean", "nas", "--json")
        #expect(cleaned.status == 0, "\(cleaned.stderr)")
        #expect(cleaned.stdout.contains("remove leftover"), "\(cleaned.stdout)")
        #expect(!FileManager.default.fileExists(atPath: w.sink + "/.emu/staging"))
        #expect(try w.emu("verify", "nas").status == 0)
    }

    @Test("a file missing from the server's tree: checkout --to fails naming it, leaves no half tree, and the session stays usable")
    func missingOnServer() throws {
        let (w, server, _) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(sh("rm '\(w.sink)'/.emu/trees/*/plain.txt") == 0)
        let out = w.root + "/restored"
        let failed = try w.emu("checkout", "nas:HEAD", "--to", out)
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("plain.txt") && failed.stderr.contains("the server 127.0.0.1"), "\(failed.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).isEmpty, "no half tree")
        #expect(try w.emu("log", "nas", "--oneline").status == 0, "the sink is not left locked")
    }
}
