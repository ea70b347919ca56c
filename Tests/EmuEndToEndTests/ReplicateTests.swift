import EmuPOSIX
import Foundation
import Glibc
import Testing

/// `emu replicate FROM TO` between sinks on this machine (issue 27): every
/// snapshot FROM holds and TO lacks arrives with its ID, date, message,
/// status, tree and manifest; TO shares inodes between snapshots as FROM
/// does; a run after one push copies one snapshot.
@Suite("replicate between local sinks")
struct ReplicateTests {
    /// A source of every kind of entry, pushed three times with a change, a
    /// renamed directory, a copied file, a metadata-only change and a deletion between.
    static func history(_ w: Workspace) throws {
        try w.expectSuccess(w.emu("init"))
        try w.expectSuccess(w.emu("sink", "add", "usb1", w.sink))
        try PushCheckoutTests.richSource(w)
        try Fixture.create(["photos": .directory(["one.jpg": .file(String(repeating: "p", count: 70_000)), "two.jpg": .file("second")])],
                           at: w.source)
        try w.expectSuccess(w.emu("push", "-m", "first", "--date", "2026-01-01 10:00"))
        #expect(sh("""
            cd '\(w.source)' && echo changed >> plain.txt && mv photos pictures && cp pictures/one.jpg pictures/copy.jpg \
            && chmod 600 exec.sh && rm empty && setfattr -n user.new -v v pictures/two.jpg
            """) == 0)
        try w.expectSuccess(w.emu("push", "-m", "second", "--date", "2026-01-02 10:00"))
        #expect(sh("cd '\(w.source)' && touch -d '2021-01-01' pictures/copy.jpg && echo more > added") == 0)
        try w.expectSuccess(w.emu("push", "-m", "third", "--date", "2026-01-03 10:00"))
    }

    /// `history` in usb1, and an empty sink usb2 beside it (its path returned).
    static func historyAndSecondSink() throws -> (Workspace, String) {
        let w = try Workspace("emu-replicate")
        try history(w)
        let usb2 = w.root + "/usb2"
        try w.expectSuccess(w.emu("sink", "add", "usb2", usb2))
        return (w, usb2)
    }

    /// IDs of a sink's snapshots, oldest first, with their records' dates, messages and statuses.
    static func listed(_ w: Workspace, _ sink: String) throws -> [String] {
        try w.loggedSnapshots(sink).reversed().map { "\($0["id"]!) \($0["date"]!) \($0["message"] ?? "") \($0["status"]!)" }
    }

    /// For each pair of consecutive snapshots, the paths whose inode the later shares with the earlier.
    static func sharing(_ trees: [String]) throws -> [[RelativePath]] {
        zip(trees, trees.dropFirst()).map { earlier, later in
            let paths = (try? describeTree(later).filter { $0.value.kind == .regular }.map(\.key)) ?? []
            return paths.filter { inode(later + "/" + $0.description) == inode(earlier + "/" + $0.description) }.sorted()
        }
    }

    /// Compares two sinks snapshot by snapshot: the same records, trees and manifests, and the same inodes shared.
    static func expectSameHistory(_ w: Workspace, _ from: (name: String, path: String), _ to: (name: String, path: String)) throws {
        #expect(try listed(w, from.name) == listed(w, to.name))
        let (fromTrees, toTrees) = (try w.trees(of: from.name, at: from.path), try w.trees(of: to.name, at: to.path))
        for (original, copy) in zip(fromTrees, toTrees) {
            expectSameTrees(try describeTree(original), try describeTree(copy))
            let id = URL(fileURLWithPath: copy).lastPathComponent
            #expect(sh("cmp '\(from.path)/.emu/manifests/\(id)' '\(to.path)/.emu/manifests/\(id)'") == 0, "the manifest of \(id) is the original's")
        }
        #expect(try sharing(fromTrees) == sharing(toTrees), "consecutive snapshots share the same inodes in both sinks")
    }

    /// Bytes a sink's files occupy, each inode once.
    static func occupied(_ path: String) -> Int64 {
        let out = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/du")
        process.arguments = ["-s", "-B1", path]
        process.standardOutput = out
        try? process.run()
        process.waitUntilExit()
        return Int64(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\t").first ?? "") ?? -1
    }

    @Test("every snapshot arrives whole and in order: records, trees, manifests, inode sharing; TO verifies clean and is as small as FROM")
    func wholeHistory() throws {
        let (w, usb2) = try Self.historyAndSecondSink()
        let run = try w.emu("replicate", "usb1", "usb2", "--json")
        try w.expectSuccess(run)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((document["snapshots"] as? [Any])?.count == 3 && document["already_held"] as? Int == 0, "\(run.stdout)")
        try Self.expectSameHistory(w, ("usb1", w.sink), ("usb2", usb2))
        try w.expectSuccess(w.emu("verify", "usb2"))
        let (fromBytes, toBytes) = (Self.occupied(w.sink), Self.occupied(usb2))
        #expect(abs(Double(toBytes - fromBytes)) <= 0.02 * Double(fromBytes), "TO occupies \(toBytes) bytes, FROM \(fromBytes)")
        // The renamed folder's and the copied file's bytes are stored once in TO too.
        let third = try #require(try w.trees(of: "usb2", at: usb2).last)
        #expect(inode(third + "/pictures/one.jpg") == inode(try w.trees(of: "usb2", at: usb2)[0] + "/photos/one.jpg"))
    }

    @Test("a run after one more push copies that snapshot alone; a run with nothing new copies nothing")
    func incremental() throws {
        let (w, usb2) = try Self.historyAndSecondSink()
        try w.expectSuccess(w.emu("replicate", "usb1", "usb2", "-q"))
        #expect(sh("echo fourth > '\(w.source)/plain.txt'") == 0)
        try w.expectSuccess(w.emu("push", "usb1", "-m", "fourth"))
        let planned = try w.emu("replicate", "usb1", "usb2", "-n")
        try w.expectSuccess(planned)
        #expect(planned.stdout.contains("would copy 1 snapshot (3 snapshots usb2 holds already); at most 1 file, 7 B"), "\(planned.stdout)")
        let run = try w.emu("replicate", "usb1", "usb2", "--json")
        try w.expectSuccess(run)
        #expect(run.stdout.contains(#""already_held":3"#) && run.stdout.contains(#""files_sent":1"#) && run.stdout.contains(#""bytes_sent":7"#),
                "\(run.stdout)")
        // Linked by their place in the newest copy's manifest: all but the changed file and the two later names of hard-a.
        let copied = try #require((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["snapshots"] as? [[String: Any]])
        #expect(copied.first?["files_unchanged"] as? Int == (copied.first?["files"] as? Int ?? 0) - 3, "\(run.stdout)")
        try Self.expectSameHistory(w, ("usb1", w.sink), ("usb2", usb2))
        let again = try w.emu("replicate", "usb1", "usb2", "--json")
        #expect(again.stdout.contains(#""snapshots":[]"#) && again.stdout.contains(#""already_held":4"#), "\(again.stdout)")
    }

    @Test("named snapshots alone, then the older ones after them: HEAD stays the newest, and the history is whole")
    func namedThenOlder() throws {
        let (w, usb2) = try Self.historyAndSecondSink()
        try w.expectSuccess(w.emu("replicate", "usb1", "usb2", "HEAD", "-q"))
        #expect(try w.loggedSnapshots("usb2").map { $0["message"] as? String } == ["third"])
        try w.expectSuccess(w.emu("replicate", "usb1", "usb2", "-q"))
        let log = try w.loggedSnapshots("usb2")
        #expect(log.map { $0["message"] as? String } == ["third", "second", "first"] && log.first?["head"] as? Bool == true, "\(log)")
        try Self.expectSameHistory(w, ("usb1", w.sink), ("usb2", usb2))
        try w.expectSuccess(w.emu("verify", "usb2"))
    }

    @Test("TO keeps its own retention: with --prune only what its policy keeps is copied, then the policy applies; FROM keeps all")
    func ownRetention() throws {
        let (w, _) = try Self.historyAndSecondSink()
        try w.expectSuccess(w.emu("config", "--sink", "usb2", "retention.keep-last", "2"))
        let run = try w.emu("replicate", "usb1", "usb2", "--prune", "--json")
        try w.expectSuccess(run)
        #expect(run.stdout.contains(#""message":"first""#) && run.stdout.contains(#""left_to_policy":[{"#), "\(run.stdout)")
        #expect(try w.loggedSnapshots("usb2").map { $0["message"] as? String } == ["third", "second"])
        #expect(try w.loggedSnapshots("usb1").count == 3, "nothing is deleted from FROM")
        let again = try w.emu("replicate", "usb1", "usb2", "--prune", "--json")
        #expect(again.stdout.contains(#""snapshots":[]"#), "what the policy expires is not copied again: \(again.stdout)")
        try w.expectSuccess(w.emu("verify", "usb2"))
    }

    @Test("a sink of emu 0.2.5 replicates: its snapshots keep their IDs, trees and xattrs")
    func legacySink() throws {
        let w = try Workspace("emu-replicate")
        try w.expectSuccess(w.emu("init"))
        #expect(sh("cd '\(w.source)' && echo a > a && mkdir d && echo b > d/b && setfattr -n user.k -v 1 d/b") == 0)
        LegacySink.snapshot(of: w.source, in: w.sink, id: LegacySink.firstID, name: "2026-01-05 10.00.00", parent: "")
        #expect(sh("echo changed > '\(w.source)/a'") == 0)
        LegacySink.snapshot(of: w.source, in: w.sink, id: LegacySink.secondID, name: "2026-01-06 10.00.00", parent: LegacySink.firstID)
        LegacySink.configure(w.sink)
        try w.expectSuccess(w.emu("sink", "add", "old", w.sink))
        let copy = w.root + "/copy"
        try w.expectSuccess(w.emu("replicate", "old", copy, "-q"))
        for id in [LegacySink.firstID, LegacySink.secondID] {
            expectSameTrees(try describeTree(w.sink + "/.emu/trees/" + id), try describeTree(copy + "/.emu/trees/" + id))
        }
        #expect(inode(copy + "/.emu/trees/\(LegacySink.firstID)/d/b") == inode(copy + "/.emu/trees/\(LegacySink.secondID)/d/b"),
                "an unchanged file is linked between the copies")
        #expect(sh("cd / && '\(EmuBinary.path)' verify '\(copy)' -q") == 0)
    }

    @Test("imported snapshots replicate with their trees, and the copy links what the next one did not change")
    func importedSnapshots() throws {
        let w = try Workspace("emu-replicate")
        try w.expectSuccess(w.emu("init"))
        try w.expectSuccess(w.emu("sink", "add", "usb1", w.sink))
        let (old, older) = (w.root + "/backups/2025-01-01", w.root + "/backups/2025-02-01")
        #expect(sh("mkdir -p '\(old)/d' && echo kept > '\(old)/d/kept' && echo one > '\(old)/f' && cp -a '\(old)' '\(older)' && echo two > '\(older)/f'") == 0)
        try w.expectSuccess(w.emu("import", "dirs", old, older))
        let usb2 = w.root + "/usb2"
        try w.expectSuccess(w.emu("sink", "add", "usb2", usb2))
        try w.expectSuccess(w.emu("replicate", "usb1", "usb2", "-q"))
        try Self.expectSameHistory(w, ("usb1", w.sink), ("usb2", usb2))
        let trees = try w.trees(of: "usb2", at: usb2)
        #expect(trees.count == 2 && inode(trees[0] + "/d/kept") == inode(trees[1] + "/d/kept"))
    }

    @Test("a full TO fails cleanly: exit 1, the snapshots copied before it intact, no partial one, its space given back")
    func fullTarget() throws {
        let w = try Workspace("emu-replicate")
        try w.expectSuccess(w.emu("init"))
        try w.expectSuccess(w.emu("sink", "add", "usb1", w.sink))
        writeRandomFiles(w.source + "/a", count: 4, kilobytes: 1024)
        try w.expectSuccess(w.emu("push", "-q", "--date", "2026-01-01 10:00"))
        // Many files: the disk fills while the copy still asks about later ones, so that it hears of it there and leaves.
        writeRandomFiles(w.source + "/b", count: 800, kilobytes: 16)
        try w.expectSuccess(w.emu("push", "-q", "--date", "2026-01-02 10:00"))
        guard let fs = ScratchFilesystem("tmpfs", megabytes: 10, in: w) else { try Skips.skip("needs a tmpfs mount (root)") }
        let to = fs.mountPoint + "/sink"
        let free = fs.freeBytes
        let run = try w.emu("replicate", "usb1", to)
        #expect(run.status == 1 && run.stderr.contains("space"), "\(run.status) \(run.stderr)")
        #expect(sh("cd / && '\(EmuBinary.path)' log '\(to)' --oneline | wc -l | grep -qx 1") == 0, "the first snapshot arrived whole")
        #expect(sh("test ! -e '\(to)/.emu/staging'") == 0, "no partial snapshot is left")
        #expect(fs.freeBytes > free - 6 << 20, "the failed copy's space is given back: \(fs.freeBytes) of \(free)")
        #expect(sh("cd / && '\(EmuBinary.path)' verify '\(to)' -q") == 0)
    }

    @Test("emu sink and status say which snapshots one disk lacks of the other; after replicate neither lacks any")
    func severalDisksLack() throws {
        let w = try Workspace("emu-replicate")
        let (usb1, usb2) = (w.root + "/usb1", w.root + "/usb2")
        try w.expectSuccess(w.emu("init"))
        try w.expectSuccess(w.emu("sink", "add", "usb1", usb1))
        try w.expectSuccess(w.emu("sink", "add", "usb2", usb2))
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("push", "--date", "2026-01-01 10:00", "-q"))
        SeveralDisksTests.unplug(usb2)
        for day in ["02", "03"] {
            #expect(sh("echo \(day) > '\(w.source)/a'") == 0)
            try w.expectSuccess(w.emu("push", "--date", "2026-01-\(day) 10:00", "-q"))
        }
        SeveralDisksTests.plug(usb2)
        let lacking = "usb2 lacks 2 snapshots of usb1 (`emu replicate usb1 usb2` copies them)"
        let sinks = try w.emu("sink")
        #expect(sinks.stdout.contains(lacking) && !sinks.stdout.contains("usb1 lacks"), "\(sinks.stdout)")
        #expect(try w.emu("status").stdout.contains(lacking))
        let json = try w.emu("sink", "--json")
        let rows = try #require((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["sinks"] as? [[String: Any]])
        #expect(rows.map { $0["lacks"] as? [String: Int] } == [[:], ["usb1": 2]], "\(json.stdout)")
        try w.expectSuccess(w.emu("replicate", "usb1", "usb2", "-q"))
        let (after, status) = (try w.emu("sink").stdout, try w.emu("status").stdout)
        #expect(!after.contains("lacks") && !status.contains("lacks"), "\(after)\(status)")
    }

    @Test("what cannot be replicated says why: the same sink twice, no sink at FROM, a dry run into no sink, a TO that holds something else, another source's TO")
    func refusals() throws {
        let w = try Workspace("emu-replicate")
        try Self.history(w)
        let same = try w.emu("replicate", "usb1", w.sink)
        #expect(same.status == 2 && same.stderr.contains("the same sink"), "\(same.stderr)")
        let missing = try w.emu("replicate", w.root + "/nothing", "usb1")
        #expect(missing.status == 2 && missing.stderr.contains("there is no sink at"), "\(missing.stderr)")
        #expect(sh("mkdir '\(w.root)/busy' && echo mine > '\(w.root)/busy/file'") == 0)
        let planned = try w.emu("replicate", "usb1", w.root + "/new", "-n")
        #expect(planned.status == 2 && planned.stderr.contains("is not a sink yet") && sh("test ! -e '\(w.root)/new'") == 0, "\(planned.stderr)")
        let busy = try w.emu("replicate", "usb1", w.root + "/busy")
        #expect(busy.status == 2 && busy.stderr.contains("is not empty and is not an emu sink"), "\(busy.stderr)")
        let other = try Workspace("emu-replicate")
        try other.expectSuccess(other.emu("init"))
        try other.expectSuccess(other.emu("sink", "add", "theirs", other.sink))
        #expect(sh("echo x > '\(other.source)/x'") == 0)
        try other.expectSuccess(other.emu("push", "-q"))
        let foreign = try w.emu("replicate", "usb1", other.sink)
        #expect(foreign.status != 0 && foreign.stderr.contains("another source"), "\(foreign.stderr)")
        #expect(try other.loggedSnapshots("theirs").count == 1, "the other source's sink is unchanged")
    }
}
