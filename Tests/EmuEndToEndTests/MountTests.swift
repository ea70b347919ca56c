import Foundation
import Glibc
import Testing

/// `emu mount SINK DIR` and `emu umount DIR`: every snapshot browsable as
/// folders, read-only, through a bind mount or sshfs (issue 28).
@Suite("emu mount", Skips.needsRoot("a bind mount needs root"))
struct MountTests {
    /// A workspace whose sink holds two snapshots of `notes` (v1, then v2).
    static func twoSnapshots(_ w: Workspace) throws {
        #expect(sh("echo v1 > '\(w.source)/notes'") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
        #expect(sh("echo v2 > '\(w.source)/notes'") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
    }

    /// The snapshot folders a mounted sink shows, oldest first, and `notes` in each.
    static func browse(_ mounted: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: mounted).filter { $0.hasPrefix("20") }.sorted()
        return try names.map { try String(contentsOfFile: mounted + "/" + $0 + "/notes", encoding: .utf8) }
    }

    @Test("a local sink: every snapshot as a folder, nothing writable, emu umount undoes it")
    func local() throws {
        let w = try Workspace().initialize()
        try Self.twoSnapshots(w)
        let mounted = w.root + "/browse"
        let run = try w.emu("mount", "origin", mounted)
        try w.expectSuccess(run)
        #expect(run.stderr.contains("made \(mounted)") && run.stderr.contains("`emu umount \(mounted)`"), "\(run.stderr)")
        #expect(try Self.browse(mounted) == ["v1\n", "v2\n"])
        #expect(sh("touch '\(mounted)/x' 2>/dev/null", mayFail: true) != 0, "read-only")
        #expect(sh("echo no > '\(mounted)/Latest/notes' 2>/dev/null", mayFail: true) != 0, "read-only")
        let again = try w.emu("mount", "origin", mounted)
        #expect(again.status == 2 && again.stderr.contains("mounted on it already"), "\(again.stderr)")
        try w.expectSuccess(w.emu("umount", mounted))
        #expect(try FileManager.default.contentsOfDirectory(atPath: mounted).isEmpty)
        let twice = try w.emu("umount", mounted)
        #expect(twice.status == 2 && twice.stderr.contains("nothing is mounted on"), "\(twice.stderr)")
    }

    @Test("refused: a directory that holds files, a path that is no sink, another mount to unmount, a user who may not mount")
    func refusals() throws {
        let w = try Workspace().initialize()
        try Self.twoSnapshots(w)
        let full = w.root + "/full"
        #expect(sh("mkdir '\(full)' && echo keep > '\(full)/mine'") == 0)
        let hiding = try w.emu("mount", "origin", full)
        #expect(hiding.status == 2 && hiding.stderr.contains("is not empty"), "\(hiding.stderr)")
        let nowhere = try w.emu("mount", w.root + "/nosink", w.root + "/m")
        #expect(nowhere.status == 2 && nowhere.stderr.contains("there is no sink at"), "\(nowhere.stderr)")

        let other = w.root + "/tmpfs"
        #expect(sh("mkdir '\(other)' && mount -t tmpfs -o size=1m emu-test '\(other)'") == 0)
        defer { sh("umount '\(other)'", mayFail: true) }
        let foreign = try w.emu("umount", other)
        #expect(foreign.status == 2 && foreign.stderr.contains("not a sink emu mount mounted"), "\(foreign.stderr)")
        #expect(sh("mountpoint -q '\(other)'") == 0, "still mounted")

        sh("chmod 755 '\(w.root)' && chown -R 65534:65534 '\(w.sink)' && mkdir '\(w.root)/n' && chown 65534 '\(w.root)/n'")
        let unprivileged = try EmuBinary.run(["mount", w.sink, w.root + "/n"], in: w.root, asNobody: true)
        #expect(unprivileged.status == 2 && unprivileged.stderr.contains("needs root"), "\(unprivileged.stderr)")
    }
}

@Suite("emu mount over ssh", Skips.needs(SSHServer.isAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/sshfs"),
                                         "needs openssh-server and sshfs (make test-deps installs them)"))
struct RemoteMountTests {
    @Test("a sink over ssh mounts through sshfs with its ssh-command and port, read-only; a key forced to emu serve cannot")
    func overSSH() throws {
        let w = try Workspace("emu-mount")
        let server = try SSHServer(in: w.root)
        defer { withExtendedLifetime(server) {} }
        try w.expectSuccess(w.emu("init", "-q"))
        try w.expectSuccess(w.emu("sink", "add", "nas", server.address(w.sink), "--ssh-command", server.sshCommand, "--remote-emu", EmuBinary.path))
        try MountTests.twoSnapshots(w)
        let mounted = w.root + "/browse"
        try w.expectSuccess(w.emu("mount", "nas", mounted))
        defer { sh("fusermount3 -u '\(mounted)' 2>/dev/null", mayFail: true) }
        #expect(try MountTests.browse(mounted) == ["v1\n", "v2\n"])
        #expect(sh("touch '\(mounted)/x' 2>/dev/null", mayFail: true) != 0, "read-only")
        try w.expectSuccess(w.emu("umount", mounted))
        #expect(try FileManager.default.contentsOfDirectory(atPath: mounted).isEmpty)

        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(w.root) --read-only --idle-timeout 20")
        let forced = try w.emu("mount", "nas", mounted)
        #expect(forced.status == 1 && forced.stderr.contains("cannot mount"), "\(forced.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mounted).isEmpty)
    }
}
