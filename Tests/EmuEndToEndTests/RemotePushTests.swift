import EmuPOSIX
import Foundation
import Glibc
import Testing

/// Pushes over ssh to a real sshd on 127.0.0.1: the server builds the
/// snapshot as a local push would, and a cut channel loses nothing.
@Suite("push over ssh", Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
struct RemotePushTests {
    func setUp() throws -> (Workspace, SSHServer) {
        let w = try Workspace("emu-rpush")
        let server = try SSHServer(in: w.root)
        let script = """
            cd '\(w.source)' && mkdir -p docs/deep && echo one > a && echo two > docs/b && echo three > docs/deep/c \
              && ln a docs/a-again && ln -s ../a docs/link && mkfifo pipe && setfattr -n user.tag -v kept docs/b \
              && chmod 640 docs/b && head -c 3000000 /dev/urandom > big && "$EMU" init -q
            """
        #expect(try w.bash(script).status == 0)
        let added = try w.emu("sink", "add", "nas", server.address(w.sink), "--ssh-command", server.sshCommand, "--remote-emu", EmuBinary.path)
        #expect(added.status == 0, "\(added.stderr)")
        return (w, server)
    }

    @Test("a push over ssh makes on the server the snapshot a local push makes; the next one sends nothing unchanged")
    func pushOverSSH() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        let first = try w.emu("push", "nas", "--json")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains(#""files_copied":4"#), "\(first.stdout)\(first.stderr)")
        #expect(try w.emu("verify", "nas").status == 0)
        // The server's sink, read here as a local sink: its tree is the source.
        #expect(try w.emu("sink", "add", "here", w.sink, "-q").status == 0)
        let restored = w.root + "/restored"
        #expect(try w.emu("checkout", "here:HEAD", "--to", restored, "-q").status == 0)
        expectSameTrees(try describeTree(w.source, ignoring: [RelativePath(".emu")]), try describeTree(restored))
        #expect(inode(w.source + "/a") != nil && inode(restored + "/a") == inode(restored + "/docs/a-again"), "hardlinks stay hardlinks")
        #expect(sh("echo changed > '\(w.source)/docs/deep/c'") == 0)
        let second = try w.emu("push", "nas", "--json")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains(#""files_copied":1"#) && second.stdout.contains(#""bytes_copied":8"#), "\(second.stdout)")
        let log = try w.emu("log", "nas", "--oneline")
        #expect(log.stdout.split(separator: "\n").count == 2)
        let listed = try w.loggedSnapshots("nas")
        #expect(listed.map { $0["head"] as? Bool } == [true, false], "the newest is the server's HEAD: \(listed)")
    }

    /// Twenty byte offsets from a seeded generator (SplitMix64, seed
    /// 20261127), spread over the 20 MB a push of the tree sends: the link
    /// is cut there, whatever the machine's speed.
    @Test("an ssh command is split as a shell splits it: a quoted ProxyCommand with spaces reaches the server")
    func quotedSSHCommand() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        let relay = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/slow-link.py").standardized.path
        let count = w.root + "/wire"
        let quoted = server.sshCommand + " -o 'ProxyCommand=python3 \(relay) --delay 0 --count \(count) 127.0.0.1 \(server.port)'"
        try w.expectSuccess(w.emu("config", "sink.nas.ssh-command", quoted))
        try w.expectSuccess(w.emu("push", "nas", "-q"))
        #expect(RemoteReplicateTests.sent(count) > 0, "the push went through the quoted ProxyCommand")
        try w.expectSuccess(w.emu("config", "sink.nas.ssh-command", server.sshCommand + " -o 'ProxyCommand=unclosed"))
        let broken = try w.emu("push", "nas")
        #expect(broken.status == 2 && broken.stderr.contains("a quote is not closed"), "\(broken.stderr)")
    }

    static let cuts = seededOffsets(seed: 20_261_127, count: 20, in: 10_000..<19_510_000)

    @Test("a push whose link is cut at seeded bytes leaves the sink as it was; the next push completes", arguments: cuts)
    func cutPush(afterBytes cut: Int) throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(try w.emu("push", "nas", "-q").status == 0)
        #expect(sh("head -c 20000000 /dev/urandom > '\(w.source)/large'") == 0)
        let before = try w.emu("log", "nas", "--oneline").stdout
        let count = w.root + "/wire"
        #expect(try w.emu("config", "sink.nas.ssh-command", try server.sshCommand(delay: 0, count: count, cutAfter: cut)).status == 0)
        let cutPush = try w.emu("push", "nas", "-q")
        #expect(SSHServer.wasCut(count), "the link was cut after \(cut) bytes: \((try? String(contentsOfFile: count, encoding: .utf8)) ?? "")")
        #expect(cutPush.status == 1 && !cutPush.killed, "a push whose link is cut fails: \(cutPush.status) \(cutPush.stderr)")
        let after = try w.emu("log", "nas", "--oneline").stdout
        #expect(after == before, "a cut push publishes nothing")
        #expect(try w.emu("config", "sink.nas.ssh-command", server.sshCommand).status == 0)
        let next = try w.emu("push", "nas", "-q")
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try w.emu("verify", "nas").status == 0)
    }

    @Test("a first push over ssh cut halfway resumes: the next push sends again only what had not arrived whole")
    func firstPushCutResumes() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(sh("mkdir '\(w.source)/many' && for i in $(seq 10 49); do head -c 500000 /dev/urandom > '\(w.source)'/many/$i; done") == 0)
        let count = w.root + "/wire"
        #expect(try w.emu("config", "sink.nas.ssh-command", try server.sshCommand(delay: 0, count: count, cutAfter: 14_000_000)).status == 0)
        let cut = try w.emu("push", "nas", "-q")
        #expect(cut.status == 1 && SSHServer.wasCut(count))
        #expect(cut.stderr.contains("the connection to 127.0.0.1 was cut during the push") && cut.stderr.contains("the next push sends only the rest")
                && cut.stderr.contains("`ssh -p \(server.port) "), "says what happened, and that the next push resumes: \(cut.stderr)")
        #expect(try w.emu("status").stderr.contains("nas: the last push was interrupted ("))
        #expect(try w.emu("config", "sink.nas.ssh-command", server.sshCommand).status == 0)
        let resumed = try w.emu("push", "nas", "--json")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let copied = try #require(try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any])
        let pushed = try #require((copied["pushes"] as? [[String: Any]])?.first)
        let bytes = try #require(pushed["bytes_copied"] as? Int)
        #expect(bytes < 12_000_000, "the resumed push sent \(bytes) bytes of 23 MB; about 14 MB had arrived")
        #expect(!(try w.emu("status").stderr.contains("interrupted")), "a push that completes clears it")
        #expect(try w.emu("verify", "nas").status == 0)
    }

    @Test("a long walk of unchanged files keeps the session alive: the server's idle timeout ends silent clients only")
    func longQuietWalk() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        // One directory of 150,000 files: a single run of unchanged files, nothing to send until the walk ends.
        #expect(sh("mkdir '\(w.source)/flat' && python3 -c 'import os, sys\nfor i in range(150000): open(os.path.join(sys.argv[1], str(i)), \"w\").close()' '\(w.source)/flat'") == 0)
        try w.expectSuccess(w.emu("push", "nas", "-q"))
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root) --idle-timeout 2")
        let again = try w.emu("push", "nas", "--json")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains(#""files_copied":0"#), "\(again.stdout)")
    }

    @Test("a push over ssh killed on the server after its files arrived resumes: the next push sends none of them again")
    func resumeAfterServerKilled() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(try w.emu("push", "nas", "-q").status == 0)
        #expect(sh("head -c 5000000 /dev/urandom > '\(w.source)/fresh' && echo new > '\(w.source)/docs/new'") == 0)
        // The server dies just before it syncs and publishes: every file is staged, nothing is published.
        #expect(try w.emu("config", "sink.nas.remote-emu", "env EMU_CRASH_AT=push.before-sync \(EmuBinary.path)").status == 0)
        #expect(try w.emu("push", "nas", "-q").status == 1)
        #expect(try w.emu("log", "nas", "--oneline").stdout.split(separator: "\n").count == 1)
        #expect(try w.emu("config", "sink.nas.remote-emu", EmuBinary.path).status == 0)
        let resumed = try w.emu("push", "nas", "--json")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains(#""bytes_copied":0"#) && resumed.stdout.contains(#""files_copied":0"#), "\(resumed.stdout)")
        #expect(try w.emu("verify", "nas").status == 0)
        #expect(!FileManager.default.fileExists(atPath: w.sink + "/.emu/resume"), "publishing drops the resume area")
    }

    @Test("an append-only key may push; retention is left to the server")
    func appendOnlyPush() throws {
        let (w, server) = try setUp()
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root) --append-only")
        let pushed = try w.emu("push", "nas")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(try w.emu("log", "nas", "--oneline").stdout.split(separator: "\n").count == 1)
    }

    /// The bytes the client sent through the counting link, summed over its
    /// connections (each relay writes its line as ssh hangs it up, which may
    /// be after emu exits: the relays are waited for).
    static func sent(_ count: String) -> Int {
        sh("for i in $(seq 6000); do pgrep -f '[s]low-link.py.*\(count)' >/dev/null || exit 0; sleep 0.05; done; exit 1")
        return ((try? String(contentsOfFile: count, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int($0.split(separator: " ")[0]) }.reduce(0, +)
    }

    /// Verifies the server's newest snapshot and checks, reading the
    /// server's sink as a local one (`here`, added if needed), that its tree
    /// is the source.
    static func expectServerHoldsSource(_ w: Workspace) throws {
        #expect(try w.emu("verify", "nas").status == 0)
        _ = try w.emu("sink", "add", "here", w.sink, "-q")
        #expect(try w.emu("checkout", "here:HEAD", "--to", w.root + "/restored", "-q").status == 0)
        expectSameTrees(try describeTree(w.source, ignoring: [RelativePath(".emu")]), try describeTree(w.root + "/restored"))
        _ = sh("rm -rf '\(w.root)/restored'")
    }

    /// The bytes the server sent the client through the counting link.
    static func received(_ count: String) -> Int {
        _ = sent(count)
        return ((try? String(contentsOfFile: count, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int($0.split(separator: " ")[1]) }.reduce(0, +)
    }

    @Test("a push with nothing changed sends a few bytes a run of unchanged files, not their records")
    func unchangedFilesCrossAsRuns() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(sh("cd '\(w.source)' && for d in 1 2 3 4; do mkdir -p many/$d && for f in $(seq 500); do echo $d$f > many/$d/file-with-a-long-name-$f; done; done") == 0)
        #expect(try w.emu("push", "nas", "-q").status == 0)
        let manifest = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(sh(manifestShell + "manifest_text '\(w.sink)/.emu/manifests/\(manifest)' | wc -c > '\(w.root)/records'") == 0)
        let records = try #require(Int(try String(contentsOfFile: w.root + "/records", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let count = w.root + "/wire"
        #expect(try w.emu("config", "sink.nas.ssh-command", try server.sshCommand(delay: 0, count: count)).status == 0)
        let pushed = try w.emu("push", "nas", "--json")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout.contains(#""files_linked":2004"#), "\(pushed.stdout)")
        // 2,013 records are about 300 kB; ssh's own traffic is a few kB. Nor
        // did the server send them: the client kept those it expected the first push to write.
        #expect(records > 250_000 && Self.sent(count) < records / 10, "sent \(Self.sent(count)) bytes for \(records) bytes of records")
        #expect(Self.received(count) < records / 10, "received \(Self.received(count)) bytes for \(records) bytes of records")
        try Self.expectServerHoldsSource(w)
    }

    @Test("a push whose cached records the server no longer holds (a manifest rebuilt there) reads them again and makes the source's snapshot")
    func staleRecordsCache() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(try w.emu("push", "nas", "-q").status == 0)
        let head = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        // The first push's expected records proved to be the server's manifest, hardlinks, xattrs, a fifo and all.
        #expect(sh("ls '\(w.cacheHome)'/emu/*/\(head)") == 0, "the records of \(head) are cached")
        // The server loses a file of its newest snapshot and its manifest; repair rebuilds the manifest without the file.
        #expect(sh("rm '\(w.sink)/.emu/trees/\(head)/docs/b' '\(w.sink)/.emu/manifests/\(head)'") == 0)
        #expect(try w.emu("sink", "add", "here", w.sink, "-q").status == 0)
        #expect(try w.emu("clean", "here", "--repair", "-q").status == 0)
        let pushed = try w.emu("push", "nas", "--json")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        try Self.expectServerHoldsSource(w)
    }

    @Test("a records cache on a full disk costs a push nothing: it goes on without the cache",
          Skips.needsRoot("needs root to mount a small tmpfs"))
    func fullCacheDisk() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        let cache = try ScratchFilesystem.required("tmpfs", megabytes: 1, in: w, name: "cache")
        // Room for the cache's directories, not for 2,000 records.
        #expect(sh("head -c 1000k /dev/zero > '\(cache.mountPoint)/filler'; cd '\(w.source)' && mkdir many && for f in $(seq 2000); do echo $f > many/file-$f; done") == 0)
        let full = ["XDG_CACHE_HOME": cache.mountPoint]
        let first = try w.emu("push", "nas", "--json", environment: full)
        #expect(first.status == 0, "\(first.stderr)")
        let second = try w.emu("push", "nas", "--json", environment: full)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains(#""files_linked":2004"#), "\(second.stdout)")
        try Self.expectServerHoldsSource(w)
    }

    @Test("a renamed, a copied and a restored file cross the wire as records: the server finds their content by hash")
    func contentFoundByHash() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(try w.emu("push", "nas", "-q").status == 0)
        #expect(sh("cd '\(w.source)' && mv big moved && cp -p moved same-metadata && cp moved fresh-mtime && chmod 600 fresh-mtime") == 0)
        let count = w.root + "/wire"
        #expect(try w.emu("config", "sink.nas.ssh-command", try server.sshCommand(delay: 0, count: count)).status == 0)
        let pushed = try w.emu("push", "nas", "--json")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        // Three files of 3 MB, none sent: what crossed is records, questions and ssh's own traffic.
        #expect(Self.sent(count) > 1000 && Self.sent(count) < 300_000, "sent \(Self.sent(count)) bytes")
        #expect(pushed.stdout.contains(#""files_copied":1"#) && pushed.stdout.contains(#""bytes_copied":3000000"#), "\(pushed.stdout)")
        #expect(try w.emu("verify", "nas").status == 0)
        #expect(try w.emu("sink", "add", "here", w.sink, "-q").status == 0)
        #expect(try w.emu("checkout", "here:HEAD", "--to", w.root + "/restored", "-q").status == 0)
        expectSameTrees(try describeTree(w.source, ignoring: [RelativePath(".emu")]), try describeTree(w.root + "/restored"))
        // A file deleted, then brought back from an older snapshot: its bytes are still on the server.
        #expect(sh("rm '\(w.source)/moved'") == 0)
        #expect(try w.emu("push", "nas", "-q").status == 0)
        #expect(try w.emu("checkout", "nas:HEAD~1", "-q", "--", "moved").status == 0)
        try "".write(toFile: count, atomically: true, encoding: .utf8)
        #expect(try w.emu("push", "nas", "-q").status == 0)
        #expect(Self.sent(count) > 1000 && Self.sent(count) < 300_000, "sent \(Self.sent(count)) bytes for a restored file")
    }

    @Test("push and checkout over a link that holds every chunk 25 ms each way: requests go in a window, the results are whole")
    func slowLink() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(sh("cd '\(w.source)' && mkdir many && for i in $(seq 300); do echo $i > many/f$i; head -c 2000 /dev/urandom > many/g$i; done") == 0)
        let count = w.root + "/wire"
        #expect(try w.emu("config", "sink.nas.ssh-command", try server.sshCommand(delay: 0.025, count: count)).status == 0)
        let pushed = try w.emu("push", "nas", "-q")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let restored = try w.emu("checkout", "nas:HEAD", "--to", w.root + "/restored", "-q")
        #expect(restored.status == 0, "\(restored.stderr)")
        expectSameTrees(try describeTree(w.source, ignoring: [RelativePath(".emu")]), try describeTree(w.root + "/restored"))
        #expect(Self.sent(count) > 900_000, "the link carried the push")
    }

    @Test("push --dry-run over ssh counts what the push then does and changes nothing; --checksum hashes every file and links those the server holds")
    func dryRunAndChecksum() throws {
        let (w, server) = try setUp()
        defer { withExtendedLifetime(server) {} }
        #expect(try w.emu("push", "nas", "-q").status == 0)
        #expect(sh("cd '\(w.source)' && echo new > docs/new && echo changed > a && rm docs/deep/c") == 0)
        func counts(_ run: Run) -> [String] {
            ["files", "files_copied", "files_linked", "bytes_copied", "directories"].map { key in
                run.stdout.components(separatedBy: "\"\(key)\":").dropFirst().first?.prefix { $0.isNumber }.description ?? "none"
            }
        }
        let planned = try w.emu("push", "nas", "-n", "--json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let listed = try w.emu("push", "nas", "-n")
        #expect(listed.stdout.contains("docs/new"), "\(listed.stdout)")
        #expect(try w.emu("log", "nas", "--oneline").stdout.split(separator: "\n").count == 1, "a dry run publishes nothing")
        let count = w.root + "/wire"
        #expect(try w.emu("config", "sink.nas.ssh-command", try server.sshCommand(delay: 0, count: count)).status == 0)
        let checked = try w.emu("push", "nas", "--checksum", "--json")
        #expect(checked.status == 0, "\(checked.stderr)")
        // The plan is what the push did: the changed file, the new one, the other name of the changed inode linked to it.
        #expect(counts(planned) == counts(checked) && counts(checked)[1] == "2", "planned \(planned.stdout) did \(checked.stdout)")
        #expect(Self.sent(count) > 1000 && Self.sent(count) < 300_000, "the 3 MB file was hashed and linked, not sent: \(Self.sent(count))")
        #expect(try w.emu("verify", "nas").status == 0)
    }
}
