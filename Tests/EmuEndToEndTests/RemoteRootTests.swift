import EmuPOSIX
import Foundation
import Glibc
import Testing

/// Many machines' sinks under one `emu serve --root`, on a real sshd.
@Suite("sinks under one served root", Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
struct RemoteRootTests {
    @Test("two clients under one root store a file they both hold once; it is freed when no snapshot of either holds it")
    func sharedIndex() throws {
        let first = try Workspace("emu-root"), second = try Workspace("emu-root2")
        let server = try SSHServer(in: first.root)
        defer { withExtendedLifetime(server) {} }
        let root = first.root + "/served"
        #expect(sh("mkdir -p '\(root)'") == 0)
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(root)")
        #expect(sh("head -c 3000000 /dev/urandom > '\(first.source)/photo' && cp -p '\(first.source)/photo' '\(second.source)/photo'") == 0)
        #expect(sh("echo mine > '\(first.source)/own' && echo theirs > '\(second.source)/own'") == 0)
        let count = first.root + "/wire"
        for (w, name) in [(first, "laptop1"), (second, "laptop2")] {
            #expect(try w.emu("init", "-q").status == 0)
            let added = try w.emu("sink", "add", "nas", server.address(root + "/" + name), "--ssh-command",
                                  try server.sshCommand(delay: 0, count: count), "--remote-emu", EmuBinary.path)
            #expect(added.status == 0, "\(added.stderr)")
            try "".write(toFile: count, atomically: true, encoding: .utf8)
            let pushed = try w.emu("push", "nas", "-q")
            #expect(pushed.status == 0, "\(pushed.stderr)")
        }
        // The second client's copy was found in the shared index: linked, not sent.
        #expect(RemotePushTests.sent(count) > 1000 && RemotePushTests.sent(count) < 300_000, "sent \(RemotePushTests.sent(count))")
        let photos = try trees(under: root).map { $0 + "/photo" }
        #expect(photos.count == 2 && inode(photos[0]) == inode(photos[1]), "one inode for both machines: \(photos)")
        // Shared, the photo is neither machine's alone; each holds its own small file alone.
        let shared = try first.bash("\"$EMU\" serve --root '\(root)' --report")
        #expect(shared.status == 0, "\(shared.stderr)")
        #expect(shared.stdout.contains("laptop1\t1 snapshot\tnewest ") && shared.stdout.contains("\t5 B only here\n"), "\(shared.stdout)")
        #expect(shared.stdout.contains("laptop2\t1 snapshot\tnewest ") && shared.stdout.contains("\t7 B only here\n"), "\(shared.stdout)")
        // The first machine lets go of it: the second still holds it, whole.
        #expect(sh("rm '\(first.source)/photo'") == 0)
        #expect(try first.emu("push", "nas", "-q").status == 0)
        #expect(try first.emu("prune", "nas:TAIL", "-q").status == 0)
        #expect(try second.emu("verify", "nas").status == 0)
        #expect(try entries(ofIndex: root) > 0)
        let alone = try first.bash("\"$EMU\" serve --root '\(root)' --report")
        #expect(alone.stdout.contains("laptop2\t1 snapshot\tnewest ") && alone.stdout.contains("\t2.9 MiB only here\n"), "\(alone.stdout)")
        // Now nobody holds it: deleting the last snapshot with it frees it.
        #expect(sh("rm '\(second.source)/photo'") == 0)
        #expect(try second.emu("push", "nas", "-q").status == 0)
        #expect(try second.emu("prune", "nas:TAIL", "-q").status == 0)
        #expect(try trees(under: root).allSatisfy { !FileManager.default.fileExists(atPath: $0 + "/photo") })
        #expect(try entries(ofIndex: root, larger: 1_000_000) == 0, "the photo's bytes are freed")
        #expect(try first.emu("verify", "nas").status == 0 && second.emu("verify", "nas").status == 0)
    }

    @Test("the same files with other mtimes from a second client are reflinks on an xfs root: not sent, no block written",
          Skips.needsRoot("needs root to mount a small xfs filesystem"))
    func heldUnderOtherMetadata() throws {
        let first = try Workspace("emu-root"), second = try Workspace("emu-root2")
        let fs = try ScratchFilesystem.required("xfs", megabytes: 400, in: first)
        let server = try SSHServer(in: first.root)
        defer { withExtendedLifetime(server) {} }
        let root = fs.mountPoint + "/served"
        #expect(sh("mkdir -p '\(root)'") == 0)
        try server.authorize(forcedCommand: "\(EmuBinary.path) serve --root \(root)")
        writeRandomFiles(first.source, count: 4, kilobytes: 6 << 10, prefix: "video")
        #expect(sh("cp -r '\(first.source)/.' '\(second.source)/' && touch -d @1577836800 '\(second.source)'/video*") == 0)
        let count = first.root + "/wire"
        var freeBefore: Int64 = 0
        var pushed = ""
        for (w, name) in [(first, "laptop1"), (second, "laptop2")] {
            try w.expectSuccess(w.emu("init", "-q"))
            try w.expectSuccess(w.emu("sink", "add", "nas", server.address(root + "/" + name), "--ssh-command",
                                      try server.sshCommand(delay: 0, count: count), "--remote-emu", EmuBinary.path))
            try "".write(toFile: count, atomically: true, encoding: .utf8)
            freeBefore = fs.freeBytes
            let result = try w.emu("push", "nas", "--json")
            try w.expectSuccess(result)
            pushed = result.stdout
        }
        let added = freeBefore - fs.freeBytes
        #expect(RemotePushTests.sent(count) < 300_000, "sent \(RemotePushTests.sent(count))")
        #expect(pushed.contains(#""bytes_copied":0,"#) && pushed.contains(#""files_copied":4,"#), "\(pushed)")
        #expect(added < 24 << 20 / 50, "the second client's 24 MiB added \(added) bytes")
        try second.expectSuccess(second.emu("verify", "nas", "-q"))
        try second.expectSuccess(second.emu("checkout", "nas:HEAD", "--to", second.root + "/out", "-q"))
        #expect(sh("diff -r -x .emu '\(second.source)' '\(second.root)/out' && test $(stat -c %Y '\(second.root)/out/video1') = 1577836800") == 0)
    }

    /// Every snapshot tree of every sink under `root`.
    func trees(under root: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root).filter { !$0.hasPrefix(".") }.sorted().flatMap { sink in
            try FileManager.default.contentsOfDirectory(atPath: "\(root)/\(sink)/.emu/trees").map { "\(root)/\(sink)/.emu/trees/\($0)" }
        }
    }

    /// Entries of the shared index holding more than `larger` bytes.
    func entries(ofIndex root: String, larger: Int = 0) throws -> Int {
        let index = root + "/.emu-shared/index"
        return try FileManager.default.contentsOfDirectory(atPath: index).flatMap { bucket in
            try FileManager.default.contentsOfDirectory(atPath: "\(index)/\(bucket)").map { "\(index)/\(bucket)/\($0)" }
        }.filter { ((try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0) > larger }.count
    }
}
