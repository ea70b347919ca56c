import EmuPOSIX
import Foundation
import Glibc
import Testing

@Suite("crashes, full disks, unreadable files, locks, link limits")
struct SafetyTests {

    @Test("a push killed at any step leaves earlier snapshots intact, and the next push completes",
          arguments: ["push.after-copy", "push.before-sync", "push.after-chunks", "push.after-tree", "push.after-record"])
    func killedPush(point: String) throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one"), "d": .directory(["b": .file("two")])], at: w.source)
        try w.expectSuccess(w.emu("push"))
        let firstTree = try #require(try w.trees().first)
        let before = try describeTree(firstTree)
        sh("cd '\(w.source)' && head -c 300000 /dev/urandom > big && echo three > d/c && echo changed > a")

        let killed = try w.emu("push", environment: ["EMU_CRASH_AT": point])
        #expect(killed.killed, "emu should have died at \(point)")
        expectSameTrees(before, try describeTree(firstTree))
        // Copies go in path order: `a` (changed) is the first, and the one a
        // kill after the first copy leaves staged.
        let stagedInode = inode(w.sink + "/.emu/staging/tree/a")
        if point == "push.after-copy" { try #require(stagedInode != nil, "the killed push should have staged a") }

        let next = try w.emu("push")
        #expect(next.status == 0, "\(next.stderr)")
        let trees = try w.trees()
        #expect(trees.first == firstTree)
        expectSameTrees(before, try describeTree(firstTree))
        let newest = try #require(trees.last)
        expectSameTrees(try describeTree(w.source, ignoring: [RelativePath(".emu")]), try describeTree(newest))
        if point == "push.after-copy" {
            // What the killed push copied is linked, not copied again.
            #expect(inode(newest + "/a") == stagedInode)
        }
        #expect(!FileManager.default.fileExists(atPath: w.sink + "/.emu/staging"))
        #expect(!FileManager.default.fileExists(atPath: w.sink + "/.emu/resume"))
        let log = try w.emu("log", "--short").stdout.split(separator: "\n")
        #expect(log.count == (point == "push.after-record" ? 3 : 2))
        let head = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(newest.hasSuffix(head))
        let latest = URL(fileURLWithPath: w.sink + "/Latest").resolvingSymlinksInPath().path
        #expect(latest == URL(fileURLWithPath: newest).resolvingSymlinksInPath().path)
    }

