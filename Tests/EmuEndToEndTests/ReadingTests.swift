import EmuPOSIX
import Foundation
import Glibc
import Testing

/// Commands that only read: they work on a read-only sink, write nothing
/// without the sink's lock, and report a half state instead of trusting it
/// or failing on it (issue 10).
@Suite("reading commands: read-only sinks, no writes without the lock, half states")
struct ReadingTests {

    /// A workspace whose sink holds two snapshots; the older one's record
    /// does not know its unique bytes yet, so `log` has them to work out.
    static func twoSnapshots() throws -> (Workspace, older: String, newer: String) {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one"), "d": .directory(["b": .file("two")])], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("echo changed > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        let trees = try w.trees()
        return (w, URL(fileURLWithPath: trees[0]).lastPathComponent, URL(fileURLWithPath: trees[1]).lastPathComponent)
    }

    @Test("checkout --to, diff, verify, status and log work on a sink mounted read-only",
          Skips.needsRoot("needs root to bind-mount read-only"))
    func readOnlySink() throws {
        let (w, older, _) = try Self.twoSnapshots()
        sh("sed -i '/unique-size/d' '\(w.sink)/.emu/nodes/\(older)'")
        let readOnly = w.root + "/ro"
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false)
        guard sh("mount --bind '\(w.sink)' '\(readOnly)' && mount -o remount,ro,bind '\(readOnly)'", mayFail: true) == 0 else {
            try Skips.skip("cannot bind-mount read-only here")
        }
        defer { sh("umount '\(readOnly)' || umount -l '\(readOnly)'", mayFail: true) }
        try w.expectSuccess(w.emu("sink", "rm", "origin"))
        try w.expectSuccess(w.emu("sink", "add", "ro", readOnly))
        try w.expectSuccess(w.emu("checkout", "HEAD~1", "--to", w.root + "/restored"))
        #expect(try String(contentsOfFile: w.root + "/restored/a", encoding: .utf8) == "one")
        try w.expectSuccess(w.emu("diff", "HEAD~1", "HEAD"))
        try w.expectSuccess(w.emu("diff"))
        try w.expectSuccess(w.emu("verify"))
        try w.expectSuccess(w.emu("status"))
        let log = try w.emu("log", "--short")
        try w.expectSuccess(log)
        #expect(log.stdout.split(separator: "\n").count == 2)
        try w.expectSuccess(w.emu("log"))
        try w.expectSuccess(w.emu("show", "HEAD:a"))
    }

    @Test("a user who may only read a sink can verify it: the findings are reported, the records left as they are")
    func verifyWithoutWriteAccess() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a' && mkdir '\(w.source)/d' && echo b > '\(w.source)/d/b'") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
        #expect(sh("chmod 755 '\(w.root)' && chmod -R o+rX '\(w.sink)' '\(w.source)'") == 0)
        let records = DirectoryState(of: w.sink + "/.emu/nodes")
        let run = try EmuBinary.run(["verify", "-S", w.source], in: w.root, asNobody: true)
        #expect(run.status == 0 && (run.stdout + run.stderr).contains(": clean") && run.stderr.contains("the results are not kept in the sink's records"),
                "\(run.status) \(run.stdout) \(run.stderr)")
        #expect(DirectoryState(of: w.sink + "/.emu/nodes").changes(since: records).isEmpty)
        // Damage is found all the same, and exits 4.
        #expect(sh("echo changed > '\(try #require(try w.trees().last))/d/b'") == 0)
        #expect(try EmuBinary.run(["verify", "-S", w.source], in: w.root, asNobody: true).status == 4)
    }

    @Test("log writes a record only under the sink's lock: while another emu holds it, nothing is written")
    func logWritesOnlyUnderTheLock() throws {
        let (w, older, _) = try Self.twoSnapshots()
        let record = w.sink + "/.emu/nodes/" + older
        sh("sed -i '/unique-size/d' '\(record)'")
        let before = try String(contentsOfFile: record, encoding: .utf8)
        #expect(!before.contains("unique-size"))
        let holder = try LockHolder(w.sink + "/.emu/lock")
        #expect(try w.emu("push").status == 5, "the lock is held")
        let log = try w.emu("log", "--short")
        try w.expectSuccess(log)
        #expect(log.stdout.split(separator: "\n").count == 2)
        #expect(try String(contentsOfFile: record, encoding: .utf8) == before, "log wrote the record while another emu held the lock")
        holder.release()
        try w.expectSuccess(w.emu("log", "--short"))
        #expect(try String(contentsOfFile: record, encoding: .utf8).contains("unique-size"), "log no longer caches what it worked out")
    }

    @Test("verify calls a snapshot whose tree is gone damaged, with or without its manifest", arguments: [false, true])
    func treeGone(manifestGone: Bool) throws {
        let (w, older, _) = try Self.twoSnapshots()
        sh("rm -rf '\(w.sink)/.emu/trees/\(older)'")
        if manifestGone { sh("rm -f '\(w.sink)/.emu/manifests/\(older)'") }
        let verify = try w.emu("verify")
        #expect(verify.status == 4, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("one damaged manifest neither stops log for the whole sink nor makes prune of its snapshot fail")
    func damagedManifest() throws {
        let (w, older, _) = try Self.twoSnapshots()
        let manifest = w.sink + "/.emu/manifests/" + older
        sh("sed -i '/unique-size/d' '\(w.sink)/.emu/nodes/\(older)'")
        sh("chmod u+w '\(manifest)'; printf 'garbage\\n\\0\\377\\n' | dd of='\(manifest)' bs=1 seek=40 conv=notrunc 2>/dev/null")
        let log = try w.emu("log", "--short")
        #expect(log.status == 0, "\(log.stderr)")
        #expect(log.stdout.split(separator: "\n").count == 2)
        #expect(try w.emu("log").status == 0)
        let prune = try w.emu("prune", "TAIL")
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(try w.emu("log", "--short").stdout.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: w.sink + "/.emu/trees/" + older))
        try w.expectSuccess(w.emu("verify"))
    }

    @Test("clean --repair after a push killed between its manifest and its record dates the snapshot as the push did: it is HEAD, and no other date link moves")
    func repairAfterKilledPublish() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        let first = try #require(try w.trees().first)
        let firstLinks = try FileManager.default.contentsOfDirectory(atPath: w.sink).filter { $0 != "Latest" && !$0.hasPrefix(".") }
        sh("echo two > '\(w.source)/a'; touch -d '2001-01-01' '\(w.source)'")
        let killed = try w.emu("push", environment: ["EMU_CRASH_AT": "push.after-manifest"])
        #expect(killed.killed)
        try w.expectSuccess(w.emu("clean", "--repair"))
        let trees = try w.trees()
        #expect(trees.count == 2)
        let head = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(trees.last?.hasSuffix(head) == true && head != URL(fileURLWithPath: first).lastPathComponent, "the repaired snapshot is not HEAD")
        for link in firstLinks {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: w.sink + "/" + link).hasSuffix(URL(fileURLWithPath: first).lastPathComponent))
        }
        #expect(try String(contentsOfFile: w.sink + "/Latest/a", encoding: .utf8) == "two\n")
    }

    @Test("reading commands run while a push holds the sink; a deletion waits for readers, and a push's retention for the next push")
    func readersAndWriters() throws {
        let (w, older, _) = try Self.twoSnapshots()
        let writer = try LockHolder(w.sink + "/.emu/lock")
        for command in [["diff"], ["diff", "HEAD~1", "HEAD"], ["show", "HEAD:a"], ["verify"], ["checkout", "-n", "HEAD"], ["log"]] {
            let run = try w.emu(arguments: command)
            #expect(run.status == 0, "\(command) during a push: \(run.status) \(run.stderr)")
        }
        #expect(try w.emu("prune", "TAIL").status == 5, "a second writer waits")
        writer.release()
        let reader = try LockHolder(w.sink + "/.emu/nodes", shared: true)
        let prune = try w.emu("prune", "TAIL")
        #expect(prune.status == 5 && prune.stderr.contains("being read"), "\(prune.stderr)")
        try w.expectSuccess(w.emu("config", "--sink", "origin", "retention.keep-last", "1"))
        sh("echo three > '\(w.source)/a'")
        let push = try w.emu("push")
        #expect(push.status == 0 && push.stderr.contains("waits for the next push"), "\(push.stderr)")
        #expect(try w.trees().contains { $0.hasSuffix(older) }, "nothing was deleted under the reader")
        reader.release()
        try w.expectSuccess(w.emu("push"))
        #expect(try w.trees().count == 1)
    }
}
