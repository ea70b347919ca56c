import EmuPOSIX
import Foundation
import Glibc
import Testing

/// The defects a new user found on emu's worst days (issue 10): a full disk,
/// a disk full of other data, a power cut before the sync, a planted index
/// entry. Each test failed before its fix.
@Suite("worst days: full disks, power cuts, planted entries")
struct WorstDayTests {

    /// Regular files under the sink's content index.
    static func indexEntries(_ sink: String) -> Int {
        let index = sink + "/.emu/index"
        let buckets = (try? FileManager.default.contentsOfDirectory(atPath: index)) ?? []
        return buckets.filter { $0.count == 2 }.reduce(0) { $0 + ((try? FileManager.default.contentsOfDirectory(atPath: index + "/" + $1).count) ?? 0) }
    }

    @Test("a push that fills the disk gives back everything it wrote, index entries included, and the next push is not blocked",
          Skips.needsRoot("needs root to mount small filesystems"), arguments: [("ext4", 32, 40), ("xfs", 300, 330)])
    func fullDiskGivesSpaceBack(kind: String, megabytes: Int, files: Int) throws {
        let w = try Workspace()
        let fs = try ScratchFilesystem.required(kind, megabytes: megabytes, in: w)
        try w.initialize(sink: "small", on: fs)
        let freeBefore = fs.freeBytes
        writeRandomFiles(w.source + "/data", count: files, kilobytes: 1024)
        let run = try w.emu("push")
        #expect(run.status == 1, "\(run.stderr)")
        #expect(Self.indexEntries(fs.mountPoint + "/sink") == 0, "the failed push left index entries")
        #expect(fs.freeBytes >= freeBefore - 1 << 20, "the failed push did not give its space back")
        sh("rm -f '\(w.source)/data/f'[1-3]*")
        let next = try w.emu("push")
        #expect(next.status == 0, "\(next.stderr)")
    }

