import EmuPOSIX
import Foundation
import Glibc
import Testing

@Suite("push and checkout, end to end")
struct PushCheckoutTests {
    static let mebibyte: Int64 = 1 << 20

    /// A source holding every kind of entry and metadata a snapshot keeps.
    static func richSource(_ w: Workspace) throws {
        try Fixture.create([
            "plain.txt": .file("hello\n"),
            "exec.sh": .file("#!/bin/sh\necho hi\n", mode: 0o755),
            "setuid": .file("s", mode: 0o4755),
            "setgid-dir": .directory(["f": .file("x")], mode: 0o2775),
            "sticky": .directory([:], mode: 0o1777),
            "readonly-dir": .directory(["inner": .file("r", mode: 0o400)], mode: 0o555),
            FileName([0x62, 0x61, 0x64, 0x83]): .file("a name that is not UTF-8"),
            "tab\tand\nnewline": .file("weird name"),
            "link": .symlink("plain.txt"),
            "dangling": .symlink("/nonexistent/target"),
            "fifo": .fifo,
            "sparse": .sparse(size: 16 * Self.mebibyte, data: [(0, "head"), (8 * Self.mebibyte, "middle")]),
            "hard-a": .file("shared bytes"),
            "hard-b": .hardlink("hard-a"),
            "deep": .directory(["er": .directory(["hard-c": .hardlink("hard-a")])]),
            "empty": .file(""),
        ], at: w.source)
        let s = w.source
        #expect(sh("""
            cd '\(s)' && setfattr -n user.color -v blue plain.txt && setfattr -n user.binary -v 0x00ff10 exec.sh \
            && setfacl -m u:nobody:rw exec.sh && setfacl -d -m g:nogroup:rx setgid-dir && setfattr -n user.dir -v d setgid-dir \
            && chown 1234:5678 plain.txt && chown -h 4321:8765 link && mknod chardev c 1 3 && mknod blockdev b 7 0 \
            && touch -d '2020-01-02 03:04:05.123456789' plain.txt && touch -h -d '2019-05-06 07:08:09.987654321' link \
            && touch -d '2018-01-01 00:00:00.5' deep/er deep
            """) == 0)
    }

    @Test("a push followed by checkout --to reproduces every entry and its metadata")
    func roundTrip() throws {
        let w = try Workspace().initialize()
        try Self.richSource(w)
        let push = try w.emu("push")
        #expect(push.status == 0, "\(push.stderr)")
        let original = try describeTree(w.source, ignoring: [RelativePath(".emu")])
        let tree = try #require(try w.trees().last)
        expectSameTrees(original, try describeTree(tree))

        let out = w.root + "/restored"
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", out))
        let restored = try describeTree(out)
        expectSameTrees(original, restored)
        #expect(restored[RelativePath("sparse")]?.isSparse == true)
        #expect(restored[RelativePath("hard-a")]?.linkGroup == RelativePath("deep/er/hard-c"))
        #expect(restored[RelativePath("hard-b")]?.linkGroup == RelativePath("deep/er/hard-c"))
    }

    @Test("unchanged files share the previous snapshot's inode; changed ones do not")
    func inodeSharing() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["same": .file("same"), "edited": .file("v1"), "chmodded": .file("c"), "touched": .file("t"),
                            "dir": .directory(["nested": .file("n")])], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("cd '\(w.source)' && echo v2 >> edited && chmod 600 chmodded && touch -d '2001-01-01' touched")
        let second = try w.emu("push", "-v")
        try w.expectSuccess(second)
        let trees = try w.trees()
        #expect(trees.count == 2)
        let (old, new) = (trees[0], trees[1])
        #expect(inode(old + "/same") == inode(new + "/same"))
        #expect(inode(old + "/dir/nested") == inode(new + "/dir/nested"))
        for changed in ["edited", "chmodded", "touched"] {
            #expect(inode(old + "/" + changed) != inode(new + "/" + changed), "\(changed) must be a new inode")
        }
        #expect(second.stderr.contains("copied (content) edited"))
        #expect(second.stderr.contains("copied (metadata) chmodded"))
        #expect(second.stderr.contains("copied (metadata) touched"))
        #expect(try String(contentsOfFile: old + "/edited", encoding: .utf8) == "v1")
    }

    @Test("a file the previous snapshot's tree lost is copied again, not linked and not failed")
    func lostFromPreviousTree() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["kept": .file("kept"), "dir": .directory(["lost": .file("lost bytes"), "also": .file("a")])], at: w.source)
        try w.expectSuccess(w.emu("push"))
        let first = try w.trees()[0]
        sh("chmod u+w '\(first)/dir' && rm '\(first)/dir/lost'")
        let second = try w.emu("push", "-v")
        try w.expectSuccess(second)
        let new = try w.trees()[1]
        #expect(try String(contentsOfFile: new + "/dir/lost", encoding: .utf8) == "lost bytes")
        #expect(inode(first + "/kept") == inode(new + "/kept"))
        #expect(inode(first + "/dir/also") == inode(new + "/dir/also"))
        #expect(second.stderr.contains("dir/lost"))
        try w.expectSuccess(w.emu("verify", "HEAD"))
    }

    @Test("many large files, hashed on whichever core is free, are recorded with their true hashes")
    func largeFilesHashedOnBothCores() throws {
        let w = try Workspace().initialize()
        // Copies in the kernel outrun hashing, so the walk soon hashes some of these itself.
        #expect(sh("cd '\(w.source)' && for i in $(seq 12); do head -c 3145728 /dev/urandom > large$i; done") == 0)
        try w.expectSuccess(w.emu("push"))
        try w.expectSuccess(w.emu("verify", "HEAD"))
        // A manifest line: type, mode, owner, group, size, mtime, ctime, inode, SHA-256, attributes, extra, path.
        #expect(sh(manifestShell + """
            for m in '\(w.sink)'/.emu/manifests/*; do manifest_text "$m"; done > '\(w.root)/manifests'
            cd '\(w.source)' && for f in large*; do
              h=$(sha256sum "$f" | cut -c1-64)
              awk -F'\\t' -v h="$h" -v f="$f" '$9 == h && $12 == f { found = 1 } END { exit !found }' '\(w.root)/manifests' || exit 1
            done
            """) == 0)
    }

    @Test("--checksum links by content and metadata, copying what differs")
    func checksum() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("aaaa"), "b": .file("bbbb")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        // Same size, same mtime, other bytes: only --checksum can see it.
        sh("cd '\(w.source)' && m=$(stat -c %y b) && printf 'BBBB' > b && touch -d \"$m\" b")
        try w.expectSuccess(w.emu("push", "--checksum"))
        let trees = try w.trees()
        #expect(inode(trees[0] + "/a") == inode(trees[1] + "/a"))
        #expect(try String(contentsOfFile: trees[1] + "/b", encoding: .utf8) == "BBBB")
    }

    @Test("excludes, --exclude, the sink inside the source, and -x")
    func exclusions() throws {
        let w = try Workspace("emu-e2e", sinkPath: nil)
        try Fixture.create(["keep.txt": .file("k"), "junk.tmp": .file("j"), "build": .directory(["out.o": .file("o")]),
                            "notes": .directory(["keep.tmp": .file("kt"), "x.log": .file("l")])], at: w.source)
        try w.expectSuccess(w.emu("init"))
        try w.expectSuccess(w.emu("sink", "add", "inner", w.source + "/backups"))
        try "- *.tmp\n+ /notes/keep.tmp\n/build/\n".write(toFile: w.source + "/.emu/excludes", atomically: false, encoding: .utf8)
        sh("cd '\(w.source)' && printf '+ /notes/keep.tmp\\n- *.tmp\\n/build/\\n' > .emu/excludes")
        try w.expectSuccess(w.emu("push", "--exclude", "*.log"))
        let tree = try #require(try FileManager.default.contentsOfDirectory(atPath: w.source + "/backups/.emu/trees").first)
        let names = try describeTree(w.source + "/backups/.emu/trees/" + tree).keys.map(\.description).sorted()
        #expect(names == ["keep.txt", "notes", "notes/keep.tmp"])
    }

    @Test("-x and --one-file-system keep a mount point as an empty directory and leave out what is mounted on it; without, it is kept",
          Skips.needsRoot("needs root to mount tmpfs"))
    func oneFileSystem() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("a"), "mnt": .directory([:])], at: w.source)
        let mounted = try ScratchFilesystem.required("tmpfs", megabytes: 4, in: w, name: "source/mnt")
        try Fixture.create(["inside": .file("another filesystem"), "d": .directory(["f": .file("deeper")])], at: mounted.mountPoint)
        try w.expectSuccess(w.emu("push", "-x"))
        try w.expectSuccess(w.emu("push", "--one-file-system"))
        try w.expectSuccess(w.emu("push"))
        let trees = try w.trees()
        try #require(trees.count == 3)
        for tree in trees[0...1] {
            #expect(try describeTree(tree).keys.map(\.description).sorted() == ["a", "mnt"], "\(tree)")
        }
        #expect(try describeTree(trees[2]).keys.map(\.description).sorted() == ["a", "mnt", "mnt/d", "mnt/d/f", "mnt/inside"])
        try w.expectSuccess(w.emu("checkout", "TAIL", "--to", w.root + "/out"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.root + "/out/mnt").isEmpty)
    }

    @Test("a source inside its own sink is refused")
    func sourceInsideSink() throws {
        let w = try Workspace()
        try w.expectSuccess(w.emu("init"))
        let run = try w.emu("sink", "add", "outer", w.root)
        #expect(run.status == 2)
        #expect(run.stderr.contains("inside the sink"))
    }

    @Test("show prints records, listings and file bytes; log lists newest first")
    func showAndLog() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["docs": .directory(["a.txt": .file("alpha\n")])], at: w.source)
        try w.expectSuccess(w.emu("push", "-m", "first"))
        sh("echo beta >> '\(w.source)/docs/a.txt'")
        try w.expectSuccess(w.emu("push", "-m", "second"))
        #expect(try w.emu("show", "HEAD~1:docs/a.txt").stdout == "alpha\n")
        #expect(try w.emu("show", "origin:HEAD:docs/a.txt").stdout == "alpha\nbeta\n")
        #expect(try w.emu("show", "HEAD:docs").stdout.contains("a.txt"))
        #expect(try w.emu("show", "HEAD").stdout.contains("message = second"))
        let log = try w.emu("log", "--short").stdout.split(separator: "\n")
        #expect(log.count == 2)
        #expect(log[0].hasSuffix("second") && log[1].hasSuffix("first"))
        let decoded = try w.loggedSnapshots("-n", "1")
        #expect(decoded.count == 1)
        #expect(decoded.first?["message"] as? String == "second")
        #expect(try w.emu("show", "HEAD:nope").status == 2)
    }
}
