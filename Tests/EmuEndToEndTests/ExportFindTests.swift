import EmuPOSIX
import Foundation
import Glibc
import Testing

/// `emu export REF --tar` and `emu find PATTERN` (issue 15): a snapshot
/// goes out as an archive that tar alone restores, and every snapshot
/// holding a path is one command away.
@Suite("export and find")
struct ExportFindTests {
    /// A source with everything an archive must carry, pushed once.
    static func richSource() throws -> Workspace {
        let w = try Workspace().initialize()
        let long = String(repeating: "n", count: 150)
        try Fixture.create(["d": .directory([
            "a.txt": .file("hello"), "sub": .directory(["hard": .hardlink("d/a.txt"), "link": .symlink("../a.txt")]),
            "sparse": .sparse(size: 8 << 20, data: [(4 << 20, "middle"), ((8 << 20) - 3, "end")]),
            "tail-hole": .sparse(size: 1 << 20, data: [(0, "head")]),
            "fifo": .fifo, FileName(long): .directory([FileName(long + ".txt"): .file("long")]),
        ])], at: w.source)
        #expect(sh("""
            cd '\(w.source)/d' && printf 'bin' > "$(printf 'caf\\351')" && mknod null c 1 3 \
            && setfattr -n user.color -v blue a.txt && setfacl -m u:65534:r a.txt && setfacl -d -m u:65534:rx sub \
            && touch -h -d '2001-02-03 04:05:06.123456789' a.txt sub/link && chown -h 1234:5678 sub/link
            """) == 0)
        try w.expectSuccess(w.emu("push"))
        return w
    }

    @Test("GNU tar and bsdtar read an export back to the snapshot's tree: names, xattrs, ACLs, hardlinks, holes")
    func tarReadsItBack() throws {
        let w = try Self.richSource()
        try w.expectSuccess(w.emu("export", "HEAD", "--tar", "--to", w.root + "/snap.tar"))
        let snapshot = try describeTree(try #require(try w.trees().last))
        for (reader, extract) in [("gnu", "tar --xattrs --xattrs-include='*' --acls -xpf"), ("bsd", "bsdtar --xattrs --acls -xpf")] {
            let out = w.root + "/out-" + reader
            #expect(sh("mkdir '\(out)' && \(extract) '\(w.root)/snap.tar' -C '\(out)'") == 0, "\(reader)")
            // The archive holds the snapshot's entries, not its root: that one is made by tar.
            let restored = try describeTree(out, ignoring: [.root])
            expectSameTrees(snapshot.filter { !$0.key.isRoot }, restored)
            #expect(restored[RelativePath("d/sparse")]?.isSparse == true, "\(reader) kept the holes")
        }
        // Through stdout, one directory of it.
        let piped = try w.bash("\"$EMU\" export HEAD d/sub | tar -tvf -")
        #expect(piped.status == 0)
        #expect(piped.stdout.contains("d/sub/hard") && piped.stdout.contains("d/sub/link -> ../a.txt") && !piped.stdout.contains(" d/a.txt"),
                "\(piped.stdout)")
        // d/sub/hard's first name, d/a.txt, is not exported: the file itself is.
        #expect(piped.stdout.contains("-rw-r--r-- 0/0               5"), "\(piped.stdout)")
    }

    @Test("export refuses a terminal, an existing file without --force, and a path the snapshot lacks")
    func exportRefusals() throws {
        let w = try Self.richSource()
        try w.expectSuccess(w.emu("export", "HEAD", "--to", w.root + "/x.tar"))
        let again = try w.emu("export", "HEAD", "--to", w.root + "/x.tar")
        #expect(again.status == 2 && again.stderr.contains("already exists") && again.stderr.contains("--force"), "\(again.stderr)")
        try w.expectSuccess(w.emu("export", "HEAD", "--to", w.root + "/x.tar", "--force"))
        let missing = try w.emu("export", "HEAD", "nope", "--to", w.root + "/y.tar")
        #expect(missing.status == 2 && missing.stderr.contains("'nope' is not in snapshot"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: w.root + "/y.tar"))
        // Its fix lines name the sink, and run as given (the old one dropped the sink and failed).
        #expect(try w.runFixes(of: missing).allSatisfy { $0.status == 0 })
        let terminal = try w.bash("script -qec '\"$EMU\" export HEAD' /dev/null")
        #expect(terminal.stdout.contains("standard output is a terminal"), "\(terminal.stdout)")
    }

    @Test("find lists every snapshot holding a matching path, with size and date; JSON Lines; exit 1 on none")
    func findAcrossSnapshots() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["docs": .directory(["report.odt": .file("r1"), "notes.txt": .file("n")]), "top.odt": .file("t")], at: w.source)
        try w.expectSuccess(w.emu("push", "--date", "2026-01-01 10:00"))
        #expect(sh("rm '\(w.source)/top.odt' && echo longer-report > '\(w.source)/docs/report.odt'") == 0)
        try w.expectSuccess(w.emu("push", "--date", "2026-01-02 10:00"))

        let names = try w.emu("find", "*.odt")
        try w.expectSuccess(names)
        #expect(names.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) } == [
            ["origin:2026-01-01 10.00.00Z", "2026-01-01 10:00:00", "2 B", "docs/report.odt"],
            ["origin:2026-01-01 10.00.00Z", "2026-01-01 10:00:00", "1 B", "top.odt"],
            ["origin:2026-01-02 10.00.00Z", "2026-01-02 10:00:00", "14 B", "docs/report.odt"],
        ], "\(names.stdout)")
        let anchored = try w.emu("find", "/docs/*.txt", "--json")
        let lines = anchored.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(first?["path"] as? String == "docs/notes.txt" && first?["type"] as? String == "file" && first?["size"] as? Int == 1)
        let none = try w.emu("find", "*.pdf")
        #expect(none.status == 1 && none.stdout.isEmpty && none.stderr.contains("no snapshot holds"), "\(none.stderr)")
        let badSink = try w.emu("find", "*.odt", "--sink", "nosuch")
        #expect(badSink.status == 2, "\(badSink.stderr)")
    }
}
