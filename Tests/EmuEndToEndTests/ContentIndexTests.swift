import EmuPOSIX
import Foundation
import Glibc
import Testing

@Suite("content index: every distinct file stored once")
struct ContentIndexTests {
    /// Apparent bytes under a directory, as `du -sb` counts them.
    func storedBytes(_ path: String) -> Int64 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/du")
        process.arguments = ["-sb", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Int64(text.split(separator: "\t").first ?? "") ?? -1
    }

    @Test("renaming a 50 MiB file or a folder of 1,000 files adds under 1 MiB and keeps the inodes")
    func renames() throws {
        let w = try Workspace().initialize()
        sh("cd '\(w.source)' && head -c 52428800 /dev/urandom > big && mkdir photos && for i in $(seq 1 1000); do head -c 3000 /dev/urandom > photos/p$i.jpg; done")
        try w.expectSuccess(w.emu("push"))
        let before = storedBytes(w.sink)
        sh("cd '\(w.source)' && mv big moved-big && mv photos albums")
        try w.expectSuccess(w.emu("push"))
        let added = storedBytes(w.sink) - before
        #expect(added < 1 << 20, "renaming stored \(added) bytes")
        let trees = try w.trees()
        #expect(inode(trees[0] + "/big") == inode(trees[1] + "/moved-big"))
        #expect(inode(trees[0] + "/photos/p500.jpg") == inode(trees[1] + "/albums/p500.jpg"))
        let diff = try w.emu("diff", "HEAD~1", "HEAD")
        #expect(diff.stdout.contains("R\tbig\tmoved-big"))
        #expect(diff.stdout.contains("R\tphotos/p7.jpg\talbums/p7.jpg"))
        #expect(try w.emu("diff", "HEAD~1", "HEAD", "--stat").stdout.contains("+0 B"))
    }

    @Test("a cp -a copy shares the inode, a touched copy does not; identical files in one source share one")
    func copies() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["doc": .file("the same bytes")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("cd '\(w.source)' && cp -a doc doc-copy && cp -a doc doc-copy2 && cp doc doc-touched && touch -d '2001-02-03' doc-touched")
        try w.expectSuccess(w.emu("push"))
        let trees = try w.trees()
        let original = inode(trees[0] + "/doc")
        #expect(inode(trees[1] + "/doc-copy") == original)
        #expect(inode(trees[1] + "/doc-copy2") == original)
        #expect(inode(trees[1] + "/doc-touched") != original)
        #expect(try String(contentsOfFile: trees[1] + "/doc-touched", encoding: .utf8) == "the same bytes")
    }

    @Test("names that look like emu's scratch names, with duplicate content, push cleanly")
    func scratchNames() throws {
        let w = try Workspace().initialize()
        try Fixture.create([".link": .file("dup"), ".emu-index-link": .file("dup"), "z": .file("dup")], at: w.source)
        sh("touch -d '2020-01-01' '\(w.source)/.link' '\(w.source)/.emu-index-link' '\(w.source)/z'")
        try w.expectSuccess(w.emu("push"))
        let tree = try #require(try w.trees().last)
        #expect(inode(tree + "/.link") == inode(tree + "/z"))
        #expect(inode(tree + "/.emu-index-link") == inode(tree + "/z"))
        #expect(try w.emu("verify").status == 0)
    }

    @Test("a file deleted and later restored with its metadata links to the inode an older snapshot holds")
    func restored() throws {
        let w = try Workspace().initialize()
        sh("head -c 100000 /dev/urandom > '\(w.source)/report' && cp -a '\(w.source)/report' '\(w.root)/saved'")
        try w.expectSuccess(w.emu("push"))
        sh("rm '\(w.source)/report' && echo other > '\(w.source)/other'")
        try w.expectSuccess(w.emu("push"))
        sh("cp -a '\(w.root)/saved' '\(w.source)/report'")
        let run = try w.emu("push", "-v")
        try w.expectSuccess(run)
        #expect(run.stderr.contains("linked (content the sink holds) report"))
        let trees = try w.trees()
        #expect(inode(trees[0] + "/report") == inode(trees[2] + "/report"))
    }

