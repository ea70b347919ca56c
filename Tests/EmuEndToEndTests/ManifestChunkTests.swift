import EmuPOSIX
import Foundation
import Glibc
import Testing

/// A sink keeps each manifest as a list of compressed chunks stored once
/// (issue 14): a push that changed nothing adds a list, not another copy
/// of every record, and what no manifest lists any more goes.
@Suite("manifests in chunks")
struct ManifestChunkTests {
    /// A workspace whose source holds 3,000 files in 30 directories, pushed once.
    static func pushedTree() throws -> Workspace {
        let w = try Workspace().initialize()
        #expect(sh("cd '\(w.source)' && for d in $(seq 30); do mkdir d$d && for f in $(seq 100); do echo $d.$f > d$d/file-$f; done; done") == 0)
        try w.expectSuccess(w.emu("push"))
        return w
    }

    /// The chunk files in the sink's store.
    static func chunks(_ w: Workspace) throws -> Set<String> {
        let store = w.sink + "/.emu/chunks"
        var names: Set<String> = []
        for bucket in try FileManager.default.contentsOfDirectory(atPath: store) {
            for name in try FileManager.default.contentsOfDirectory(atPath: store + "/" + bucket) { names.insert(name) }
        }
        return names
    }

    static func headManifestSize(_ w: Workspace) throws -> Int {
        let head = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return Int(try FileManager.default.attributesOfItem(atPath: w.sink + "/.emu/manifests/" + head)[.size] as! NSNumber)
    }

    @Test("a push that changed nothing adds no chunk, one changed file adds a chunk or two, and prune takes back what only its manifest listed")
    func storedOnce() throws {
        let w = try Self.pushedTree()
        let first = try Self.chunks(w)
        // 3,061 records are about 400 kB of text: many chunks, each far smaller.
        #expect(first.count >= 8, "\(first.count) chunks")
        try w.expectSuccess(w.emu("push"))
        #expect(try Self.chunks(w) == first)
        #expect(try Self.headManifestSize(w) < 3_000, "a list of \(first.count) chunks should be a few lines")

        sh("echo changed > '\(w.source)/d17/file-50'")
        try w.expectSuccess(w.emu("push"))
        let changed = try Self.chunks(w)
        #expect(changed.isSuperset(of: first) && (1...2).contains(changed.count - first.count), "\(changed.count - first.count) new chunks")
        let diff = try w.emu("diff", "HEAD~1", "HEAD")
        #expect(diff.stdout == "M\td17/file-50\n", "\(diff.stdout)")
        try w.expectSuccess(w.emu("verify"))

        try w.expectSuccess(w.emu("prune", "HEAD"))
        #expect(try Self.chunks(w) == first)
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", w.root + "/restored"))
        expectSameTrees(try describeTree(try #require(try w.trees().last)), try describeTree(w.root + "/restored"))
        #expect(try String(contentsOfFile: w.root + "/restored/d17/file-50", encoding: .utf8) == "17.50\n")
    }

    @Test("diff of two snapshots leaves the chunks both list unread")
    func diffSkipsSharedChunks() throws {
        let w = try Self.pushedTree()
        sh("echo changed > '\(w.source)/d17/file-50'")
        try w.expectSuccess(w.emu("push"))
        // The second chunk of both lists (records of d1/ and d10/): the same on both sides.
        #expect(sh("""
            cd '\(w.sink)/.emu' && h=$(sed -n 3p manifests/$(cat HEAD) | cut -c1-64) && [ $(grep -l $h manifests/* | wc -l) = 2 ] \
              && mv chunks/$(printf %.2s $h)/$h '\(w.root)/moved'
            """) == 0)
        let diff = try w.emu("diff", "HEAD~1", "HEAD")
        #expect(diff.status == 0 && diff.stdout == "M\td17/file-50\n", "\(diff.stdout)\(diff.stderr)")
        let verify = try w.emu("verify")
        #expect(verify.status != 0 && (verify.stdout + verify.stderr).contains("is missing"), "verify reads every chunk: \(verify.stdout)")
    }

    @Test("clean removes chunks no manifest lists, and a push killed after storing its chunks is resumed")
    func orphansAndKills() throws {
        let w = try Self.pushedTree()
        let first = try Self.chunks(w)
        sh("cd '\(w.source)' && for f in $(seq 300); do echo new $f > d3/new-$f; done")
        let killed = try w.emu("push", environment: ["EMU_CRASH_AT": "push.after-chunks"])
        #expect(killed.killed)
        #expect(try Self.chunks(w).count > first.count)
        try w.expectSuccess(w.emu("push"))
        try w.expectSuccess(w.emu("verify"))
        let orphan = w.sink + "/.emu/chunks/00/" + String(repeating: "0", count: 64)
        sh("mkdir -p '\(w.sink)/.emu/chunks/00' && echo planted > '\(orphan)'")
        let clean = try w.emu("clean")
        #expect(clean.status == 0 && (clean.stdout + clean.stderr).contains("1 manifest chunk no manifest lists"), "\(clean.stdout)\(clean.stderr)")
        #expect(!FileManager.default.fileExists(atPath: orphan))
        try w.expectSuccess(w.emu("verify"))
    }

    @Test("a damaged chunk makes verify fail, and clean --repair rebuilds the manifests that list it")
    func damagedChunkRepaired() throws {
        let w = try Self.pushedTree()
        try w.expectSuccess(w.emu("push"))
        // The second chunk, which both manifests list: garbage in it damages both.
        #expect(sh("""
            cd '\(w.sink)/.emu' && h=$(sed -n 3p manifests/$(cat HEAD) | cut -c1-64) && f=chunks/$(printf %.2s $h)/$h \
              && chmod u+w $f && printf 'garbage' > $f
            """) == 0)
        let verify = try w.emu("verify")
        #expect(verify.status != 0 && (verify.stdout + verify.stderr).contains("damaged"), "\(verify.stdout)\(verify.stderr)")
        let repair = try w.emu("clean", "--repair")
        #expect(repair.status == 0 && (repair.stdout + repair.stderr).contains("rebuild manifest"), "\(repair.stdout)\(repair.stderr)")
        try w.expectSuccess(w.emu("verify"))
        try w.expectSuccess(w.emu("checkout", "HEAD~1", "--to", w.root + "/restored"))
        expectSameTrees(try describeTree(w.source, ignoring: [RelativePath(".emu")]), try describeTree(w.root + "/restored"))
        let pushed = try w.emu("push", "--json")
        #expect(pushed.status == 0, "\(pushed.stderr)")
    }

    @Test("manifests written whole, as emu wrote them before chunks, are read, and the next push links against them")
    func wholeManifestsStillRead() throws {
        let w = try Self.pushedTree()
        sh(manifestShell + "for m in '\(w.sink)'/.emu/manifests/*; do unchunk \"$m\"; done && rm -r '\(w.sink)/.emu/chunks'")
        try w.expectSuccess(w.emu("verify"))
        let pushed = try w.emu("push", "--json")
        #expect(pushed.status == 0 && pushed.stdout.contains(#""files_linked":3000"#), "\(pushed.stdout)\(pushed.stderr)")
        #expect(try w.emu("diff", "HEAD~1", "HEAD").stdout.isEmpty)
        try w.expectSuccess(w.emu("prune", "TAIL"))
        try w.expectSuccess(w.emu("verify"))
    }
}
