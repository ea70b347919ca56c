import EmuPOSIX
import Foundation
import Glibc
import Testing

@Suite("checkout safety, end to end")
struct CheckoutTests {
    func twoSnapshots() throws -> Workspace {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("a1"), "b": .file("b1"), "d": .directory(["c": .file("c1")])], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("cd '\(w.source)' && echo a2 > a && rm b && echo new > d/n")
        try w.expectSuccess(w.emu("push"))
        return w
    }

    @Test("checkout makes the source equal the snapshot, leaving .emu alone")
    func restoresSource() throws {
        let w = try twoSnapshots()
        let first = try #require(try w.trees().first)
        try w.expectSuccess(w.emu("checkout", "HEAD~1"))
        expectSameTrees(try describeTree(first), try describeTree(w.source, ignoring: [RelativePath(".emu")]))
        #expect(FileManager.default.fileExists(atPath: w.source + "/.emu/sinks/origin"))
    }

    @Test("checkout refuses to destroy unsaved data, names it, and changes nothing")
    func refuses() throws {
        let w = try twoSnapshots()
        sh("cd '\(w.source)' && echo unsaved > a && echo brand-new > fresh")
        let before = try describeTree(w.source)
        let run = try w.emu("checkout", "HEAD~1")
        #expect(run.status == 1)
        #expect(run.stderr.contains("  a\n") && run.stderr.contains("  fresh\n"))
        #expect(run.stderr.contains("--force"))
        expectSameTrees(before, try describeTree(w.source))
        try w.expectSuccess(w.emu("checkout", "HEAD~1", "--force"))
        #expect(try String(contentsOfFile: w.source + "/a", encoding: .utf8) == "a1")
        #expect(!FileManager.default.fileExists(atPath: w.source + "/fresh"))
    }

    @Test("checkout of some paths touches only them")
    func paths() throws {
        let w = try twoSnapshots()
        try w.expectSuccess(w.emu("checkout", "HEAD~1", "--", "b"))
        #expect(try String(contentsOfFile: w.source + "/b", encoding: .utf8) == "b1")
        #expect(try String(contentsOfFile: w.source + "/a", encoding: .utf8) == "a2\n")
        #expect(FileManager.default.fileExists(atPath: w.source + "/d/n"))
        #expect(try w.emu("checkout", "HEAD~1", "--", "no/such/path").status == 2)
    }

    @Test("--to wants a missing or empty directory unless --force, which keeps unrelated files unless --delete; -n writes nothing")
    func toDirectory() throws {
        let w = try twoSnapshots()
        let out = w.root + "/out"
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", out, "-n"))
        #expect(!FileManager.default.fileExists(atPath: out))
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try "x".write(toFile: out + "/occupied", atomically: false, encoding: .utf8)
        #expect(try w.emu("checkout", "HEAD", "--to", out).status == 1)
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", out, "--force"))
        #expect(FileManager.default.fileExists(atPath: out + "/occupied"), "--force alone must not delete what the snapshot does not hold")
        #expect(try String(contentsOfFile: out + "/d/n", encoding: .utf8) == "new\n")
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", out, "--force", "--delete"))
        #expect(!FileManager.default.fileExists(atPath: out + "/occupied"))
    }

    @Test("a checkout into an empty directory killed before the end leaves only its staging directory; the next one clears it")
    func killedCheckout() throws {
        let w = try Workspace().initialize()
        sh("cd '\(w.source)' && mkdir d && for i in 1 2 3 4 5 6; do head -c $((i * 40000)) /dev/urandom > d/f$i; done && echo small > a && ln a d/a-link")
        try w.expectSuccess(w.emu("push"))
        let out = w.root + "/out"
        let killed = try w.emu("checkout", "HEAD", "--to", out, environment: ["EMU_CRASH_AT": "checkout.before-place"])
        #expect(killed.killed)
        let left = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(left.count == 1 && left[0].hasPrefix(".emu-checkout."), "\(left)")
        // A leftover staging directory is no reason to refuse: no --force needed.
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["a", "d"])
        for i in 1...6 { #expect(FileManager.default.contentsEqual(atPath: out + "/d/f\(i)", andPath: w.source + "/d/f\(i)")) }
        #expect(try String(contentsOfFile: out + "/a", encoding: .utf8) == "small\n")
        #expect(inode(out + "/a") == inode(out + "/d/a-link"))
    }

    @Test("a checkout into an empty directory that fails leaves the directory empty")
    func failedStagedCheckout() throws {
        let w = try Workspace().initialize()
        sh("cd '\(w.source)' && mkdir d && for i in 1 2 3 4 5 6 7 8; do echo $i > d/f$i; done")
        try w.expectSuccess(w.emu("push"))
        let tree = try w.trees()[0]
        sh("chmod u+w '\(tree)/d' && rm '\(tree)/d/f5'")
        let out = w.root + "/out"
        let failed = try w.emu("checkout", "HEAD", "--to", out)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("f5"), "\(failed.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
    }

    @Test("as an unprivileged user, push and a checkout into an empty directory keep bytes, modes and mtimes",
          Skips.needsRoot("needs root to act as another user"))
    func unprivilegedRoundTrip() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one", mode: 0o640), "d": .directory(["b": .file("two", mode: 0o400)], mode: 0o750)], at: w.source)
        sh("cd '\(w.source)' && head -c 200000 /dev/urandom > d/big && ln d/big d/big-link && touch -d '2001-02-03 04:05:06' a d/b")
        sh("chmod 755 '\(w.root)' && mkdir '\(w.root)/out' && chown -R 65534:65534 '\(w.source)' '\(w.sink)' '\(w.root)/out'")
        try w.expectSuccess(w.emu("push", asNobody: true))
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", w.root + "/out", asNobody: true))
        let out = w.root + "/out"
        for name in ["a", "d/b", "d/big", "d/big-link"] {
            #expect(FileManager.default.contentsEqual(atPath: out + "/" + name, andPath: w.source + "/" + name), "\(name)")
        }
        let restored = try FileManager.default.attributesOfItem(atPath: out + "/d/b")
        #expect((restored[.posixPermissions] as? Int) == 0o400)
        #expect((restored[.ownerAccountID] as? Int) == 65534)
        #expect((restored[.modificationDate] as? Date) == (try FileManager.default.attributesOfItem(atPath: w.source + "/d/b")[.modificationDate] as? Date))
        #expect((try FileManager.default.attributesOfItem(atPath: out + "/d")[.posixPermissions] as? Int) == 0o750)
        #expect(inode(out + "/d/big") == inode(out + "/d/big-link"))
    }

    @Test("a checkout over the source is synced to disk before it returns; a restore into an empty directory is not, as cp -a is not",
          Skips.needs(FileManager.default.fileExists(atPath: "/usr/bin/strace"), "needs strace (make test-deps installs it)"))
    func syncedWhereItReplaced() throws {
        let w = try twoSnapshots()
        func syncs(_ arguments: String) throws -> Int {
            let run = try w.bash("strace -f -qq -e trace=syncfs -o '\(w.root)/trace' \"$EMU\" \(arguments) -q; grep -c syncfs '\(w.root)/trace'")
            return Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        #expect(try syncs("checkout HEAD --to '\(w.root)/restored'") == 0)
        #expect(try syncs("checkout HEAD~1 --force") == 1)
    }

    @Test("nothing read from a sink makes checkout write outside its target")
    func hostileSink() throws {
        let w = try twoSnapshots()
        let outside = w.root + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
        let tree = try #require(try w.trees().last)
        // A symlinked parent in the tree: d -> outside.
        sh("rm -rf '\(tree)/d' && ln -s '\(outside)' '\(tree)/d'")
        let run = try w.emu("checkout", "HEAD", "--to", w.root + "/target1")
        #expect(run.status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        // A manifest naming ../escape.
        let manifests = w.sink + "/.emu/manifests"
        let id = URL(fileURLWithPath: tree).lastPathComponent
        sh(manifestShell + "unchunk '\(manifests)/\(id)' && sed -i 's#\\ta$#\\t../escape#' '\(manifests)/\(id)'")
        let escaped = try w.emu("checkout", "HEAD", "--to", w.root + "/target2")
        #expect(escaped.status == 1)
        #expect(escaped.stderr.contains("damaged"))
        #expect(!FileManager.default.fileExists(atPath: w.root + "/escape"))
    }
}