    @Test("prune then push keeps the index right; verify finds it clean")
    func pruneThenPush() throws {
        let w = try Workspace().initialize()
        sh("head -c 20000 /dev/urandom > '\(w.source)/a' && head -c 20000 /dev/urandom > '\(w.source)/b'")
        try w.expectSuccess(w.emu("push"))
        sh("rm '\(w.source)/b' && head -c 20000 /dev/urandom > '\(w.source)/c'")
        try w.expectSuccess(w.emu("push"))
        let entries = { (try? FileManager.default.subpathsOfDirectory(atPath: w.sink + "/.emu/index").filter { $0.contains("-") }.count) ?? -1 }
        #expect(entries() == 3)
        try w.expectSuccess(w.emu("prune", "TAIL"))
        #expect(entries() == 2, "b's entry goes with the last snapshot that held it")
        sh("cp -a '\(w.source)/a' '\(w.source)/a-copy'")
        try w.expectSuccess(w.emu("push"))
        let trees = try w.trees()
        #expect(inode(trees.last! + "/a-copy") == inode(trees.last! + "/a"))
        let verify = try w.emu("verify")
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("a push killed while linking leaves the index usable")
    func killedWhileLinking() throws {
        let w = try Workspace().initialize()
        sh("head -c 50000 /dev/urandom > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        sh("cp -a '\(w.source)/a' '\(w.source)/copy' && head -c 50000 /dev/urandom > '\(w.source)/new'")
        let killed = try w.emu("push", environment: ["EMU_CRASH_AT": "push.after-index-link"])
        #expect(killed.killed)
        try w.expectSuccess(w.emu("push"))
        let trees = try w.trees()
        #expect(trees.count == 2)
        #expect(inode(trees[1] + "/copy") == inode(trees[0] + "/a"))
        let verify = try w.emu("verify")
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("clean --repair rebuilds a lost index, and pushes link through it again")
    func repairIndex() throws {
        let w = try Workspace().initialize()
        sh("head -c 30000 /dev/urandom > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        sh("rm -rf '\(w.sink)/.emu/index'")
        let repair = try w.emu("clean", "--repair")
        #expect(repair.status == 0)
        #expect(repair.stderr.contains("add to the content index 1 file"))
        sh("cp -a '\(w.source)/a' '\(w.source)/b'")
        try w.expectSuccess(w.emu("push"))
        let trees = try w.trees()
        #expect(inode(trees[1] + "/b") == inode(trees[0] + "/a"))
    }

    @Test("70,000 identical files: past the link limit a new inode starts; push and checkout are right",
          Skips.needsRoot("needs root to mount an ext4 image"))
    func linkLimit() throws {
        let w = try Workspace()
        let image = w.root + "/ext4.img", mountPoint = w.root + "/ext4"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        guard sh("truncate -s 256M '\(image)' && mkfs.ext4 -q -N 300000 '\(image)' && mount -o loop '\(image)' '\(mountPoint)'", mayFail: true) == 0 else {
            try Skips.skip("cannot mount an ext4 image here")
        }
        defer { sh("umount -l '\(mountPoint)'", mayFail: true) }
        let source = mountPoint + "/source"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        let root = try DirectoryHandle.open(source)
        for i in 0..<70_000 {
            let fd = try root.createFile(FileName("f\(i)"), permissions: 0o644)
            try fd.writeAll(Array("identical".utf8))
            try fd.setModified(FileTime(seconds: 1_700_000_000, nanoseconds: 0))
            fd.close()
        }
        #expect(try EmuBinary.run(["init"], in: source).status == 0)
        #expect(try EmuBinary.run(["sink", "add", "ext4", mountPoint + "/sink"], in: source).status == 0)
        let push = try EmuBinary.run(["push"], in: source)
        #expect(push.status == 0, "\(push.stderr)")
        let tree = try #require(try FileManager.default.contentsOfDirectory(atPath: mountPoint + "/sink/.emu/trees").first)
        let path = mountPoint + "/sink/.emu/trees/" + tree
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
        #expect(names.count == 70_000)
        #expect(Set(names.compactMap { inode(path + "/" + $0) }).count == 2)
        let out = mountPoint + "/out"
        let checkout = try EmuBinary.run(["checkout", "HEAD", "--to", out], in: source)
        #expect(checkout.status == 0, "\(checkout.stderr)")
        let restored = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(restored.count == 70_000)
        #expect(try String(contentsOfFile: out + "/f69999", encoding: .utf8) == "identical")
    }

    @Test("log's unique bytes stay right when snapshots share a file under different paths")
    func uniqueAcrossPaths() throws {
        let w = try Workspace().initialize()
        sh("head -c 40000 /dev/urandom > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        sh("cd '\(w.source)' && cp -a a renamed && rm a")
        try w.expectSuccess(w.emu("push"))
        let json = try w.loggedSnapshots()
        let unique = json.map { ($0["unique_bytes"] as? NSNumber)?.int64Value ?? -1 }
        #expect(unique == [0, 0], "one inode, two snapshots: neither holds it alone")
        try w.expectSuccess(w.emu("prune", "TAIL"))
        let after = try w.loggedSnapshots()
        #expect(((after[0]["unique_bytes"] as? NSNumber)?.int64Value ?? 0) >= 40000)
    }
}
