import EmuPOSIX
import Foundation
import Glibc
import Testing

@Suite("diff, log, status, verify, retention, hooks, squash, clean, config")
struct CommandSetTests {
    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test("diff reports A, D, M, T, P and R, sorted by path, quoting odd names")
    func diffLetters() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["keep": .file("k"), "edit": .file("v1"), "gone": .file("g"), "mode": .file("m"),
                            "kind": .file("file"), "photos": .directory(["a.jpg": .file(String(repeating: "a", count: 5000))])], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("""
            cd '\(w.source)' && echo v2 > edit && rm gone && chmod 600 mode && rm kind && mkdir kind \
            && mv photos album && printf 'x' > "$(printf 'new\\tline')"
            """)
        let expected = ["R\talbum/a.jpg\tphotos/a.jpg".replacingOccurrences(of: "album/a.jpg\tphotos/a.jpg", with: "photos/a.jpg\talbum/a.jpg"),
                        "A\talbum", "M\tedit", "D\tgone", "T\tkind", "P\tmode", "A\t\"new\\tline\"", "D\tphotos"]
        let source = try w.emu("diff")
        #expect(source.status == 0)
        #expect(Set(lines(source.stdout)) == Set(expected))
        #expect(lines(source.stdout) == lines(source.stdout).sorted { a, b in
            func path(_ l: String) -> String { String(l.split(separator: "\t").last!) }
            return RelativePath(path(a).replacingOccurrences(of: "\"", with: "")) < RelativePath(path(b).replacingOccurrences(of: "\"", with: ""))
        })
        try w.expectSuccess(w.emu("push"))
        #expect(Set(lines(try w.emu("diff", "HEAD~1", "HEAD").stdout)) == Set(expected))
        #expect(try w.emu("diff").stdout.isEmpty)
        let stat = try w.emu("diff", "HEAD~1", "HEAD", "--stat").stdout
        #expect(stat.contains("2 added") && stat.contains("2 deleted") && stat.contains("1 renamed"))
        let json = lines(try w.emu("diff", "HEAD~1", "HEAD", "--json").stdout)
        let objects = try json.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(objects.contains { $0["status"] as? String == "R" && $0["old_path"] as? String == "photos/a.jpg" })
        #expect(lines(try w.emu("diff", "HEAD~1", "HEAD", "--", "edit").stdout) == ["M\tedit"])
    }

    @Test("diff between snapshots reads only their manifests, never their trees")
    func diffWithoutTrees() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("1")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("echo 2 > '\(w.source)/a' && echo n > '\(w.source)/b'")
        try w.expectSuccess(w.emu("push"))
        sh("mv '\(w.sink)/.emu/trees' '\(w.sink)/.emu/trees.away'")
        let run = try w.emu("diff", "HEAD~1", "HEAD")
        sh("mv '\(w.sink)/.emu/trees.away' '\(w.sink)/.emu/trees'")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(lines(run.stdout) == ["M\ta", "A\tb"])
    }

    @Test("log -- PATH lists only the snapshots in which PATH changed")
    func fileHistory() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["notes.txt": .file("v1"), "other": .file("o1")], at: w.source)
        try w.expectSuccess(w.emu("push", "-m", "one"))
        sh("echo o2 > '\(w.source)/other'")
        try w.expectSuccess(w.emu("push", "-m", "two"))
        sh("echo v2 > '\(w.source)/notes.txt'")
        try w.expectSuccess(w.emu("push", "-m", "three"))
        try w.expectSuccess(w.emu("push", "-m", "four"))
        let history = lines(try w.emu("log", "--short", "--", "notes.txt").stdout)
        #expect(history.count == 2)
        #expect(history[0].hasSuffix("three") && history[1].hasSuffix("one"))
        #expect(try w.emu("show", "HEAD~3:notes.txt").stdout == "v1")
    }

    @Test("log shows the bytes only each snapshot holds")
    func uniqueBytes() throws {
        let w = try Workspace().initialize()
        sh("head -c 40000 /dev/urandom > '\(w.source)/shared' && head -c 20000 /dev/urandom > '\(w.source)/changing'")
        try w.expectSuccess(w.emu("push"))
        sh("head -c 30000 /dev/urandom > '\(w.source)/changing'")
        try w.expectSuccess(w.emu("push"))
        let json = try w.loggedSnapshots()
        let unique = json.map { $0["unique_bytes"] as? Int64 ?? Int64($0["unique_bytes"] as? Int ?? -1) }
        // Each holds its own version of `changing` (allocated size); `shared` is in both.
        #expect(unique[0] >= 30000 && unique[0] < 40000)
        #expect(unique[1] >= 20000 && unique[1] < 30000)
        try w.expectSuccess(w.emu("prune", "HEAD"))
        let after = try w.loggedSnapshots()
        let left = after[0]["unique_bytes"] as? Int64 ?? Int64(after[0]["unique_bytes"] as? Int ?? -1)
        #expect(left >= 60000, "after its neighbour went, the shared file is this snapshot's alone")
    }

    @Test("status shows changes since the newest snapshot and warns when it is old")
    func status() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("1")], at: w.source)
        try w.expectSuccess(w.emu("push", "--date", "2020-01-01 10:00"))
        sh("echo 2 > '\(w.source)/a' && echo n > '\(w.source)/b'")
        let run = try w.emu("status")
        #expect(run.status == 0)
        #expect(run.stdout.contains("1 added") && run.stdout.contains("1 changed"))
        #expect(run.stderr.contains("warning"))
        try w.expectSuccess(w.emu("config", "status.max-age", "100000d"))
        #expect(!(try w.emu("status").stderr.contains("warning")))
    }

    @Test("verify finds a flipped byte, a truncated file, a changed mode, a missing and an extra file")
    func verifyDamage() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["flip": .file("abcdef"), "short": .file("0123456789"), "mode": .file("m"), "gone": .file("g"), "fine": .file("f")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        let clean = try w.emu("verify")
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        let tree = try #require(try w.trees().last)
        sh("""
            cd '\(tree)' && printf 'X' | dd of=flip bs=1 seek=2 conv=notrunc status=none && truncate -s 4 short \
            && chmod 600 mode && rm gone && echo intruder > extra
            """)
        let run = try w.emu("verify")
        #expect(run.status == 4)
        for expected in ["content: flip", "size: short", "mode: mode", "missing: gone", "extra: extra"] {
            #expect(run.stdout.contains(expected), "verify should report \(expected): \(run.stdout)")
        }
        #expect(!run.stdout.contains("fine"))
        #expect(try w.emu("log").stdout.contains("DAMAGED"))
        // The one-line log and status say it too: neither reads like a healthy snapshot's.
        #expect(try w.emu("log", "--short").stdout.contains("complete, DAMAGED (emu verify)"))
        let status = try w.emu("status")
        #expect(status.stdout.contains("origin\tonline, DAMAGED (snapshot "), "\(status.stdout)")
        #expect(try w.emu("verify", "--sample", "50").status == 4)
    }

    @Test("rotation after a push and prune SINK keep exactly what the policy says")
    func retention() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("1")], at: w.source)
        try w.expectSuccess(w.emu("config", "--sink", "origin", "retention.keep-daily", "3"))
        for day in ["2026-01-01", "2026-01-02", "2026-01-02", "2026-01-03", "2026-01-04"].enumerated() {
            try w.expectSuccess(w.emu("push", "--date", "\(day.element) 1\(day.offset):00"))
        }
        let kept = lines(try w.emu("log", "--short").stdout).map { String($0.dropFirst(14).prefix(10)) }
        #expect(kept == ["2026-01-04", "2026-01-03", "2026-01-02"])
        let explain = try w.emu("prune", "origin", "--keep-last", "1", "-n", "-v")
        #expect(explain.status == 0)
        #expect(explain.stdout.contains("keep   2026-01-04") && explain.stdout.contains("would remove 2026-01-02"))
        #expect(lines(try w.emu("log", "--short").stdout).count == 3)
        try w.expectSuccess(w.emu("prune", "origin", "--keep-last", "1"))
        #expect(lines(try w.emu("log", "--short").stdout).count == 1)
        #expect(try w.emu("prune", "origin", "--keep-daily", "soon").status == 2)
    }

    @Test("hooks: a failing .pre cancels the push; .post and .error hear how it went")
    func hooks() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("1")], at: w.source)
        let log = w.root + "/hooks.log"
        let hooks = w.source + "/.emu/hooks/push/"
        try "#!/bin/sh\necho \"post $EMU_SINK $EMU_STATUS $EMU_SNAPSHOT\" >> '\(log)'\n".write(toFile: hooks + "a.post", atomically: false, encoding: .utf8)
        try "#!/bin/sh\necho \"error $EMU_SINK $EMU_STATUS\" >> '\(log)'\n".write(toFile: hooks + "a.error", atomically: false, encoding: .utf8)
        try "#!/bin/sh\n[ -e '\(w.root)/allow' ]\n".write(toFile: hooks + "gate.pre", atomically: false, encoding: .utf8)
        sh("chmod +x '\(hooks)'*.post '\(hooks)'*.error '\(hooks)'*.pre")
        let refused = try w.emu("push")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("gate.pre"))
        #expect(try w.emu("log", "--short").stdout.isEmpty)
        sh("touch '\(w.root)/allow'")
        try w.expectSuccess(w.emu("push"))
        let heard = lines(try String(contentsOfFile: log, encoding: .utf8))
        #expect(heard.count == 2)
        #expect(heard[0] == "error origin failed")
        #expect(heard[1].hasPrefix("post origin complete ") && heard[1].count > 30)
    }

    @Test("squash keeps only the named snapshots")
    func squash() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("1")], at: w.source)
        for i in 0..<4 {
            sh("echo \(i) > '\(w.source)/a'")
            try w.expectSuccess(w.emu("push", "-m", "s\(i)"))
        }
        try w.expectSuccess(w.emu("squash", "HEAD", "TAIL"))
        let left = lines(try w.emu("log", "--short").stdout)
        #expect(left.count == 2 && left[0].hasSuffix("s3") && left[1].hasSuffix("s0"))
    }

    @Test("clean removes leftovers and orphans; --repair rebuilds manifests and records")
    func clean() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("1"), "d": .directory(["b": .file("2")])], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("echo 3 > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        let trees = try w.trees()
        let (oldID, newID) = (URL(fileURLWithPath: trees[0]).lastPathComponent, URL(fileURLWithPath: trees[1]).lastPathComponent)
        sh("""
            cd '\(w.sink)/.emu' && mkdir -p staging/tree trash/x && touch LOCK && echo garbage > manifests/\(oldID) \
            && mv nodes/\(newID) ../node.bak
            """)
        try w.expectSuccess(w.emu("clean", "--repair"))
        for leftover in ["staging", "LOCK", "trash/x"] {
            #expect(!FileManager.default.fileExists(atPath: w.sink + "/.emu/" + leftover), "\(leftover) should be gone")
        }
        #expect(lines(try w.emu("log", "--short").stdout).count == 2)
        let verify = try w.emu("verify")
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(try w.emu("show", "HEAD:a").stdout == "3\n")
        sh("rm -rf '\(w.sink)/.emu/trees/\(oldID)'")
        try w.expectSuccess(w.emu("clean"))
        #expect(lines(try w.emu("log", "--short").stdout).count == 1)
    }

    @Test("config reads, sets and unsets source and sink settings as git does")
    func config() throws {
        let w = try Workspace().initialize()
        #expect(try w.emu("config", "emu.default-sink").stdout == "origin\n")
        try w.expectSuccess(w.emu("config", "--sink", "origin", "retention.keep-weekly", "4"))
        #expect(try w.emu("config", "--sink", "origin", "retention.keep-weekly").stdout == "4\n")
        #expect(try w.emu("config", "--sink", "origin").stdout.contains("retention.keep-weekly=4"))
        try w.expectSuccess(w.emu("config", "--sink", "origin", "--unset", "retention.keep-weekly"))
        #expect(try w.emu("config", "--sink", "origin", "retention.keep-weekly").status == 1)
        #expect(try w.emu("config", "nodot").status == 2)
        #expect(try w.emu("config", "--sink", "ghost", "a.b").status == 2)
    }

    @Test("a sink made by emu 0.2.5 can be logged, shown, diffed, checked out, pruned and pushed to")
    func legacySink() throws {
        let w = try Workspace()
        let old = w.root + "/old"
        try Fixture.create(["a": .file("one"), "d": .directory(["b": .file("two")])], at: w.source)
        LegacySink.snapshot(of: w.source, in: old, id: LegacySink.firstID, name: "2026-01-05 10.00.00", parent: "")
        sh("echo one-changed > '\(w.source)/a'")
        LegacySink.snapshot(of: w.source, in: old, id: LegacySink.secondID, name: "2026-01-06 10.00.00", parent: LegacySink.firstID)
        LegacySink.configure(old)
        try w.expectSuccess(w.emu("init"))
        try w.expectSuccess(w.emu("sink", "add", "old", old))
        #expect(lines(try w.emu("log", "--short").stdout).count == 2)
        #expect(try w.emu("show", "HEAD~1:a").stdout == "one")
        #expect(lines(try w.emu("diff", "HEAD~1", "HEAD").stdout) == ["M\ta"])
        sh("echo three > '\(w.source)/new'")
        try w.expectSuccess(w.emu("push"))
        let trees = try w.trees(of: "old", at: old)
        try #require(trees.count == 3)
        #expect(inode(trees[1] + "/d/b") == inode(trees[2] + "/d/b"), "the next push links unchanged files")
        let latest = URL(fileURLWithPath: old + "/Most Recent Backup").resolvingSymlinksInPath().path
        #expect(latest == URL(fileURLWithPath: trees[2]).resolvingSymlinksInPath().path)
        try w.expectSuccess(w.emu("checkout", "HEAD~2"))
        #expect(try String(contentsOfFile: w.source + "/a", encoding: .utf8) == "one")
        #expect(!FileManager.default.fileExists(atPath: w.source + "/new"))
        try w.expectSuccess(w.emu("prune", "TAIL"))
        #expect(lines(try w.emu("log", "--short").stdout).count == 2)
    }

    @Test("every command's -n changes nothing in the sink or the source")
    func dryRuns() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("1"), "b": .file("2")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("echo changed > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        sh("echo again > '\(w.source)/a' && rm '\(w.source)/.emu/excludes' && mkdir -p '\(w.sink)/.emu/staging'")
        let sinkBefore = try describeTree(w.sink)
        let sourceBefore = try describeTree(w.source)
        for arguments in [["push", "-n"], ["checkout", "HEAD~1", "-n", "-f"], ["prune", "TAIL", "-n"], ["prune", "origin", "--keep-last", "1", "-n"],
                          ["squash", "HEAD", "-n"], ["clean", "-n", "--repair"], ["config", "--sink", "origin", "retention.keep-last", "1", "-n"],
                          ["sink", "add", "more", w.root + "/more", "-n"], ["sink", "rm", "origin", "-n"], ["sink", "default", "origin", "-n"],
                          ["init", "-n", "-f"]] {
            let run = try w.emu(arguments: arguments)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            expectSameTrees(sinkBefore, try describeTree(w.sink))
            expectSameTrees(sourceBefore, try describeTree(w.source))
        }
        #expect(!FileManager.default.fileExists(atPath: w.root + "/more"))
    }

    @Test("bad references and unknown sinks in the new commands exit 2 naming the text", arguments: [
        ["diff", "nosuch:HEAD"], ["diff", "HEAD", "zz!"], ["verify", "HEAD~9"], ["squash", "ghost:HEAD"], ["clean", "ghost"], ["log", "wat"],
    ])
    func usage(arguments: [String]) throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("1")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        let run = try w.emu(arguments: arguments)
        #expect(run.status == 2, "\(arguments): \(run.stderr)")
        #expect(arguments.dropFirst().contains { run.stderr.contains($0.split(separator: ":").first.map(String.init) ?? $0) })
    }
}