    @Test("a file that keeps changing while read is read again, then kept as read and reported")
    func changingFile() throws {
        let w = try Workspace().initialize()
        sh("head -c 64000000 /dev/zero > '\(w.source)/busy' && echo steady > '\(w.source)/calm'")
        let toucher = Process()
        toucher.executableURL = URL(fileURLWithPath: "/bin/sh")
        // It touches until the push has ended, however long that takes: no deadline to miss on a slow machine.
        toucher.arguments = ["-c", "while :; do touch '\(w.source)/busy'; done"]
        var before = stat(), now = stat()
        stat(w.source + "/busy", &before)
        try toucher.run()
        defer { toucher.terminate() }
        // Pushed only once the toucher has touched: its start takes what it takes.
        repeat { usleep(10_000); stat(w.source + "/busy", &now) } while now.st_mtim.tv_nsec == before.st_mtim.tv_nsec && now.st_mtim.tv_sec == before.st_mtim.tv_sec
        let run = try w.emu("push")
        toucher.terminate()
        toucher.waitUntilExit()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("busy: changed while it was read"))
        // Recorded so that the next push reads it again rather than trusting it.
        let next = try w.emu("push", "-v")
        #expect(next.stderr.contains("copied (metadata) busy") || next.stderr.contains("copied (content) busy"))
        #expect(!next.stderr.contains("copied (new) calm") && !next.stderr.contains("calm\n"))
    }

    /// A sink with two snapshots of one file, and the older one's tree.
    static func twoPushes() throws -> (Workspace, oldest: String) {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("echo two > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        return (w, try #require(try w.trees().first))
    }

    @Test("a prune killed after removing the record is finished by the next command that locks the sink")
    func killedPrune() throws {
        let (w, oldest) = try Self.twoPushes()
        let killed = try w.emu("prune", "TAIL", environment: ["EMU_CRASH_AT": "prune.after-record"])
        #expect(killed.killed)
        #expect(try w.emu("log", "--short").stdout.split(separator: "\n").count == 1)
        #expect(FileManager.default.fileExists(atPath: oldest))
        try w.expectSuccess(w.emu("push"))
        #expect(!FileManager.default.fileExists(atPath: oldest))
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.sink + "/.emu/trash").isEmpty)
        #expect(try w.emu("log", "--short").stdout.split(separator: "\n").count == 2)
    }

    @Test("a killed prune rerun on the snapshot it had unlisted exits 2 and finishes the deletion: no tree, manifest or date link is left")
    func killedPruneRerun() throws {
        let (w, oldest) = try Self.twoPushes()
        let id = URL(fileURLWithPath: oldest).lastPathComponent
        #expect(try w.emu("prune", id, environment: ["EMU_CRASH_AT": "prune.after-record"]).killed)
        let rerun = try w.emu("prune", id)
        #expect(rerun.status == 2, "\(rerun.stderr)")
        for part in ["trees", "manifests", "nodes"] { #expect(!entryExists(w.sink + "/.emu/\(part)/" + id), "\(part) of \(id) is left") }
        let links = try FileManager.default.contentsOfDirectory(atPath: w.sink).filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: w.sink + "/" + $0))?.hasSuffix(id) == true }
        #expect(links.isEmpty, "date link left: \(links)")
    }

    @Test("prune of HEAD moves HEAD to the newest that remains; shared files stay")
    func pruneHead() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one"), "b": .file("kept")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("echo two > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        let trees = try w.trees()
        try w.expectSuccess(w.emu("prune", "HEAD"))
        let head = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8)
        #expect(trees[0].hasSuffix(head.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try String(contentsOfFile: trees[0] + "/b", encoding: .utf8) == "kept")
        #expect(!FileManager.default.fileExists(atPath: trees[1]))
        try w.expectSuccess(w.emu("prune", "HEAD", "-n"))
        #expect(FileManager.default.fileExists(atPath: trees[0]))
    }

    @Test("an unreadable file is skipped and named; the snapshot is incomplete; exit 3",
          Skips.needsRoot("needs root to act as another user"))
    func unreadableFile() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["ok.txt": .file("fine"), "secret": .file("no", mode: 0o600), "closed": .directory(["x": .file("x")], mode: 0o700)], at: w.source)
        sh("chmod 755 '\(w.root)' && chown -R 65534:65534 '\(w.source)' '\(w.sink)' && chown 0:0 '\(w.source)/secret' '\(w.source)/closed'")
        let run = try w.emu("push", asNobody: true)
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("secret"))
        #expect(run.stderr.contains("closed"))
        let log = try w.emu("log", "--short")
        #expect(log.stdout.contains("incomplete"))
        let tree = try #require(try w.trees().last)
        #expect(try String(contentsOfFile: tree + "/ok.txt", encoding: .utf8) == "fine")
        #expect(!FileManager.default.fileExists(atPath: tree + "/secret"))
    }

    @Test("a full sink fails the push cleanly (exit 1) and keeps earlier snapshots",
          Skips.needsRoot("needs root to mount a small filesystem"))
    func fullDisk() throws {
        let w = try Workspace()
        let mountPoint = w.root + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        guard sh("mount -t tmpfs -o size=2m tmpfs '\(mountPoint)'", mayFail: true) == 0 else {
            try Skips.skip("cannot mount tmpfs here")
        }
        defer { sh("umount -l '\(mountPoint)'", mayFail: true) }
        try w.expectSuccess(w.emu("init"))
        try w.expectSuccess(w.emu("sink", "add", "small", mountPoint + "/sink"))
        try Fixture.create(["a": .file("small file")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        let before = try describeTree(mountPoint + "/sink/Latest/")
        sh("head -c 3000000 /dev/urandom > '\(w.source)/huge'")
        let run = try w.emu("push")
        #expect(run.status == 1)
        #expect(run.stderr.contains("No space left") || run.stderr.contains("space"))
        #expect(try w.emu("log", "--short").stdout.split(separator: "\n").count == 1)
        expectSameTrees(before, try describeTree(mountPoint + "/sink/Latest/"))
        #expect(!FileManager.default.fileExists(atPath: mountPoint + "/sink/.emu/staging"))
        sh("rm '\(w.source)/huge'")
        try w.expectSuccess(w.emu("push"))
    }

    @Test("a locked sink gives exit 5 at once, or waits with --lock-wait")
    func locked() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("x")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        let holder = try LockHolder(w.sink + "/.emu/lock")
        let refused = try w.emu("push")
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("locked"))
        let waiting = Process()
        waiting.executableURL = URL(fileURLWithPath: EmuBinary.path)
        waiting.arguments = ["push", "--lock-wait", "600", "-q"]
        waiting.currentDirectoryURL = URL(fileURLWithPath: w.source)
        try waiting.run()
        usleep(500_000)
        // Still there while the lock is held: it waits rather than refusing at once (no success is possible before the release).
        #expect(waiting.isRunning, "push --lock-wait ended (status \(waiting.terminationStatus)) while the lock was held")
        holder.release()
        waiting.waitUntilExit()
        #expect(waiting.terminationStatus == 0)
        #expect(try w.emu("log", "--short").stdout.split(separator: "\n").count == 2)
    }

    @Test("a file with more names than the sink's link limit is copied, not failed (EMLINK)",
          Skips.needsRoot("needs root to mount an ext4 image"))
    func linkLimit() throws {
        let w = try Workspace()
        let image = w.root + "/ext4.img", mountPoint = w.root + "/ext4"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        guard sh("truncate -s 64M '\(image)' && mkfs.ext4 -q -N 100000 '\(image)' && mount -o loop '\(image)' '\(mountPoint)'", mayFail: true) == 0 else {
            try Skips.skip("cannot mount an ext4 image here")
        }
        defer { sh("umount -l '\(mountPoint)'", mayFail: true) }
        // The source on tmpfs, whose files may have more than ext4's 65,000 links.
        let shm = "/dev/shm/emu-emlink-\(getpid())"
        try FileManager.default.createDirectory(atPath: shm, withIntermediateDirectories: false)
        defer { sh("rm -rf '\(shm)'") }
        try Fixture.create(["f": .file("same bytes")], at: shm)
        let root = try DirectoryHandle.open(shm)
        for i in 0..<65_010 { try root.link(FileName("f"), to: root, as: FileName("l\(i)")) }
        #expect(try EmuBinary.run(["init"], in: shm).status == 0)
        #expect(try EmuBinary.run(["sink", "add", "ext4", mountPoint + "/sink"], in: shm).status == 0)
        let run = try EmuBinary.run(["push"], in: shm)
        #expect(run.status == 0, "\(run.stderr)")
        let tree = try #require(try FileManager.default.contentsOfDirectory(atPath: mountPoint + "/sink/.emu/trees").first)
        let path = mountPoint + "/sink/.emu/trees/" + tree
        #expect(try FileManager.default.contentsOfDirectory(atPath: path).count == 65_011)
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
        #expect(Set(names.compactMap { inode(path + "/" + $0) }).count == 2, "past the limit a second inode starts")
        #expect(try String(contentsOfFile: path + "/l65009", encoding: .utf8) == "same bytes")
    }
}