    @Test("min-free never wipes the history of a disk that other data fills, and says so",
          Skips.needsRoot("needs root to mount tmpfs"))
    func diskFullOfOtherData() throws {
        let w = try Workspace()
        let fs = try ScratchFilesystem.required("tmpfs", megabytes: 50, in: w)
        try w.initialize(sink: "small", on: fs)
        for i in 1...3 {
            sh("echo \(i) > '\(w.source)/file'")
            try w.expectSuccess(w.emu("push"))
        }
        sh("head -c \(48 << 20) /dev/zero > '\(fs.mountPoint)/other-data'")
        sh("echo 4 > '\(w.source)/file'")
        let run = try w.emu("push")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try w.emu("log", "--short").stdout.split(separator: "\n").count == 4, "snapshots were removed: \(run.stderr)")
        #expect(run.stderr.contains("min-free"), "no warning: \(run.stderr)")
    }

    @Test("a push that cannot fit even in an empty sink deletes nothing to make room",
          Skips.needsRoot("needs root to mount an ext4 image"))
    func noDeletionForAPushThatCannotFit() throws {
        let w = try Workspace()
        let fs = try ScratchFilesystem.required("ext4", megabytes: 64, in: w)
        try w.initialize(sink: "small", on: fs)
        for i in 1...3 {
            writeRandomFiles(w.source + "/v\(i)", count: 2, kilobytes: 1024)
            try w.expectSuccess(w.emu("push"))
        }
        // Even with a floor of one, nothing goes: 75 MiB cannot fit in 64.
        try w.expectSuccess(w.emu("config", "--sink", "small", "retention.min-keep", "1"))
        writeRandomFiles(w.source + "/new", count: 75, kilobytes: 1024)
        let run = try w.emu("push")
        #expect(run.status == 1, "\(run.stderr)")
        #expect(try w.emu("log", "--short").stdout.split(separator: "\n").count == 3, "history deleted for nothing: \(run.stderr)")
    }

    @Test("after a power cut before the sync, every snapshot verifies and the next push equals the source",
          Skips.needsRoot("needs root to mount ext4 images"))
    func powerCutBeforeSync() throws {
        let w = try Workspace()
        // Journal commits every second, as an idle machine's would have by the time the power goes.
        let fs = try ScratchFilesystem.required("ext4", megabytes: 128, in: w, options: "commit=1")
        try w.initialize(sink: "disk", on: fs)
        writeRandomFiles(w.source + "/old", count: 20, kilobytes: 64)
        try w.expectSuccess(w.emu("push"))
        writeRandomFiles(w.source + "/new", count: 74, kilobytes: 16)
        let killed = try w.emu("push", environment: ["EMU_CRASH_AT": "push.before-sync"])
        #expect(killed.killed)
        usleep(2_500_000)
        // The power goes: only what reached the image survives.
        let copy = w.root + "/copy.img", copyMount = w.root + "/copy"
        try FileManager.default.createDirectory(atPath: copyMount, withIntermediateDirectories: false)
        #expect(sh("cp --sparse=always '\(fs.image!)' '\(copy)'; e2fsck -fy '\(copy)' >/dev/null 2>&1; mount -o loop '\(copy)' '\(copyMount)'") == 0)
        defer { sh("umount '\(copyMount)' || umount -l '\(copyMount)'", mayFail: true) }
        try w.expectSuccess(w.emu("sink", "add", "copy", copyMount + "/sink"))
        let verify = try w.emu("verify", "copy")
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        try w.expectSuccess(w.emu("push", "copy"))
        let newest = try #require(try FileManager.default.destinationOfSymbolicLink(atPath: copyMount + "/sink/Latest"))
        expectSameTrees(try describeTree(w.source, ignoring: [RelativePath(".emu")]), try describeTree(copyMount + "/sink/" + newest))
        let again = try w.emu("verify", "copy")
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
    }

    @Test("an index entry replaced by a symlink is never adopted")
    func plantedIndexEntry() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("the same bytes")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        let index = w.sink + "/.emu/index"
        let bucket = try #require(try FileManager.default.contentsOfDirectory(atPath: index).first { $0.count == 2 })
        let entry = try #require(try FileManager.default.contentsOfDirectory(atPath: index + "/" + bucket).first)
        let outside = w.root + "/outside"
        sh("echo outside > '\(outside)' && rm '\(index)/\(bucket)/\(entry)' && ln -s '\(outside)' '\(index)/\(bucket)/\(entry)'")
        sh("cp -a '\(w.source)/a' '\(w.source)/b'")
        try w.expectSuccess(w.emu("push"))
        let tree = try #require(try w.trees().last)
        var st = stat()
        #expect(lstat(tree + "/b", &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG, "b is not a regular file")
        #expect(try String(contentsOfFile: tree + "/b", encoding: .utf8) == "the same bytes")
        let verify = try w.emu("verify")
        #expect(verify.status == 0 || verify.status == 4)
    }

    @Test("a sink moved away while a push runs gets no snapshot behind the user's back, and nothing appears at its old path")
    func sinkMovedAway() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("echo two > '\(w.source)/a'")
        // A pre-push hook runs once the sink is open: it stands for whoever moves the disk's directory meanwhile.
        let hook = w.source + "/.emu/hooks/push/move.pre"
        try "#!/bin/sh\nmv \"$EMU_SINK_PATH\" \"$EMU_SINK_PATH.away\"\n".write(toFile: hook, atomically: true, encoding: .utf8)
        sh("chmod +x '\(hook)'")
        let run = try w.emu("push")
        #expect(run.status == 1, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: w.sink))
        let nodes = try FileManager.default.contentsOfDirectory(atPath: w.sink + ".away/.emu/nodes").filter { !$0.hasPrefix(".") }
        #expect(nodes.count == 1, "a snapshot was published in the moved sink")
        #expect(!FileManager.default.fileExists(atPath: w.sink + ".away/.emu/staging"))
    }
}
