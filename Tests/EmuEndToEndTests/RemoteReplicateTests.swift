import EmuPOSIX
import Foundation
import Glibc
import Testing

/// `emu replicate` to and from a sink over ssh, on a real sshd (issue 27):
/// local to ssh and ssh to local keep the history whole; an append-only key
/// can be replicated into and a read-only one from; a copy whose link is cut
/// leaves the server's snapshots as they were, and the next run sends again
/// only what had not arrived whole.
@Suite("replicate over ssh", Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
struct RemoteReplicateTests {
    /// A history in `usb1` and a server whose sinks lie under the workspace, reached by the key `mode` allows.
    func setUp(mode: String = "") throws -> (Workspace, SSHServer, remote: String) {
        let w = try Workspace("emu-rreplicate")
        try ReplicateTests.history(w)
        let server = try SSHServer(in: w.root)
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root) \(mode)")
        return (w, server, w.root + "/served")
    }

    func add(_ w: Workspace, _ name: String, _ server: SSHServer, _ path: String, sshCommand: String? = nil) throws {
        try w.expectSuccess(w.emu("sink", "add", name, server.address(path), "--ssh-command", sshCommand ?? server.sshCommand,
                                  "--remote-emu", EmuBinary.path, "-q"))
    }

    /// Bytes the counting link carried towards the server, over every connection it counted
    /// (once its relays have ended: each writes its line as its connection closes).
    static func sent(_ count: String) -> Int {
        for _ in 0..<1200 where sh("pgrep -f '[s]low-link.py.*\(count)'", mayFail: true) == 0 { usleep(50_000) }
        return ((try? String(contentsOfFile: count, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { Int($0.split(separator: " ").first ?? "") }.reduce(0, +)
    }

    @Test("local to ssh, then ssh to local: both copies hold the history as FROM does, tree, manifest and inode sharing")
    func roundTrip() throws {
        let (w, server, remote) = try setUp()
        defer { withExtendedLifetime(server) {} }
        try add(w, "nas", server, remote)
        try w.expectSuccess(w.emu("replicate", "usb1", "nas"))
        try w.expectSuccess(w.emu("sink", "add", "served", remote, "-q"))
        try ReplicateTests.expectSameHistory(w, ("usb1", w.sink), ("served", remote))
        try w.expectSuccess(w.emu("verify", "nas"))
        let back = w.root + "/back"
        try w.expectSuccess(w.emu("replicate", "nas", back))
        try w.expectSuccess(w.emu("sink", "add", "back", back, "-q"))
        try ReplicateTests.expectSameHistory(w, ("usb1", w.sink), ("back", back))
        let again = try w.emu("replicate", "nas", "back", "--json")
        #expect(again.stdout.contains(#""snapshots":[]"#) && again.stdout.contains(#""already_held":3"#), "\(again.stdout)")
    }

    @Test("an append-only key can be replicated into (not with --prune); a read-only key can be replicated from")
    func restrictedKeys() throws {
        let (w, server, remote) = try setUp(mode: "--append-only")
        defer { withExtendedLifetime(server) {} }
        try add(w, "offsite", server, remote)
        let pruning = try w.emu("replicate", "usb1", "offsite", "--prune")
        #expect(pruning.status == 2 && pruning.stderr.contains("append-only"), "\(pruning.stderr)")
        try w.expectSuccess(w.emu("replicate", "usb1", "offsite"))
        #expect(try w.loggedSnapshots("offsite").count == 3)
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root) --read-only")
        let copy = w.root + "/copy"
        try w.expectSuccess(w.emu("replicate", "offsite", copy))
        try w.expectSuccess(w.emu("sink", "add", "copy", copy, "-q"))
        try ReplicateTests.expectSameHistory(w, ("usb1", w.sink), ("copy", copy))
    }

    /// Cut points from a seeded generator (SplitMix64, seed 20261207) across the 16 MiB a copy of the large snapshot sends.
    static let cuts = seededOffsets(seed: 20_261_207, count: 3, in: 200_000..<16_200_000)

    @Test("a copy whose link is cut at seeded bytes leaves the server's snapshots unchanged; the next run completes and sends only what had not arrived whole",
          arguments: cuts)
    func cutCopy(afterBytes cut: Int) throws {
        let (w, server, remote) = try setUp()
        defer { withExtendedLifetime(server) {} }
        try add(w, "nas", server, remote)
        try w.expectSuccess(w.emu("replicate", "usb1", "nas", "-q"))
        writeRandomFiles(w.source + "/large", count: 8, kilobytes: 2048)
        try w.expectSuccess(w.emu("push", "usb1", "-q", "--date", "2026-01-04 10:00"))
        let before = try ReplicateTests.listed(w, "nas")
        let count = w.root + "/wire"
        try w.expectSuccess(w.emu("config", "sink.nas.ssh-command", try server.sshCommand(delay: 0, count: count, cutAfter: cut)))
        let cutRun = try w.emu("replicate", "usb1", "nas", "-q")
        #expect(Self.sent(count) > 0 && SSHServer.wasCut(count) && cutRun.status == 1 && !cutRun.killed, "\(cutRun.status) \(cutRun.stderr)")
        try w.expectSuccess(w.emu("config", "sink.nas.ssh-command", server.sshCommand))
        #expect(try ReplicateTests.listed(w, "nas") == before, "a cut copy publishes nothing and changes no snapshot")
        let counted = w.root + "/wire2"
        try w.expectSuccess(w.emu("config", "sink.nas.ssh-command", try server.sshCommand(delay: 0, count: counted)))
        try w.expectSuccess(w.emu("replicate", "usb1", "nas", "-q"))
        let total = 8 * 2048 * 1024
        #expect(Self.sent(counted) <= max(0, total - cut) + 2 * 2048 * 1024 + 512 * 1024,
                "after \(cut) bytes had crossed, the next run sent \(Self.sent(counted)) of \(total)")
        try w.expectSuccess(w.emu("sink", "add", "served", remote, "-q"))
        try ReplicateTests.expectSameHistory(w, ("usb1", w.sink), ("served", remote))
        try w.expectSuccess(w.emu("verify", "nas"))
    }

    @Test("the bytes a copy sends over ssh are the content the server lacks and the manifests, not 10% more")
    func wireBytes() throws {
        let (w, server, remote) = try setUp()
        defer { withExtendedLifetime(server) {} }
        writeRandomFiles(w.source + "/large", count: 4, kilobytes: 1024)
        #expect(sh("cp -a '\(w.source)/large' '\(w.source)/again'") == 0, "a copy of the same files, stored once")
        try w.expectSuccess(w.emu("push", "usb1", "-q", "--date", "2026-01-04 10:00"))
        let count = w.root + "/wire"
        try add(w, "nas", server, remote, sshCommand: try server.sshCommand(delay: 0, count: count))
        try w.expectSuccess(w.emu("replicate", "usb1", "nas", "-q"))
        // What the server must receive: every inode of the history once, and each snapshot's manifest.
        let content = Int(try w.bash("find '\(w.sink)/.emu/trees' -type f -printf '%i %s\\n' | sort -u | awk '{s+=$2} END {print s}'").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let manifests = Int(try w.bash("cat '\(w.sink)'/.emu/manifests/* | wc -c").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(content > 4 << 20 && Self.sent(count) <= Int(1.1 * Double(content + manifests)),
                "sent \(Self.sent(count)) bytes for \(content) of content and \(manifests) of manifests")
    }
}
